// A clock that only moves when the test says so, for queue and rate-limiter timing.
import type { Clock } from '../../clock/clock.ts';

export interface ManualClock extends Clock {
  /** Every delay ever passed to setTimer, in order. */
  readonly scheduled: number[];
  pending(): number;
  /** Moves time forward, firing due timers in order and letting promise chains settle after each. */
  advance(ms: number): Promise<void>;
}

export const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

export function manualClock(start = 1_000_000): ManualClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const scheduled: number[] = [];
  return {
    scheduled,
    now: () => now,
    setTimer(fn, ms) {
      scheduled.push(ms);
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimer(handle) {
      timers.delete(handle as number);
    },
    pending: () => timers.size,
    async advance(ms) {
      const target = now + ms;
      for (;;) {
        let next: [number, { at: number; fn: () => void }] | undefined;
        for (const e of timers) if (e[1].at <= target && (!next || e[1].at < next[1].at)) next = e;
        if (!next) break;
        timers.delete(next[0]);
        now = next[1].at;
        next[1].fn();
        await settle();
      }
      now = target;
      await settle();
    },
  };
}
