// Jobs admitted over quota wait Queued and start in creation order as GPUs free up; rank 0's
// metrics become status progress; an allowed spec change reaches the children.
import t from 'tap';
import { createServer } from 'node:http';
import { eventually } from '../harness/tap.ts';
import { controllerEnv } from '../harness/e2e.ts';
import type { TrainingJob } from '../../api/index.ts';


// Rank 0's metrics endpoint; pods simulated by kwok have no network, so the scrape edge is pointed here.
let exposition = '# HELP training_epoch Current epoch\ntraining_epoch 3\ntraining_total_epochs 10\ntraining_loss 0.42\ntraining_accuracy 0.87\ntraining_samples_per_second 1234.5\n';
const metricsServer = createServer((_req, res) => res.end(exposition)).listen(0, '127.0.0.1');
await new Promise((r) => metricsServer.once('listening', r));
t.teardown(() => metricsServer.close());
const local = `http://127.0.0.1:${(metricsServer.address() as { port: number }).port}`;
const scraped: string[] = [];
const scrape = async (url: string, signal: AbortSignal) => {
  scraped.push(url);
  const res = await fetch(url.replace(/^http:\/\/[^/]+/, local), { signal });
  return res.text();
};
const { core, custom } = await controllerEnv(t, { namespace: 'team-b', namespaceLabels: { 'ml.example.com/team': 'team-b' }, controller: { progressIntervalMs: 500, queueRetryMs: 1000, scrape } });

const namespace = 'team-b';
const tjApi = { group: 'ml.example.com', version: 'v1', namespace, plural: 'trainingjobs' };
const getJob = async (name: string) => (await custom.getNamespacedCustomObject({ ...tjApi, name })) as TrainingJob;
const create = (name: string, runTime: string) =>
  custom.createNamespacedCustomObject({ ...tjApi, body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, namespace }, spec: { model: 'llama', numWorkers: 4, gpusPerWorker: 2, hyperparameters: { learningRate: 0.0002, kwokRunTime: runTime } } } });

t.test('over quota: queued, then started in creation order as GPUs free up', async (t) => {
  await create('first', '8s');
  await create('second', '3s');
  await create('third', '3s');
  const queued = await eventually(async () => {
    const j = await getJob('second');
    return j.status?.state === 'Queued' ? j : undefined;
  }, 30_000, 200);
  t.equal(queued?.spec.suspend, true, 'admitted suspended');
  t.match(queued?.status?.conditions?.find((c) => c.type === 'Queued'), { status: 'True', reason: 'QuotaExceeded' }, 'Queued condition with the reason');
  const finished = await eventually(async () => {
    const states = await Promise.all(['first', 'second', 'third'].map(async (n) => (await getJob(n)).status?.state));
    return states.every((s) => s === 'Completed') ? states : undefined;
  }, 150_000, 300);
  t.same(finished, ['Completed', 'Completed', 'Completed'], 'every job ran to completion');
  // The recorded start times, not the order a poll happened to see them in.
  const jobs = await Promise.all(['first', 'second', 'third'].map(getJob));
  const times = jobs.map((j) => ({ name: j.metadata?.name, start: Date.parse(j.status?.startTime ?? ''), end: Date.parse(j.status?.completionTime ?? '') }));
  t.ok(times.every((x) => Number.isFinite(x.start) && Number.isFinite(x.end)), 'each job records its start and completion', { times });
  t.ok(times[0]!.start < times[1]!.start && times[1]!.start < times[2]!.start, 'started in creation order', { times });
  t.ok(times[0]!.end <= times[1]!.start && times[1]!.end <= times[2]!.start, 'each started once the one before had freed its GPUs', { times });
});

t.test("rank 0's metrics become progress in the status", async (t) => {
  await create('progress', '1h');
  const j = await eventually(async () => {
    const job = await getJob('progress');
    return job.status?.currentEpoch === 3 ? job : undefined;
  }, 60_000, 200);
  t.equal(j?.status?.totalEpochs, 10);
  t.match(j?.status?.progress, /^30/, 'progress 30%');
  t.match(j?.status?.metrics, { loss: 0.42, accuracy: 0.87, throughput: 1234.5 });
  t.ok(scraped.some((u) => /^http:\/\/[\d.]+:8000\/metrics$/.test(u)), `scraped rank 0 on :8000 (${scraped[0]})`);
  exposition = 'training_epoch 7\ntraining_total_epochs 10\n';
  const later = await eventually(async () => ((await getJob('progress')).status?.currentEpoch === 7 ? true : undefined), 30_000, 200);
  t.ok(later, 'follows the job as it trains');
});

t.test('an unreachable metrics endpoint is a condition, not an error loop', async (t) => {
  metricsServer.close();
  const j = await eventually(async () => {
    const job = await getJob('progress');
    const c = job.status?.conditions?.find((x) => x.type === 'ProgressAvailable');
    return c?.status === 'False' ? job : undefined;
  }, 30_000, 200);
  t.ok(j, 'ProgressAvailable=False');
  t.equal(j?.status?.state, 'Running', 'still Running');
});

t.test('a hyperparameter change reaches the ConfigMap', async (t) => {
  await custom.patchNamespacedCustomObject({ ...tjApi, name: 'progress', body: [{ op: 'replace', path: '/spec/hyperparameters/learningRate', value: 0.0001 }] });
  const cm = await eventually(async () => {
    const c = await core.readNamespacedConfigMap({ name: 'progress-config', namespace });
    return c.data?.['hyperparameters.json']?.includes('0.0001') ? c : undefined;
  }, 30_000);
  t.ok(cm, 'hyperparameters.json updated');
});
