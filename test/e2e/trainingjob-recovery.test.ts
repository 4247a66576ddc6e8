// Failures and recovery with real Jobs and Pods: a failed worker restarts the gang from its
// reported checkpoint, failures past backoffLimit end in Failed, an eviction is not counted.
import t from 'tap';
import type { V1Pod } from '@kubernetes/client-node';
import { eventually } from '../harness/tap.ts';
import { controllerEnv } from '../harness/e2e.ts';
import type { TrainingJob } from '../../api/index.ts';

const { cp, core, batch, custom } = await controllerEnv(t, { namespace: 'recovery' });
const namespace = 'recovery';

const tjApi = { group: 'ml.example.com', version: 'v1', namespace, plural: 'trainingjobs' };
const getJob = async (name: string) => (await custom.getNamespacedCustomObject({ ...tjApi, name })) as TrainingJob;
const create = (name: string, spec: Record<string, unknown>) =>
  custom.createNamespacedCustomObject({ ...tjApi, body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, namespace }, spec: { model: 'bert', gpusPerWorker: 1, ...spec } } });
const waitState = (name: string, states: string[], ms = 90_000) =>
  eventually(async () => {
    const j = await getJob(name);
    return states.includes(j.status?.state ?? '') ? j : undefined;
  }, ms, 200);

