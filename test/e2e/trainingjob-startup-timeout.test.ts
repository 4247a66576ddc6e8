// All or nothing: a started job whose workers cannot all run within the policy's startupTimeoutSeconds gives its
// GPUs back and waits, backing off, so the job queued behind it starts instead of waiting on a half-started one; and
// a queued job starts only when every worker fits the GPUs the nodes have free.
import t from 'tap';
import { eventually } from '../harness/tap.ts';
import { controllerEnv } from '../harness/e2e.ts';
import type { TrainingJob } from '../../api/index.ts';

const namespace = 'team-s';
const { batch, core, custom, controller } = await controllerEnv(t, { namespace, namespaceLabels: { 'ml.example.com/team': 'team-s' }, controller: { queueRetryMs: 1000 } });
await custom.createClusterCustomObject({
  group: 'ml.example.com', version: 'v1', plural: 'trainingpolicies',
  body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name: 'team-s' }, spec: { namespaceSelector: { matchLabels: { 'ml.example.com/team': 'team-s' } }, gpuQuota: 8, overQuota: 'Queue', startupTimeoutSeconds: 5 } },
});

const tjApi = { group: 'ml.example.com', version: 'v1', namespace, plural: 'trainingjobs' };
const getJob = async (name: string) => (await custom.getNamespacedCustomObject({ ...tjApi, name })) as TrainingJob;
const create = (name: string, runTime: string, nodeSelector?: Record<string, string>) =>
  custom.createNamespacedCustomObject({ ...tjApi, body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, namespace }, spec: { model: 'llama', numWorkers: 4, gpusPerWorker: 2, checkpoint: { enabled: false }, ...(nodeSelector ? { nodeSelector } : {}), hyperparameters: { kwokRunTime: runTime } } } });

t.test('a job whose workers cannot all start gives its GPUs to the next one and retries with backoff', async (t) => {
  await create('stuck', '3s', { 'gpu.example.com/pool': 'does-not-exist' });
  await eventually(async () => ((await getJob('stuck')).status?.state === 'Initializing' ? true : undefined), 30_000, 200);
  await create('ready', '3s');
  const requeued = await eventually(async () => {
    const j = await getJob('stuck');
    return j.status?.state === 'Queued' ? j : undefined;
  }, 30_000, 200);
  t.ok(requeued, 'the stuck job went back to the queue');
  const annotations = requeued?.metadata?.annotations ?? {};
  t.match(annotations['ml.example.com/queued'], /^not every worker was running 5s after the start \(0 of 4 workers running, Job stuck-workers: worker \d unschedulable: 0\/2 nodes are available: .*node\(s\) didn't match Pod's node affinity\/selector.*\): GPUs released, start 1 failed, next try in 10s$/, "in the scheduler's words");
  t.equal(annotations['ml.example.com/startup-attempts'], '1');
  t.ok(Date.parse(annotations['ml.example.com/retry-after'] ?? '') > Date.now() - 10_000, 'retry-after set ahead');
  t.equal((await batch.readNamespacedJob({ name: 'stuck-workers', namespace })).spec?.suspend, true, 'its worker Job is suspended: its pods and GPUs are released');

  const ran = await eventually(async () => ((await getJob('ready')).status?.state === 'Completed' ? true : undefined), 90_000, 300);
  t.ok(ran, 'the job queued behind it ran instead of waiting on a half-started one');
  const again = await eventually(async () => {
    const j = await getJob('stuck');
    return Number(j.metadata?.annotations?.['ml.example.com/startup-attempts']) >= 2 ? j : undefined;
  }, 60_000, 300);
  t.ok(again, 'after its backoff it tried again, and failed again');
  t.match(again?.metadata?.annotations?.['ml.example.com/queued'], /start 2 failed, next try in 20s$/, 'the backoff doubled');
  const backingOff = await eventually(async () => {
    const j = await getJob('stuck');
    return j.status?.queue?.reason.startsWith('backing off after') ? j : undefined;
  }, 30_000, 200);
  t.match(backingOff?.status?.queue?.reason, /^backing off after 2 failed starts until \S+Z$/, 'status.queue says it backs off, until when');

  const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=stuck' });
  t.ok(events.items.some((e) => e.reason === 'StartupTimeout' && e.type === 'Warning'), 'a StartupTimeout warning');
  const metrics = await (await fetch(`${controller.metricsUrl}/metrics`)).text();
  t.match(metrics, /trainingjob_startup_timeouts_total\{namespace="team-s"\} [2-9]/);
});

