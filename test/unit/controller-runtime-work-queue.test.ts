// The work queue: dedupe, one worker per key, backoff that grows and caps, forget, draining shutdown.
import t from 'tap';
import { createWorkQueue } from '../../controller/runtime/work-queue.ts';
import { manualClock, settle } from '../harness/manual-clock.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

t.test('a key added many times before it is taken waits once', async (t) => {
  const q = createWorkQueue({ clock: manualClock() });
  for (const k of ['a', 'b', 'a', 'a', 'c', 'b']) q.add(k);
  t.equal(q.len(), 3);
  const seen: string[] = [];
  q.run(1, async (k) => {
    seen.push(k);
  });
  await settle();
  t.same(seen, ['a', 'b', 'c'], 'first-come order, each key once');
  await q.shutDown();
});

t.test('a key runs on one worker at a time and once more if added while running', async (t) => {
  const q = createWorkQueue({ clock: manualClock() });
  const gate = deferred();
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  q.run(4, async (k) => {
    if (k !== 'a') return;
    runs++;
    running++;
    maxRunning = Math.max(maxRunning, running);
    if (runs === 1) await gate.promise;
    running--;
  });
  q.add('a');
  await settle();
  t.equal(runs, 1);
  for (let i = 0; i < 5; i++) q.add('a');
  await settle();
  t.equal(runs, 1, 'no second worker picks up the busy key');
  t.equal(q.len(), 0, 'the re-added key waits outside the queue while its first run is in flight');
  gate.resolve();
  await settle();
  await settle();
  t.equal(runs, 2, 're-run exactly once after the first run finished');
  t.equal(maxRunning, 1);
  await q.shutDown();
});

t.test('other keys proceed while one key is busy', async (t) => {
  const q = createWorkQueue({ clock: manualClock() });
  const gate = deferred();
  const done: string[] = [];
  q.run(2, async (k) => {
    if (k === 'slow') await gate.promise;
    done.push(k);
  });
  q.add('slow');
  q.add('x');
  q.add('y');
  await settle();
  t.same(done, ['x', 'y']);
  gate.resolve();
  await settle();
  t.same(done, ['x', 'y', 'slow']);
  await q.shutDown();
});

t.test('rate-limited retries double from 5 ms and stop at the cap', async (t) => {
  const clock = manualClock();
  const q = createWorkQueue({ clock, jitter: 0 });
  const delays: number[] = [];
  for (let i = 0; i < 22; i++) {
    const before = clock.scheduled.length;
    q.addRateLimited('k');
    delays.push(clock.scheduled[before]!);
    await clock.advance(2_000_000);
  }
  t.same(delays.slice(0, 6), [5, 10, 20, 40, 80, 160]);
  t.equal(Math.max(...delays), 1_000_000, 'capped at 1000 s');
  t.same(delays.slice(-3), [1_000_000, 1_000_000, 1_000_000]);
  t.equal(q.numRequeues('k'), 22);
  q.forget('k');
  t.equal(q.numRequeues('k'), 0);
  q.addRateLimited('k');
  t.equal(clock.scheduled.at(-1), 5, 'after forget the next retry starts from the base delay');
  await q.shutDown();
});

t.test('jitter stretches or shrinks a delay by at most its fraction, never past the cap', async (t) => {
  for (const r of [0, 0.5, 1]) {
    const clock = manualClock();
    const q = createWorkQueue({ clock, jitter: 0.1, random: () => r, maxDelayMs: 100 });
    for (let i = 0; i < 8; i++) {
      q.addRateLimited('k');
      await clock.advance(1000);
    }
    const [first] = clock.scheduled;
    t.ok(first! >= 4.5 && first! <= 5.5, `first delay ${first} within ±10% of 5 ms`);
    t.ok(clock.scheduled.every((d) => d <= 100), 'cap holds with jitter');
    await q.shutDown();
  }
});

t.test('a key becomes ready only after its delay, and the earlier of two delays wins', async (t) => {
  const clock = manualClock();
  const q = createWorkQueue({ clock });
  q.addAfter('a', 100);
  q.addAfter('a', 500);
  await clock.advance(99);
  t.equal(q.len(), 0);
  await clock.advance(1);
  t.equal(q.len(), 1);
  q.addAfter('b', 50);
  q.addAfter('b', 10);
  await clock.advance(10);
  t.equal(q.len(), 2, 'a later shorter delay replaces the pending longer one');
  await q.shutDown();
});

t.test('reconcile outcomes: throw → backoff retry, requeueAfter → delayed re-run and forget, success → forget', async (t) => {
  const clock = manualClock();
  const errors: string[] = [];
  const q = createWorkQueue({ clock, jitter: 0, onError: (k) => errors.push(k) });
  const runs: Record<string, number> = {};
  q.run(1, async (k) => {
    runs[k] = (runs[k] ?? 0) + 1;
    if (k === 'fail' && runs[k]! < 3) throw new Error('transient');
    if (k === 'poll' && runs[k] === 1) return { requeueAfterMs: 1000 };
    return undefined;
  });
  q.add('fail');
  q.add('poll');
  await settle();
  t.equal(q.numRequeues('fail'), 1);
  await clock.advance(5);
  t.equal(runs.fail, 2);
  t.equal(q.numRequeues('fail'), 2);
  await clock.advance(10);
  t.equal(runs.fail, 3);
  t.equal(q.numRequeues('fail'), 0, 'success forgets the failures');
  t.same(errors, ['fail', 'fail']);
  await clock.advance(984);
  t.equal(runs.poll, 1);
  await clock.advance(1);
  t.equal(runs.poll, 2, 'requeueAfter honoured');
  await q.shutDown();
});

t.test('shutdown stops handing out keys, waits for in-flight work, and ignores later adds', async (t) => {
  const clock = manualClock();
  const q = createWorkQueue({ clock });
  const gate = deferred();
  const started: string[] = [];
  const finished: string[] = [];
  q.run(1, async (k) => {
    started.push(k);
    await gate.promise;
    finished.push(k);
  });
  q.add('a');
  q.add('b');
  q.addAfter('c', 100);
  await settle();
  let drained = false;
  const shut = q.shutDown().then(() => (drained = true));
  await settle();
  t.equal(drained, false, 'waits for the in-flight key');
  t.ok(q.isShuttingDown());
  q.add('d');
  gate.resolve();
  await shut;
  t.same(started, ['a'], 'queued keys are not started once shutting down');
  t.same(finished, ['a'], 'the in-flight key finished');
  t.equal(clock.pending(), 0, 'delayed adds were dropped');
});

t.test('metrics hooks see depth, adds, retries and work duration', async (t) => {
  const clock = manualClock();
  const depths: number[] = [];
  let adds = 0;
  let retries = 0;
  const durations: number[] = [];
  const q = createWorkQueue({
    clock,
    metrics: { depth: (d) => depths.push(d), add: () => adds++, retry: () => retries++, workDuration: (_k, s) => durations.push(s) },
  });
  q.add('a');
  q.add('a');
  q.add('b');
  const gate = deferred();
  let failed = false;
  q.run(1, async (k) => {
    if (k === 'a') await gate.promise;
    if (k === 'b' && !failed) {
      failed = true;
      throw new Error('x');
    }
  });
  await settle();
  await clock.advance(250);
  gate.resolve();
  await settle();
  t.equal(adds, 3, 'every add is counted, deduplicated or not');
  t.ok(depths.includes(2) && depths.includes(0), 'depth went 1, 2, then back to 0');
  t.equal(retries, 1);
  t.same(durations.slice(0, 2), [0.25, 0], 'seconds per reconcile');
  await q.shutDown();
});
