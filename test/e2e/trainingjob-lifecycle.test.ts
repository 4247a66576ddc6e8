// A TrainingJob becomes real workloads: controller-manager, scheduler and kwok GPU nodes run the
// Pods; the controller drives the status from Pending to Completed, with Events and metrics.
import t from 'tap';
import type { V1Job } from '@kubernetes/client-node';
import { eventually } from '../harness/tap.ts';
import { controllerEnv } from '../harness/e2e.ts';
import type { TrainingJob } from '../../api/index.ts';

const { core, batch, custom, controller } = await controllerEnv(t, { namespace: 'ml' });
const namespace = 'ml';

const tjApi = { group: 'ml.example.com', version: 'v1', namespace, plural: 'trainingjobs' };
const getJob = async (name: string) => (await custom.getNamespacedCustomObject({ ...tjApi, name })) as TrainingJob;

t.test('4 workers × 2 GPUs: Indexed Job, Pods on GPU nodes, Initializing → Running → Completed', async (t) => {
  await custom.createNamespacedCustomObject({
    ...tjApi,
    body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: 'resnet', namespace }, spec: { model: 'resnet50', dataset: 'imagenet', numWorkers: 4, gpusPerWorker: 2, hyperparameters: { learningRate: 0.001, kwokRunTime: '6s' } } },
  });
  const seen = new Set<string>();
  const done = await eventually(async () => {
    const j = await getJob('resnet');
    if (j.status?.state) seen.add(j.status.state);
    return j.status?.state === 'Completed' || j.status?.state === 'Failed' ? j : undefined;
  }, 120_000, 200);
  t.equal(done?.status?.state, 'Completed', 'completed', { status: done?.status });
  t.ok(seen.has('Initializing') || seen.has('Pending'), `passed through the start (${[...seen].join(' → ')})`);
  t.ok(seen.has('Running'), 'was Running');
  t.match(done?.status?.workers, { succeeded: 4 }, 'four workers succeeded');
  t.ok(done?.status?.startTime && done?.status?.completionTime, 'start and completion times');
  t.equal(done?.status?.observedGeneration, done?.metadata?.generation, 'observedGeneration');

  const job = (await batch.listNamespacedJob({ namespace })).items.find((j: V1Job) => j.metadata?.ownerReferences?.[0]?.name === 'resnet');
  t.equal(job?.spec?.completionMode, 'Indexed');
  t.equal(job?.spec?.parallelism, 4);
  t.equal(job?.spec?.completions, 4);
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${job?.metadata?.name}` });
  t.equal(pods.items.length, 4, 'four pods');
  t.ok(pods.items.every((p) => /^gpu-node-\d$/.test(p.spec?.nodeName ?? '')), 'all scheduled on GPU nodes');
  t.ok(pods.items.every((p) => p.spec?.containers[0]?.resources?.limits?.['nvidia.com/gpu'] === '2'), '2 GPUs each');
  const svc = await core.readNamespacedService({ name: 'resnet-workers', namespace });
  t.equal(svc.spec?.clusterIP, 'None', 'headless Service');
  const cm = await core.readNamespacedConfigMap({ name: 'resnet-config', namespace });
  t.ok(cm.data?.['hyperparameters.json'], 'ConfigMap with hyperparameters');
  const pvc = await core.readNamespacedPersistentVolumeClaim({ name: 'resnet-checkpoints', namespace });
  t.equal(pvc.status?.phase, 'Bound', 'checkpoint PVC bound');

  const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.kind=TrainingJob,involvedObject.name=resnet' });
  const reasons = events.items.map((e) => e.reason);
  t.ok(reasons.includes('Running'), `Running event (${reasons.join(', ')})`);
  t.ok(reasons.includes('Completed'), 'Completed event');
});

t.test('the metrics endpoint exposes the seed metric names with this job in them', async (t) => {
  const text = await (await fetch(`${controller.metricsUrl}/metrics`)).text();
  t.match(text, /trainingjob_completed_total\{namespace="ml"\} 1/);
  t.match(text, /trainingjob_state\{namespace="ml",name="resnet",state="Completed"\} 1/);
  t.match(text, /trainingjob_created_total\{namespace="ml"\} 1/);
  for (const name of ['trainingjob_active_workers', 'trainingjob_allocated_gpus', 'trainingjob_operator_reconcile_duration_seconds', 'trainingjob_failed_total', 'trainingjob_operator_errors_total']) {
    t.match(text, new RegExp(`# HELP ${name} `), name);
  }
  const ready = await fetch(`${controller.healthUrl}/readyz`);
  t.equal(ready.status, 200, 'ready once caches synced');
});
