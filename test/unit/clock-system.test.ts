// The system clock's timers: a wait longer than one Node timeout can hold is split and re-armed, never cut to 1 ms.
import t from 'tap';
import { createSystemClock, MAX_TIMER_MS } from '../../clock/clock.ts';

function recordingTimers() {
  const armed: { fn: () => void; ms: number; cleared: boolean }[] = [];
  return {
    armed,
    setTimeout(fn: () => void, ms: number) {
      const timer = { fn, ms, cleared: false };
      armed.push(timer);
      return Object.assign(timer, { unref: () => timer });
    },
    clearTimeout(handle: unknown) {
      (handle as { cleared: boolean }).cleared = true;
    },
  };
}

t.test('a wait longer than the limit fires once, after re-arming for the remainder', async (t) => {
  const timers = recordingTimers();
  const clock = createSystemClock(timers, 40);
  let fired = 0;
  clock.setTimer(() => fired++, 100);
  t.same(timers.armed.map((a) => a.ms), [40], 'first wait is the limit');
  timers.armed[0]!.fn();
  t.same(timers.armed.map((a) => a.ms), [40, 40]);
  timers.armed[1]!.fn();
  t.same(timers.armed.map((a) => a.ms), [40, 40, 20], 'then the remainder');
  t.equal(fired, 0, 'not fired before the whole wait');
  timers.armed[2]!.fn();
  t.equal(fired, 1);
});

t.test('clearing stops the wait whichever part is armed', async (t) => {
  const timers = recordingTimers();
  const clock = createSystemClock(timers, 40);
  let fired = 0;
  const handle = clock.setTimer(() => fired++, 100);
  timers.armed[0]!.fn();
  clock.clearTimer(handle);
  t.equal(timers.armed[1]!.cleared, true, 'the re-armed part is the one cleared');
  t.equal(fired, 0);
});

t.test('the limit is the largest delay Node honours', async (t) => {
  t.equal(MAX_TIMER_MS, 2_147_483_647);
  const timers = recordingTimers();
  createSystemClock(timers).setTimer(() => undefined, 30 * 24 * 3600 * 1000);
  t.equal(timers.armed[0]!.ms, MAX_TIMER_MS, 'a 30-day wait is armed in parts, not passed to setTimeout whole');
});
