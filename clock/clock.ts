// Time as a dependency: real timers in production, a manual clock in unit tests.
export type TimerHandle = unknown;

export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** Node fires a longer timeout after 1 ms (a 30-day TTL would requeue in a tight loop): longer waits re-arm. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

interface Timers {
  setTimeout(fn: () => void, ms: number): { unref(): unknown };
  clearTimeout(handle: unknown): void;
}

/** Real time; the timer functions and the longest single wait are injectable for a unit test. */
export function createSystemClock(timers: Timers = globalThis as unknown as Timers, maxTimerMs = MAX_TIMER_MS): Clock {
  return {
    now: () => Date.now(),
    setTimer(fn, ms) {
      const handle: { current?: unknown } = {};
      const arm = (remaining: number): void => {
        const wait = Math.min(Math.max(0, remaining), maxTimerMs);
        const t = timers.setTimeout(() => (remaining > maxTimerMs ? arm(remaining - maxTimerMs) : fn()), wait);
        // Timers alone never keep the process alive; the manager's open connections and workers do.
        t.unref();
        handle.current = t;
      };
      arm(ms);
      return handle;
    },
    clearTimer(handle) {
      timers.clearTimeout((handle as { current?: unknown }).current);
    },
  };
}

export const systemClock: Clock = createSystemClock();

/** Resolves after `ms`, or at once (without error) when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clock.clearTimer(handle);
      resolve();
    };
    const handle = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
