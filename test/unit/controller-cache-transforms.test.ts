// Cache transforms: the exact fields each cache keeps, and that trimmed objects drive drift, observation and status as whole ones do.
import t from 'tap';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import { deepEqual } from '../../api/json.ts';
import type { KubeObject } from '../../kube/index.ts';
import { KEPT_METADATA, summarizeManagedFields, trimConfigMap, trimPod, trimService, trimTrainingJob, trimWorkerJob } from '../../controller/trainingjob/cache-transforms.ts';
import { childDrift } from '../../controller/trainingjob/child-drift.ts';
import { desiredChildren, type Child } from '../../controller/trainingjob/desired-children.ts';
import { observeWorkerJob, observeWorkers, WAIT_MESSAGE_MAX } from '../../controller/trainingjob/observed.ts';
import { nextStatus } from '../../controller/trainingjob/state.ts';
import { NOW, trainingJob } from '../fixtures/controller-jobs.ts';

const managedFields = [
  { manager: 'trainingjob-gitops', operation: 'Apply', apiVersion: 'ml.example.com/v1', time: '2025-10-25T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:team': {} } }, 'f:spec': { 'f:numWorkers': {}, 'f:model': {} } } },
  { manager: 'kubectl-edit', operation: 'Update', apiVersion: 'ml.example.com/v1', time: '2025-10-25T10:05:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:suspend': {} } } },
  { manager: 'trainingjob-controller', operation: 'Update', apiVersion: 'ml.example.com/v1', time: '2025-10-25T10:06:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { '.': {}, 'f:state': {} } }, subresource: 'status' },
];

// Server-side extras on every object: what the caches must drop (raw JSON: times are strings, not the typed client's Dates).
const serverMeta = { generateName: 'x-', selfLink: '/x', deletionGracePeriodSeconds: 30, managedFields } as unknown as Record<string, never>;

function serverTrainingJob(): TrainingJob & KubeObject {
  const tj = trainingJob({}, { state: 'Initializing', restarts: 0, observedGeneration: 1, conditions: [] }, { 'ml.example.com/source-path': 'jobs/resnet.yaml' });
  Object.assign(tj.metadata!, serverMeta, {
    resourceVersion: '41', labels: { team: 'team-a' }, finalizers: ['ml.example.com/checkpoint-cleanup'], creationTimestamp: '2025-10-25T10:00:00Z',
    ownerReferences: [{ apiVersion: 'ml.example.com/v1', kind: 'JobRepository', name: 'jobs', uid: 'repo-uid' }],
  });
  return tj as TrainingJob & KubeObject;
}

const job = trainingJob();
const desired = desiredChildren(job, { restartCount: 0 });

// A worker Job as the apiserver and the Job controller return it: defaults filled, status set, managedFields.
function serverJob(): V1Job {
  const j = structuredClone(desired.workerJob) as V1Job;
  j.metadata = { ...j.metadata, ...serverMeta, uid: 'job-uid', resourceVersion: '7', generation: 1, creationTimestamp: '2025-10-25T10:00:01Z' as never, labels: { ...j.metadata?.labels, 'batch.kubernetes.io/controller-uid': 'job-uid' } };
  j.spec!.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': 'job-uid' } };
  j.spec!.template.spec!.dnsPolicy = 'ClusterFirst';
  j.spec!.template.spec!.containers[0]!.imagePullPolicy = 'IfNotPresent';
  j.status = { active: 4, ready: 3, startTime: '2025-10-25T10:00:02Z' as never, conditions: [{ type: 'Suspended', status: 'False', reason: 'JobResumed', lastProbeTime: '2025-10-25T10:00:02Z' as never, lastTransitionTime: '2025-10-25T10:00:02Z' as never }] };
  return j;
}

