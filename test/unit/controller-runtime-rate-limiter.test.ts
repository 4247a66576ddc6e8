// The client token bucket: burst at once, then one request per 1/qps, first come first served.
import t from 'tap';
import { createRateLimiter } from '../../kube/rate-limiter.ts';
import { manualClock, settle } from '../harness/manual-clock.ts';

t.test('the burst goes at once, then requests are spaced at 1/qps', async (t) => {
  const clock = manualClock();
  const rl = createRateLimiter({ qps: 5, burst: 10, clock });
  const done: number[] = [];
  for (let i = 0; i < 13; i++) void rl.acquire().then(() => done.push(i));
  await settle();
  t.equal(done.length, 10, 'burst of 10 immediately');
  await clock.advance(199);
  t.equal(done.length, 10);
  await clock.advance(1);
  t.equal(done.length, 11, 'the 11th after 200 ms');
  await clock.advance(400);
  t.same(done, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 'first come, first served');
});

t.test('a quiet period refills up to the burst, not beyond', async (t) => {
  const clock = manualClock();
  const rl = createRateLimiter({ qps: 10, burst: 3, clock });
  for (let i = 0; i < 3; i++) t.ok(rl.tryAcquire());
  t.notOk(rl.tryAcquire());
  await clock.advance(100);
  t.ok(rl.tryAcquire(), 'one token per 100 ms at 10 qps');
  await clock.advance(60_000);
  let n = 0;
  while (rl.tryAcquire()) n++;
  t.equal(n, 3);
});

t.test('sustained rate over time matches qps', async (t) => {
  const clock = manualClock();
  const rl = createRateLimiter({ qps: 50, burst: 1, clock });
  let done = 0;
  for (let i = 0; i < 500; i++) void rl.acquire().then(() => done++);
  await clock.advance(5000);
  t.ok(done >= 250 && done <= 252, `about 250 in 5 s at 50 qps (got ${done})`);
});

t.test('an aborted wait rejects and gives its token back', async (t) => {
  const clock = manualClock();
  const rl = createRateLimiter({ qps: 1, burst: 1, clock });
  await rl.acquire();
  const ctrl = new AbortController();
  const waiting = rl.acquire(ctrl.signal);
  ctrl.abort(new Error('shutdown'));
  await t.rejects(waiting, { message: 'shutdown' });
  await clock.advance(1000);
  t.ok(rl.tryAcquire(), 'the token the aborted caller reserved is available again');
});

t.test('limit runs the call after a token; qps 0 means unlimited', async (t) => {
  const clock = manualClock();
  const off = createRateLimiter({ qps: 0, burst: 0, clock });
  let granted = 0;
  for (let i = 0; i < 1000; i++) if (off.tryAcquire()) granted++;
  t.equal(granted, 1000);
  const rl = createRateLimiter({ qps: 2, burst: 1, clock });
  t.equal(await rl.limit(async () => 42), 42);
  let second = false;
  void rl.limit(async () => (second = true));
  await settle();
  t.equal(second, false);
  await clock.advance(500);
  t.equal(second, true);
});
