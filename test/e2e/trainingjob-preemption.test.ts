// Preemption within a namespace, where the policy allows it: a higher-priority job suspends a lower one (its workers
// stop, it goes back to the queue with the reason), starts, and the preempted job resumes once the GPUs are free.
import t from 'tap';
import { SchedulingV1Api } from '@kubernetes/client-node';
import { eventually } from '../harness/tap.ts';
import { controllerEnv } from '../harness/e2e.ts';
import type { TrainingJob } from '../../api/index.ts';

const namespace = 'team-p';
const { kc, batch, core, custom, controller } = await controllerEnv(t, { namespace, namespaceLabels: { 'ml.example.com/team': 'team-p' }, controller: { queueRetryMs: 1000 } });
const scheduling = kc.makeApiClient(SchedulingV1Api);
for (const [name, value] of [['research-high', 5000], ['research-low', 100]] as const) {
  await scheduling.createPriorityClass({ body: { metadata: { name }, value } });
}
await custom.createClusterCustomObject({
  group: 'ml.example.com', version: 'v1', plural: 'trainingpolicies',
  body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name: 'team-p' }, spec: { namespaceSelector: { matchLabels: { 'ml.example.com/team': 'team-p' } }, gpuQuota: 8, overQuota: 'Queue', preemption: { withinNamespace: 'LowerPriority' } } },
});

const tjApi = { group: 'ml.example.com', version: 'v1', namespace, plural: 'trainingjobs' };
const getJob = async (name: string) => (await custom.getNamespacedCustomObject({ ...tjApi, name })) as TrainingJob;
const create = (name: string, runTime: string, priorityClassName: string) =>
  custom.createNamespacedCustomObject({ ...tjApi, body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, namespace }, spec: { model: 'llama', numWorkers: 4, gpusPerWorker: 2, priorityClassName, checkpoint: { enabled: false }, hyperparameters: { kwokRunTime: runTime } } } });
const stateOf = async (name: string) => (await getJob(name)).status?.state;

t.test('a higher-priority job preempts a lower one, which resumes when the GPUs are free', async (t) => {
  await create('training-low', '1h', 'research-low');
  await eventually(async () => ((await stateOf('training-low')) === 'Running' ? true : undefined), 60_000, 200);
  await create('urgent-high', '4s', 'research-high');

  const preempted = await eventually(async () => {
    const j = await getJob('training-low');
    return j.status?.state === 'Queued' ? j : undefined;
  }, 30_000, 200);
  t.ok(preempted, 'the lower-priority job is back in the queue');
  t.equal(preempted?.spec.suspend, true);
  t.equal(preempted?.metadata?.annotations?.['ml.example.com/queued'], 'preempted by urgent-high (priority 5000 > 100)');
  const workerJob = await batch.readNamespacedJob({ name: 'training-low-workers', namespace });
  t.equal(workerJob.spec?.suspend, true, 'its worker Job is suspended: the workers get SIGTERM and checkpoint');

  const ran = await eventually(async () => ((await stateOf('urgent-high')) === 'Completed' ? true : undefined), 90_000, 300);
  t.ok(ran, 'the higher-priority job ran to completion');
  const resumed = await eventually(async () => ((await stateOf('training-low')) === 'Running' ? true : undefined), 60_000, 300);
  t.ok(resumed, 'the preempted job started again once the GPUs were free');
  const high = await getJob('urgent-high');
  const low = await getJob('training-low');
  t.ok(Date.parse(high.status?.completionTime ?? '') <= Date.parse(low.status?.conditions?.find((c) => c.type === 'Running' && c.status === 'True')?.lastTransitionTime ?? ''), 'it resumed only after the preemptor finished');

  const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=training-low' });
  const warning = events.items.find((e) => e.reason === 'Preempted');
  t.equal(warning?.type, 'Warning');
  t.match(warning?.message, /^preempted by urgent-high \(priority 5000 > 100\): workers report their checkpoint on SIGTERM and resume from it when capacity returns; at most \d+\.\d{4} GPU-hours since the start$/);
  const metrics = await (await fetch(`${controller.metricsUrl}/metrics`)).text();
  t.match(metrics, /trainingjob_preemptions_total\{namespace="team-p",reason="LowerPriority"\} 1\n/, 'counted once');
  t.match(metrics, /trainingjob_preemption_lost_gpu_hours_total\{namespace="team-p"\} \d/);
});

t.test('equal priority never preempts: the job waits its turn', async (t) => {
  await create('peer-low', '2s', 'research-low');
  const waiting = await eventually(async () => {
    const j = await getJob('peer-low');
    return j.status?.queue ? j : undefined;
  }, 30_000, 200);
  t.equal(waiting?.status?.state, 'Queued');
  t.equal(waiting?.status?.queue?.reason, 'namespace team-p GPU quota 8: 8 in use, this job asks 8 (4 workers × 2 GPUs)');
  t.equal(await stateOf('training-low'), 'Running', 'the running job of the same priority keeps running');
});