async function runningPods(jobName: string, count: number): Promise<V1Pod[] | undefined> {
  return eventually(async () => {
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${jobName}` })).items.filter((p) => p.status?.phase === 'Running');
    return pods.length >= count ? pods : undefined;
  }, 60_000);
}

const rankOf = (p: V1Pod) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'];
const failPod = (pod: V1Pod, code: number, message: string) =>
  cp.kubectl(['annotate', 'pod', pod.metadata!.name!, '-n', namespace, `trainingjob.test/exit-code=${code}`, `trainingjob.test/message=${message}`]);

t.test('a worker failure restarts the gang from the reported checkpoint', async (t) => {
  await create('restart-me', { numWorkers: 2, backoffLimit: 2, hyperparameters: { kwokRunTime: '1h' } });
  await waitState('restart-me', ['Running']);
  const pods = await runningPods('restart-me-workers', 2);
  const rank1 = pods!.find((p) => rankOf(p) === '1')!;
  const annotated = await failPod(rank1, 1, '{"checkpoint":"/checkpoints/epoch-3","epoch":3}');
  t.equal(annotated.code, 0, 'exit code 0', { output: annotated.stderr });
  const restarted = await eventually(async () => {
    const j = await getJob('restart-me');
    return (j.status?.restarts ?? 0) >= 1 && j.status?.state === 'Running' ? j : undefined;
  }, 90_000, 200);
  t.equal(restarted?.status?.restarts, 1, 'one restart counted');
  t.equal(restarted?.status?.lastCheckpoint, '/checkpoints/epoch-3', 'last checkpoint recorded');
  const next = await batch.readNamespacedJob({ name: 'restart-me-workers-r1', namespace });
  const env = next.spec?.template.spec?.containers[0]?.env ?? [];
  t.equal(env.find((e) => e.name === 'RESUME_FROM_CHECKPOINT')?.value, '/checkpoints/epoch-3', 'the new generation resumes from it');
  const removed = await eventually(async () => {
    try {
      await batch.readNamespacedJob({ name: 'restart-me-workers', namespace });
      return undefined;
    } catch {
      return true;
    }
  }, 30_000);
  t.ok(removed, 'the failed generation is removed');
  const reasons = (await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=restart-me' })).items.map((e) => e.reason);
  t.ok(reasons.includes('Restarting'), `Restarting event (${reasons.join(', ')})`);
});

t.test('failures beyond backoffLimit end in Failed with the reason', async (t) => {
  await create('give-up', { numWorkers: 1, backoffLimit: 1, hyperparameters: { kwokRunTime: '1h' } });
  for (const jobName of ['give-up-workers', 'give-up-workers-r1']) {
    const pods = await runningPods(jobName, 1);
    t.ok(pods, `${jobName} running`);
    await failPod(pods![0]!, 2, 'CUDA error: an illegal memory access');
  }
  const failed = await waitState('give-up', ['Failed']);
  t.equal(failed?.status?.state, 'Failed');
  const cond = failed?.status?.conditions?.find((c) => c.type === 'Failed' || c.type === 'Ready');
  t.match(`${cond?.reason} ${cond?.message}`, /BackoffLimitExceeded/, 'reason names the backoff limit', { conditions: failed?.status?.conditions });
  t.equal(failed?.status?.restarts, 1);
});

t.test('an evicted worker does not count as a failure', async (t) => {
  await create('evicted', { numWorkers: 1, backoffLimit: 0, hyperparameters: { kwokRunTime: '1h' } });
  const pods = await runningPods('evicted-workers', 1);
  const pod = pods![0]!;
  await core.createNamespacedPodEviction({ name: pod.metadata!.name!, namespace, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata!.name!, namespace } } });
  const replacement = await eventually(async () => {
    const ps = (await core.listNamespacedPod({ namespace, labelSelector: 'batch.kubernetes.io/job-name=evicted-workers' })).items;
    return ps.find((p) => p.metadata?.name !== pod.metadata?.name && p.status?.phase === 'Running');
  }, 60_000);
  t.ok(replacement, 'the Job replaced the evicted pod');
  const j = await getJob('evicted');
  t.not(j.status?.state, 'Failed', 'not failed despite backoffLimit 0');
  t.equal(j.status?.restarts ?? 0, 0, 'no restart counted');
});

t.test('suspend stops the workers, resume brings them back', async (t) => {
  await create('pausable', { numWorkers: 2, hyperparameters: { kwokRunTime: '1h' } });
  await waitState('pausable', ['Running']);
  await custom.patchNamespacedCustomObject({ ...tjApi, name: 'pausable', body: [{ op: 'add', path: '/spec/suspend', value: true }] });
  const suspended = await waitState('pausable', ['Suspended']);
  t.equal(suspended?.status?.state, 'Suspended');
  const job = await batch.readNamespacedJob({ name: 'pausable-workers', namespace });
  t.equal(job.spec?.suspend, true, 'the batch Job is suspended');
  const gone = await eventually(async () => ((await core.listNamespacedPod({ namespace, labelSelector: 'batch.kubernetes.io/job-name=pausable-workers' })).items.length === 0 ? true : undefined), 60_000);
  t.ok(gone, 'its pods are gone');
  await custom.patchNamespacedCustomObject({ ...tjApi, name: 'pausable', body: [{ op: 'replace', path: '/spec/suspend', value: false }] });
  const resumed = await waitState('pausable', ['Running']);
  t.equal(resumed?.status?.state, 'Running', 'running again');
});

t.test('a child deleted by hand comes back; deleting the job removes every child', async (t) => {
  await create('owned', { numWorkers: 1, hyperparameters: { kwokRunTime: '1h' } });
  await waitState('owned', ['Running', 'Initializing']);
  await core.deleteNamespacedConfigMap({ name: 'owned-config', namespace });
  await core.deleteNamespacedService({ name: 'owned-workers', namespace });
  const back = await eventually(async () => {
    await core.readNamespacedConfigMap({ name: 'owned-config', namespace });
    return core.readNamespacedService({ name: 'owned-workers', namespace });
  }, 30_000);
  t.ok(back, 'ConfigMap and Service restored');
  await custom.deleteNamespacedCustomObject({ ...tjApi, name: 'owned' });
  const cleaned = await eventually(async () => {
    const jobs = (await batch.listNamespacedJob({ namespace })).items.filter((j) => j.metadata?.name?.startsWith('owned-'));
    const cms = (await core.listNamespacedConfigMap({ namespace })).items.filter((c) => c.metadata?.name === 'owned-config');
    return jobs.length === 0 && cms.length === 0 ? true : undefined;
  }, 60_000);
  t.ok(cleaned, 'garbage collection removed the children (owner references)');
});