function serverPod(index: number, phase: string, extra: Partial<V1Pod['status']> = {}): V1Pod {
  const template = desired.workerJob.spec!.template;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      ...serverMeta, name: `resnet-workers-${index}-abcde`, namespace: 'team-a', uid: `pod-${index}`, resourceVersion: String(100 + index), creationTimestamp: '2025-10-25T10:00:03Z' as never,
      labels: { ...template.metadata?.labels, 'batch.kubernetes.io/job-name': 'resnet-workers', 'batch.kubernetes.io/job-completion-index': String(index) },
      annotations: { 'batch.kubernetes.io/job-completion-index': String(index), 'kwok.x-k8s.io/node': 'fake' },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'resnet-workers', uid: 'job-uid', controller: true, blockOwnerDeletion: true }],
    },
    spec: { ...structuredClone(template.spec!), nodeName: `gpu-node-${index}`, serviceAccountName: 'default', tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] },
    status: {
      phase, podIP: `10.244.0.${index + 10}`, hostIP: '10.0.0.1', qosClass: 'Guaranteed', startTime: '2025-10-25T10:00:04Z' as never,
      conditions: [{ type: 'Ready', status: phase === 'Running' ? 'True' : 'False', lastTransitionTime: '2025-10-25T10:00:05Z' as never }, { type: 'PodScheduled', status: 'True' }],
      containerStatuses: [{
        name: 'worker', image: 'ghcr.io/acme/train:1.0', imageID: 'sha256:abc', containerID: 'containerd://1', started: phase === 'Running', ready: phase === 'Running', restartCount: 1,
        state: phase === 'Running' ? { running: { startedAt: '2025-10-25T10:00:06Z' as never } } : { terminated: { exitCode: 137, reason: 'Error', message: '{"checkpoint":"s3://b/ck-3","epoch":3}', finishedAt: '2025-10-25T10:09:00Z' as never, startedAt: '2025-10-25T10:00:06Z' as never } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', message: '{"checkpoint":"s3://b/ck-2","epoch":2}', finishedAt: '2025-10-25T10:05:00Z' as never } },
      }],
      ...extra,
    },
  };
}

const trim = (f: (o: KubeObject) => KubeObject, o: unknown): Record<string, unknown> => f(structuredClone(o) as KubeObject) as unknown as Record<string, unknown>;
const metaKeys = (o: Record<string, unknown>): string[] => Object.keys(o.metadata as object).sort();