t.test('a first in line the webhook refuses for something other than capacity steps aside for the jobs behind it', async (t) => {
  const labelled = (name: string, runTime: string, labels: Record<string, string>) =>
    custom.createNamespacedCustomObject({ ...tjApi, body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, namespace, labels }, spec: { model: 'llama', numWorkers: 4, gpusPerWorker: 2, checkpoint: { enabled: false }, hyperparameters: { kwokRunTime: runTime } } } });
  await create('holder', '1h');
  await eventually(async () => ((await getJob('holder')).status?.state === 'Running' ? true : undefined), 60_000, 200);
  await create('unlabelled', '3s');
  await labelled('labelled', '3s', { 'cost-center': 'ml-1' });
  await eventually(async () => ((await getJob('labelled')).status?.queue?.position === 2 ? true : undefined), 30_000, 200);
  // A policy added after both were admitted: the first in line no longer passes it.
  await custom.createClusterCustomObject({
    group: 'ml.example.com', version: 'v1', plural: 'trainingpolicies',
    body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name: 'team-s-labels' }, spec: { namespaceSelector: { matchLabels: { 'ml.example.com/team': 'team-s' } }, requiredLabels: ['cost-center'] } },
  });
  await new Promise((r) => setTimeout(r, 2500)); // the webhook's policy cache (2 s)
  await custom.deleteNamespacedCustomObject({ ...tjApi, name: 'holder' });
  const ran = await eventually(async () => (['Running', 'Completed'].includes((await getJob('labelled')).status?.state ?? '') ? true : undefined), 60_000, 300);
  t.ok(ran, 'the job behind started');
  const aside = await getJob('unlabelled');
  t.equal(aside.status?.state, 'Queued', 'the refused one still waits');
  t.match(aside.status?.queue?.reason, /^refused when starting: (\d problems: )?metadata\.labels\[cost-center\]: required label is missing \(TrainingPolicy team-s-labels\).*; next try after \S+Z$/, "in the webhook's words, with when it asks again");
  const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=unlabelled' });
  t.equal(events.items.filter((e) => e.reason === 'StartRefused').length, 1, 'one StartRefused warning');
});

t.test('the first in line starts only when every worker fits the GPUs the nodes have free', async (t) => {
  for (const name of ['stuck', 'unlabelled']) await custom.deleteNamespacedCustomObject({ ...tjApi, name });
  const sized = (ns: string, name: string, workers: number, runTime: string) =>
    custom.createNamespacedCustomObject({ group: 'ml.example.com', version: 'v1', namespace: ns, plural: 'trainingjobs', body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, namespace: ns, labels: { 'cost-center': 'ml-1' } }, spec: { model: 'llama', numWorkers: workers, gpusPerWorker: 2, checkpoint: { enabled: false }, hyperparameters: { kwokRunTime: runTime } } } });
  const running = (ns: string, name: string) => eventually(async () => ((await custom.getNamespacedCustomObject({ group: 'ml.example.com', version: 'v1', namespace: ns, plural: 'trainingjobs', name })) as TrainingJob).status?.state === 'Running' ? true : undefined, 60_000, 200);
  await core.createNamespace({ body: { metadata: { name: 'fill' } } });
  await eventually(() => core.readNamespacedServiceAccount({ name: 'default', namespace: 'fill' }));
  await sized(namespace, 'holder2', 3, '1h');
  await running(namespace, 'holder2');
  await sized(namespace, 'roomy', 4, '3s');
  await eventually(async () => ((await getJob('roomy')).status?.state === 'Queued' ? true : undefined), 30_000, 200);
  // Another namespace, with no quota, takes 10 of the 16 GPUs: 6 stay free, for 3 of roomy's 4 workers.
  await sized('fill', 'filler', 5, '1h');
  await running('fill', 'filler');
  await custom.deleteNamespacedCustomObject({ ...tjApi, name: 'holder2' });
  const held = await eventually(async () => {
    const j = await getJob('roomy');
    // Once holder2's pods are gone: until then the nodes have less room still.
    return /^quota allows it, but the nodes have room for 3 /.test(j.status?.queue?.reason ?? '') ? j : undefined;
  }, 30_000, 200);
  t.equal(held?.status?.state, 'Queued', 'its quota has room, but it does not start');
  t.match(held?.status?.queue?.reason, /^quota allows it, but the nodes have room for 3 of its 4 workers \(2 GPUs each\) now: free GPUs \S+ [46], \S+ [24]$/, 'the nodes\' free GPUs, in words');
  t.equal((await batch.listNamespacedJob({ namespace, labelSelector: 'ml.example.com/trainingjob=roomy' })).items.length, 0, 'no worker Job: no pod holds a GPU half-started');
  await custom.deleteNamespacedCustomObject({ group: 'ml.example.com', version: 'v1', namespace: 'fill', plural: 'trainingjobs', name: 'filler' });
  const ran = await eventually(async () => ((await getJob('roomy')).status?.state === 'Completed' ? true : undefined), 60_000, 300);
  t.ok(ran, 'once the GPUs are free, it starts and runs whole');
  t.equal(Number((await getJob('roomy')).metadata?.annotations?.['ml.example.com/startup-attempts'] ?? 0), 0, 'without a failed start');
});
