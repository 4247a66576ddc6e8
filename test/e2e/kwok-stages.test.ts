// The simulated pod lifecycle the e2e tier relies on: run time from a hyperparameter env var,
// failures with an exit code and termination message on demand.
import t from 'tap';
import { BatchV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { controlPlaneFor, eventually } from '../harness/tap.ts';

const cp = await controlPlaneFor(t, { workloads: { nodes: 1, gpusPerNode: 8 } });
const batch = cp.kubeConfig().makeApiClient(BatchV1Api);
const core = cp.kubeConfig().makeApiClient(CoreV1Api);
const namespace = 'default';
await eventually(() => core.readNamespacedServiceAccount({ name: 'default', namespace }));

async function runningPod(job: string): Promise<V1Pod | undefined> {
  return eventually(async () => {
    const pods = await core.listNamespacedPod({ namespace, labelSelector: `job-name=${job}` });
    return pods.items.find((p) => p.status?.phase === 'Running');
  }, 60_000);
}

t.test('HYPERPARAM_KWOK_RUN_TIME keeps the pod running, then a trainingjob.test/exit-code annotation fails it', async (t) => {
  await batch.createNamespacedJob({
    namespace,
    body: { metadata: { name: 'long' }, spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'w', image: 'x', env: [{ name: 'HYPERPARAM_KWOK_RUN_TIME', value: '10m' }] }] } } } },
  });
  const pod = await runningPod('long');
  t.ok(pod, 'pod is running');
  // A neighbour with a 1 s run time: once kwok has finished it, kwok was at work while 'long' kept running.
  await batch.createNamespacedJob({
    namespace,
    body: { metadata: { name: 'neighbour' }, spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'w', image: 'x', env: [{ name: 'HYPERPARAM_KWOK_RUN_TIME', value: '1s' }] }] } } } },
  });
  const done = await eventually(async () => {
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'job-name=neighbour' });
    return pods.items.find((p) => p.status?.phase === 'Succeeded');
  }, 60_000);
  t.ok(done, 'kwok ran its neighbour to completion meanwhile');
  const still = await core.readNamespacedPod({ name: pod!.metadata!.name!, namespace });
  t.equal(still.status?.phase, 'Running', 'still running: its 10 min run time holds');
  const annotated = await cp.kubectl(['annotate', 'pod', pod!.metadata!.name!, '-n', namespace, 'trainingjob.test/exit-code=3', 'trainingjob.test/message={"checkpoint":"/ckpt/epoch-2","epoch":2}']);
  t.equal(annotated.code, 0, 'exit code 0', { output: annotated.stderr });
  const failed = await eventually(async () => {
    const p = await core.readNamespacedPod({ name: pod!.metadata!.name!, namespace });
    return p.status?.phase === 'Failed' ? p : undefined;
  }, 30_000);
  const term = failed?.status?.containerStatuses?.[0]?.state?.terminated;
  t.equal(term?.exitCode, 3);
  t.equal(term?.message, '{"checkpoint":"/ckpt/epoch-2","epoch":2}');
});

t.test('without a run time a Job pod completes within seconds', async (t) => {
  await batch.createNamespacedJob({ namespace, body: { metadata: { name: 'short' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'w', image: 'x' }] } } } } });
  const done = await eventually(async () => {
    const j = await batch.readNamespacedJob({ name: 'short', namespace });
    return j.status?.succeeded ? j : undefined;
  }, 30_000);
  t.equal(done?.status?.succeeded, 1);
});
