// Best-effort order (backfillSeconds): a create that fits still queues behind a queued job (the webhook); the controller
// lets it start first while the first in line does not fit, and says so in an Event; once the first has waited its window,
// nobody passes it, and it starts before the jobs behind it.
import t from 'tap';
import { eventually } from '../harness/tap.ts';
import { controllerEnv } from '../harness/e2e.ts';
import type { TrainingJob } from '../../api/index.ts';

const namespace = 'backfill';
const { core, custom } = await controllerEnv(t, { namespace, namespaceLabels: { 'ml.example.com/team': namespace }, controller: { queueRetryMs: 1000 } });
const windowSeconds = 20;
await custom.createClusterCustomObject({
  group: 'ml.example.com', version: 'v1', plural: 'trainingpolicies',
  body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name: namespace }, spec: { namespaceSelector: { matchLabels: { 'ml.example.com/team': namespace } }, gpuQuota: 8, overQuota: 'Queue', backfillSeconds: windowSeconds } },
});

const tjApi = { group: 'ml.example.com', version: 'v1', namespace, plural: 'trainingjobs' };
const getJob = async (name: string) => (await custom.getNamespacedCustomObject({ ...tjApi, name })) as TrainingJob;
const create = (name: string, numWorkers: number, runTime: string) =>
  custom.createNamespacedCustomObject({ ...tjApi, body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, namespace }, spec: { model: 'llama', numWorkers, gpusPerWorker: 2, checkpoint: { enabled: false }, hyperparameters: { kwokRunTime: runTime } } } });
const state = async (name: string) => (await getJob(name)).status?.state;

t.test('a small job starts ahead of a big one that does not fit, until the big one has waited its window', async (t) => {
  await create('holder', 2, '60s'); // 4 of 8 GPUs
  await eventually(async () => ((await state('holder')) === 'Running' ? true : undefined), 60_000, 200);
  await create('big', 4, '5s'); // 8 GPUs: waits for the holder
  await eventually(async () => ((await getJob('big')).status?.queue ? true : undefined), 30_000, 200);
  const admitted = (await create('small', 2, '5s')) as TrainingJob; // 4 GPUs: fits next to the holder
  t.equal(admitted.spec.suspend, true, 'the webhook queues it behind big: the controller decides who passes');
  const started = await eventually(async () => ((await state('small')) === 'Running' || (await state('small')) === 'Completed' ? true : undefined), 60_000, 200);
  t.ok(started, 'small started while big waits');
  t.equal(await state('big'), 'Queued', 'big still queued, first in line');
  const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.kind=TrainingJob,involvedObject.name=small' });
  const backfilled = events.items.find((e) => e.reason === 'Backfilled');
  t.comment(`Event: ${backfilled?.reason}: ${backfilled?.message}`);
  t.match(backfilled?.message, /^started ahead of big \(priority 0, 8 GPUs\), the first in line, which cannot start yet; until \S+Z jobs behind it that fit start first$/);

  // Past big's window: a job that would fit next to the holder waits behind it.
  await eventually(async () => ((await state('small')) === 'Completed' ? true : undefined), 60_000, 200);
  const queuedAt = Date.parse((await getJob('big')).status?.conditions?.find((c) => c.type === 'Queued')?.lastTransitionTime ?? '');
  await new Promise((r) => setTimeout(r, Math.max(0, queuedAt + windowSeconds * 1000 + 1000 - Date.now())));
  await create('late', 2, '5s');
  const waiting = await eventually(async () => {
    const j = await getJob('late');
    return j.status?.queue?.reason ? j : undefined;
  }, 30_000, 200);
  t.match(waiting?.status?.queue?.reason, /^1 job ahead; next to start: big \(priority 0, 8 GPUs\)$/, 'late waits behind big, though 4 GPUs are free');
  t.match(waiting?.metadata?.annotations?.['ml.example.com/queued'], /^namespace backfill queue: 1 job ahead of this one, first in line big \(priority 0, 8 GPUs\)$/, 'the webhook queued it, saying why');
  await new Promise((r) => setTimeout(r, 3000));
  t.equal(await state('late'), 'Queued', 'and stays queued');

  const done = await eventually(async () => {
    const jobs = await Promise.all(['holder', 'big', 'small', 'late'].map(getJob));
    return jobs.every((j) => j.status?.state === 'Completed') ? jobs : undefined;
  }, 150_000, 300);
  t.ok(done, 'every job ran to completion');
  const start = (name: string) => Date.parse(done?.find((j) => j.metadata?.name === name)?.status?.startTime ?? '');
  t.ok(start('small') < start('big') && start('big') < start('late'), 'small passed big; late did not', { small: start('small'), big: start('big'), late: start('late') });
});
