// settleAll: concurrent calls in a reconcile finish before it returns, and fail as one-by-one awaiting would.
import t from 'tap';
import { settleAll } from '../../controller/runtime/settle-all.ts';

const after = <T>(ms: number, value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms));
const failAfter = (ms: number, message: string): Promise<never> => new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms));

t.test('values come back in the calls\' order, whatever order they finish in', async (t) => {
  t.same(await settleAll([after(30, 'pvc'), after(10, 'configmap'), after(20, 'service')]), ['pvc', 'configmap', 'service']);
  t.same(await settleAll([]), []);
});

t.test('runs the calls at once: three 50 ms calls take about 50 ms, not 150', async (t) => {
  const started = performance.now();
  await settleAll([after(50, 1), after(50, 2), after(50, 3)]);
  const took = performance.now() - started;
  t.ok(took < 120, `took ${took.toFixed(0)} ms`);
});

t.test('a failure is thrown only after every call has finished', async (t) => {
  let slowDone = false;
  const slow = after(40, 'slow').then((v) => ((slowDone = true), v));
  await t.rejects(settleAll([failAfter(5, 'fast failure'), slow]), { message: 'fast failure' });
  t.ok(slowDone, 'the slow call had finished when the error surfaced');
});

t.test('of several failures, the first in the calls\' order wins, not the first to happen', async (t) => {
  await t.rejects(settleAll([after(5, 'ok'), failAfter(40, 'configmap refused'), failAfter(5, 'service refused')]), { message: 'configmap refused' });
});
