// The controller's background event queue: record returns at once, a few are sent at a time, a burst past the
// queue's size drops the oldest, and a drain at shutdown waits for the queue but not longer than it is told to.
import t from 'tap';
import { backgroundEvents, type EventRecorder, type InvolvedObject } from '../../controller/events.ts';

const obj: InvolvedObject = { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', namespace: 'team-a', name: 'bert' };

/** An inner recorder whose sends finish only when released. */
function gated() {
  const sent: string[] = [];
  const waiting: Array<() => void> = [];
  const inner: EventRecorder = {
    record: (_o, _type, reason) =>
      new Promise<void>((resolve) => {
        waiting.push(() => {
          sent.push(reason);
          resolve();
        });
      }),
  };
  const releaseAll = async (): Promise<void> => {
    while (waiting.length) {
      waiting.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { inner, sent, waiting, releaseAll };
}

t.test('record returns before the send; at most `concurrency` sends run at once; drain waits for all', async (t) => {
  const g = gated();
  const events = backgroundEvents(g.inner, { concurrency: 2 });
  for (let i = 0; i < 5; i++) await events.record(obj, 'Normal', `r${i}`, 'm');
  t.equal(g.waiting.length, 2, 'two in flight, three queued');
  const drained = events.drain();
  await g.releaseAll();
  t.equal(await drained, 0, 'nothing dropped');
  t.same(g.sent, ['r0', 'r1', 'r2', 'r3', 'r4'], 'every event sent, in order');
});

t.test('a burst past maxQueued drops the oldest queued events', async (t) => {
  const g = gated();
  const events = backgroundEvents(g.inner, { concurrency: 1, maxQueued: 2 });
  for (let i = 0; i < 5; i++) await events.record(obj, 'Normal', `r${i}`, 'm');
  await g.releaseAll();
  t.same(g.sent, ['r0', 'r3', 'r4'], 'r0 was in flight; of the queue, the newest two remain');
});

t.test('a drain with a timeout stops waiting and reports the unsent events, which are dropped', async (t) => {
  const g = gated();
  const events = backgroundEvents(g.inner, { concurrency: 1 });
  for (let i = 0; i < 4; i++) await events.record(obj, 'Normal', `r${i}`, 'm');
  t.equal(await events.drain(20), 3, 'three never left the queue');
  await g.releaseAll();
  t.same(g.sent, ['r0'], 'only the one in flight was sent; the dropped ones never are');
  t.equal(await events.drain(20), 0, 'and the queue is empty afterwards');
});