t.test('TrainingJobs keep spec, status, the listed metadata and a summary of managedFields (git sync reads it)', async (t) => {
  const whole = serverTrainingJob();
  const kept = trim(trimTrainingJob, whole);
  t.same(Object.keys(kept).sort(), ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  t.same(metaKeys(kept), ['annotations', 'creationTimestamp', 'finalizers', 'generation', 'labels', 'managedFields', 'name', 'namespace', 'ownerReferences', 'resourceVersion', 'uid']);
  t.same(kept.spec, whole.spec, 'all of spec');
  t.same(kept.status, whole.status, 'all of status');
  t.strictSame((kept.metadata as { managedFields: unknown }).managedFields, [
    { manager: 'trainingjob-gitops', operation: 'Apply', time: '2025-10-25T10:00:00Z', fieldsV1: { 'f:metadata': {}, 'f:spec': {} } },
    { manager: 'kubectl-edit', operation: 'Update', time: '2025-10-25T10:05:00Z', fieldsV1: { 'f:spec': {} } },
    { manager: 'trainingjob-controller', operation: 'Update', time: '2025-10-25T10:06:00Z', fieldsV1: { 'f:status': {} } },
  ]);
  const deleting = serverTrainingJob();
  deleting.metadata!.deletionTimestamp = '2025-10-25T11:00:00Z';
  t.equal((trim(trimTrainingJob, deleting).metadata as { deletionTimestamp?: string }).deletionTimestamp, '2025-10-25T11:00:00Z', 'deletionTimestamp kept');
  t.same(KEPT_METADATA.filter((k) => !['deletionTimestamp'].includes(k)).sort(), metaKeys(kept).filter((k) => k !== 'managedFields'));
  t.same(summarizeManagedFields(undefined), undefined);
});

t.test('a trimmed TrainingJob yields the same status and events', async (t) => {
  const whole = serverTrainingJob();
  const observedJob = observeWorkerJob(serverJob());
  const pods = observeWorkers([serverPod(0, 'Running'), serverPod(1, 'Running'), serverPod(2, 'Running'), serverPod(3, 'Pending')], 'resnet-workers');
  const kept = trim(trimTrainingJob, whole) as unknown as TrainingJob;
  t.same(nextStatus(kept, { workerJob: observedJob, workers: pods }, NOW), nextStatus(whole, { workerJob: observedJob, workers: pods }, NOW));
  t.same(desiredChildren(kept, { restartCount: 0 }), desiredChildren(whole, { restartCount: 0 }), 'the same children are built from it');
});

t.test('worker Jobs keep all of spec and status; drift and observation are unchanged', async (t) => {
  const whole = serverJob();
  const kept = trim(trimWorkerJob, whole);
  t.same(Object.keys(kept).sort(), ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  t.same(metaKeys(kept), ['creationTimestamp', 'generation', 'labels', 'name', 'namespace', 'ownerReferences', 'resourceVersion', 'uid']);
  t.same(kept.spec, whole.spec);
  t.same(observeWorkerJob(kept as V1Job), observeWorkerJob(whole));
  t.same(childDrift(desired.workerJob, kept as Child), { fields: [], recreate: false }, 'no drift straight from the server');
  const edits: Array<(j: V1Job) => void> = [
    (j) => { j.spec!.parallelism = 2; },
    (j) => { j.spec!.template.spec!.containers[0]!.image = 'evil:latest'; },
    (j) => { j.metadata!.labels = { team: 'x' }; },
    (j) => { j.metadata!.ownerReferences = []; },
  ];
  for (const edit of edits) {
    const edited = serverJob();
    edit(edited);
    const drift = childDrift(desired.workerJob, edited);
    t.ok(drift.fields.length > 0, `edit found: ${drift.fields.map((f) => f.path).join(', ')}`);
    t.same(childDrift(desired.workerJob, trim(trimWorkerJob, edited) as Child), drift, 'same drift from the trimmed Job');
  }
});

t.test('Services keep spec, ConfigMaps keep data; their drift is unchanged', async (t) => {
  const svc = { ...structuredClone(desired.workerService), metadata: { ...desired.workerService.metadata, ...serverMeta, uid: 's' }, spec: { ...desired.workerService.spec, clusterIPs: ['None'], type: 'ClusterIP' }, status: { loadBalancer: {} } };
  const keptSvc = trim(trimService, svc);
  t.same(Object.keys(keptSvc).sort(), ['apiVersion', 'kind', 'metadata', 'spec']);
  t.same(childDrift(desired.workerService, keptSvc as Child), childDrift(desired.workerService, svc as Child));
  const edited = structuredClone(svc);
  edited.spec.selector = { app: 'other' };
  t.ok(childDrift(desired.workerService, edited as Child).fields.length > 0);
  t.same(childDrift(desired.workerService, trim(trimService, edited) as Child), childDrift(desired.workerService, edited as Child));

  const cm = { ...structuredClone(desired.configMap), metadata: { ...desired.configMap.metadata, ...serverMeta, uid: 'c' } };
  const keptCm = trim(trimConfigMap, cm);
  t.same(Object.keys(keptCm).sort(), ['apiVersion', 'data', 'kind', 'metadata']);
  t.same(keptCm.data, desired.configMap.data);
  const editedCm = structuredClone(cm);
  editedCm.data = { ...editedCm.data, 'hyperparameters.json': '{}' };
  t.ok(childDrift(desired.configMap, editedCm as Child).fields.length > 0);
  t.same(childDrift(desired.configMap, trim(trimConfigMap, editedCm) as Child), childDrift(desired.configMap, editedCm as Child));
});

t.test('Pods keep only what observation, disruption and the progress scrape read', async (t) => {
  const evicted = serverPod(2, 'Failed', { reason: 'Evicted', conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', lastTransitionTime: '2025-10-25T10:08:00Z' as never, message: 'long' }] });
  const kept = trim(trimPod, evicted);
  t.strictSame(kept, {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: 'resnet-workers-2-abcde', namespace: 'team-a', uid: 'pod-2', resourceVersion: '102',
      labels: evicted.metadata!.labels, annotations: evicted.metadata!.annotations, ownerReferences: evicted.metadata!.ownerReferences, creationTimestamp: '2025-10-25T10:00:03Z',
    },
    spec: { nodeName: 'gpu-node-2' },
    status: {
      phase: 'Failed', reason: 'Evicted', podIP: '10.244.0.12',
      conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI' }],
      containerStatuses: [{
        name: 'worker', ready: false, restartCount: 1,
        state: { terminated: evicted.status!.containerStatuses![0]!.state!.terminated },
        lastState: { terminated: evicted.status!.containerStatuses![0]!.lastState!.terminated },
      }],
    },
  });
  const pods = [serverPod(0, 'Running'), serverPod(1, 'Running'), evicted, serverPod(3, 'Failed')];
  const trimmed = pods.map((p) => trim(trimPod, p) as unknown as V1Pod);
  const whole = observeWorkers(pods, 'resnet-workers');
  t.same(observeWorkers(trimmed, 'resnet-workers'), whole, 'the same workers observed');
  t.ok(whole.some((w) => w.disrupted) && whole.some((w) => w.terminationMessage), 'the comparison covers disruption and termination messages');
  const observedJob = observeWorkerJob(serverJob());
  t.same(nextStatus(job, { workerJob: observedJob, workers: observeWorkers(trimmed, 'resnet-workers') }, NOW), nextStatus(job, { workerJob: observedJob, workers: whole }, NOW), 'the same status');
  t.ok(JSON.stringify(trimmed[0]).length * 3 < JSON.stringify(pods[0]).length, `a Running pod shrinks to under a third (${JSON.stringify(trimmed[0]).length} of ${JSON.stringify(pods[0]).length} bytes)`);
});

t.test('Pods keep why they wait: PodScheduled\'s message and containers\' waiting states, capped', async (t) => {
  const notFound = '0/3 nodes are available: persistentvolumeclaim "feature-store-snapshots" not found. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.';
  const unschedulable = serverPod(0, 'Pending', {
    podIP: undefined, containerStatuses: undefined,
    conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: notFound, lastProbeTime: null as never, lastTransitionTime: '2025-10-25T10:00:04Z' as never }],
  });
  delete unschedulable.spec!.nodeName;
  t.same((trim(trimPod, unschedulable).status as { conditions: unknown }).conditions, [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: notFound }]);

  const pulling = serverPod(1, 'Pending', {
    conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [worker]' }, { type: 'PodScheduled', status: 'True' }],
    containerStatuses: [{ name: 'worker', image: 'registry.example.com/ml/xgboost:2.0.3', imageID: '', ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "registry.example.com/ml/xgboost:2.0.3": ${'x'.repeat(2000)}` } } }],
    initContainerStatuses: [{ name: 'done', image: 'busybox', imageID: '', ready: true, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
  });
  const kept = trim(trimPod, pulling).status as { conditions: unknown; containerStatuses: Array<{ state: { waiting: { reason: string; message: string } } }>; initContainerStatuses?: unknown };
  t.same(kept.conditions, [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }, { type: 'PodScheduled', status: 'True' }], 'other conditions\' messages are dropped');
  t.equal(kept.containerStatuses[0]!.state.waiting.reason, 'ImagePullBackOff');
  t.equal(kept.containerStatuses[0]!.state.waiting.message.length, WAIT_MESSAGE_MAX, 'a long message is capped');
  t.equal(kept.initContainerStatuses, undefined, 'init containers that do not wait are dropped');

  const pods = [unschedulable, pulling, serverPod(2, 'Running')];
  const whole = observeWorkers(pods, 'resnet-workers');
  t.same(observeWorkers(pods.map((p) => trim(trimPod, p) as unknown as V1Pod), 'resnet-workers'), whole, 'the same workers observed');
  t.same(whole.map((w) => w.waiting?.reason), ['Unschedulable', 'ImagePullBackOff', undefined], 'the comparison covers both kinds of waiting');
});

t.test('transforms never return the input object and drop nothing a reader expects to be absent', async (t) => {
  const bare = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'n' } };
  const kept = trim(trimPod, bare);
  t.strictSame(kept, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'n' }, spec: {}, status: {} });
  t.notOk(Object.values(kept.metadata as object).includes(undefined), 'no undefined-valued keys');
  t.ok(deepEqual(trim(trimTrainingJob, { metadata: { name: 'a' } }), { metadata: { name: 'a' } }), 'a TrainingJob without spec or status stays without them');
});
