// childDrift: edits to fields we own are found, server defaults and other writers' extras are not drift.
import t from 'tap';
import type { V1ConfigMap, V1Job, V1PersistentVolumeClaim, V1Service } from '@kubernetes/client-node';
import { childDrift, withLiveResumeEnv } from '../../controller/trainingjob/child-drift.ts';
import { desiredChildren } from '../../controller/trainingjob/desired-children.ts';
import { trainingJob } from '../fixtures/controller-jobs.ts';

const desired = desiredChildren(trainingJob({ resources: { requests: { cpu: '1000m', memory: '2048Mi' } }, dataVolume: { claimName: 'data' } }), { restartCount: 0 });

// What the apiserver and the Job controller hand back: defaults filled, quantities canonical, omitempty applied.
function fromServer<T>(child: T, edit: (c: T) => void = () => {}): T {
  const c = structuredClone(child) as T;
  edit(c);
  return c;
}

function serverJob(): V1Job {
  return fromServer(desired.workerJob, (j) => {
    j.metadata = { ...j.metadata, uid: 'job-uid', resourceVersion: '7', generation: 1, labels: { ...j.metadata?.labels, 'batch.kubernetes.io/controller-uid': 'job-uid' } };
    const spec = j.spec!;
    spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': 'job-uid' } };
    spec.manualSelector = false;
    spec.template.metadata!.labels = { ...spec.template.metadata?.labels, 'batch.kubernetes.io/job-name': 'resnet-workers', 'controller-uid': 'job-uid' };
    const pod = spec.template.spec!;
    pod.dnsPolicy = 'ClusterFirst';
    pod.schedulerName = 'default-scheduler';
    pod.terminationGracePeriodSeconds = 30;
    pod.volumes = pod.volumes?.map((v) => (v.configMap ? { ...v, configMap: { ...v.configMap, defaultMode: 420 } } : v));
    const c = pod.containers[0]!;
    c.imagePullPolicy = 'IfNotPresent';
    c.env = c.env?.map((e) => (e.valueFrom?.fieldRef ? { ...e, valueFrom: { fieldRef: { ...e.valueFrom.fieldRef, apiVersion: 'v1' } } } : e));
    c.resources = { ...c.resources, requests: { ...c.resources?.requests, cpu: '1', memory: '2Gi' } };
    j.status = { active: 4, ready: 4 };
  });
}

t.test('a child straight from the server has no drift', async (t) => {
  t.same(childDrift(desired.workerJob, serverJob()), { fields: [], recreate: false });
  const svc = fromServer(desired.workerService, (s) => {
    s.spec!.clusterIPs = ['None'];
    s.spec!.sessionAffinity = 'None';
    s.spec!.type = 'ClusterIP';
    s.spec!.ipFamilies = ['IPv4'];
  });
  t.same(childDrift(desired.workerService, svc), { fields: [], recreate: false });
  t.same(childDrift(desired.configMap, fromServer(desired.configMap)), { fields: [], recreate: false });
  const pvc = fromServer(desired.checkpointPVC!, (p) => {
    p.spec!.storageClassName = 'standard';
    p.spec!.volumeMode = 'Filesystem';
    p.spec!.volumeName = 'pv-1';
  });
  t.same(childDrift(desired.checkpointPVC!, pvc), { fields: [], recreate: false });
});

t.test('labels and annotations: ours must be there, others may be added', async (t) => {
  const extra = fromServer(desired.configMap, (c) => { c.metadata!.labels = { ...c.metadata?.labels, team: 'vision' }; c.metadata!.annotations = { note: 'x' }; });
  t.same(childDrift(desired.configMap, extra).fields, []);
  const edited = fromServer(desired.configMap, (c) => { c.metadata!.labels = { ...c.metadata?.labels, 'ml.example.com/trainingjob': 'other' }; });
  t.same(childDrift(desired.configMap, edited).fields, [{ path: 'metadata.labels[ml.example.com/trainingjob]', desired: 'resnet', actual: 'other', mutable: true }]);
});

t.test('a lost owner reference is drift; another owner alongside ours is not', async (t) => {
  const orphan = fromServer(desired.workerService, (s) => { s.metadata!.ownerReferences = []; });
  const d = childDrift(desired.workerService, orphan);
  t.equal(d.fields[0]?.path, 'metadata.ownerReferences');
  t.equal(d.recreate, false);
  const shared = fromServer(desired.workerService, (s) => { s.metadata!.ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'other' }, ...(s.metadata?.ownerReferences ?? [])]; });
  t.same(childDrift(desired.workerService, shared).fields, []);
});

t.test('Job: parallelism, backoffLimit and suspend are patched in place', async (t) => {
  const job = serverJob();
  job.spec!.parallelism = 1;
  job.spec!.suspend = true;
  job.spec!.backoffLimit = 0;
  const d = childDrift(desired.workerJob, job);
  t.same(d.fields.map((f) => [f.path, f.actual, f.mutable]), [['spec.parallelism', 1, true], ['spec.backoffLimit', 0, true], ['spec.suspend', true, true]]);
  t.equal(d.recreate, false);
});

t.test('Job: a changed pod template cannot be patched, the Job must be recreated', async (t) => {
  const job = serverJob();
  const c = job.spec!.template.spec!.containers[0]!;
  c.image = 'ghcr.io/acme/train:evil';
  c.env = c.env?.map((e) => (e.name === 'HYPERPARAM_EPOCHS' ? { ...e, value: '99' } : e));
  const at = c.env?.findIndex((e) => e.name === 'HYPERPARAM_EPOCHS');
  const d = childDrift(desired.workerJob, job);
  t.same(d.fields.map((f) => f.path), ['spec.template.spec.containers[0].image', `spec.template.spec.containers[0].env[${at}].value`]);
  t.equal(d.recreate, true);
  const fewerEnv = serverJob();
  fewerEnv.spec!.template.spec!.containers[0]!.env!.pop();
  t.equal(childDrift(desired.workerJob, fewerEnv).fields[0]?.path, 'spec.template.spec.containers[0].env');
  const gpus = serverJob();
  gpus.spec!.template.spec!.containers[0]!.resources!.limits!['nvidia.com/gpu'] = '1';
  t.same(childDrift(desired.workerJob, gpus).fields.map((f) => f.path), ['spec.template.spec.containers[0].resources.limits[nvidia.com/gpu]']);
});

t.test('Job: RESUME_FROM_CHECKPOINT is fixed per generation and never drift', async (t) => {
  const resumed = desiredChildren(trainingJob(), { restartCount: 1, resumeFrom: 's3://c/epoch-5' }).workerJob;
  const live = desiredChildren(trainingJob(), { restartCount: 1, resumeFrom: 's3://c/epoch-3' }).workerJob;
  t.same(childDrift(resumed, live).fields, []);
});

t.test('Job: a drift correction keeps the live resume point, so the apiserver never sees a template change', async (t) => {
  const resumeOf = (j: V1Job) => j.spec?.template?.spec?.containers[0]?.env?.find((e) => e.name === 'RESUME_FROM_CHECKPOINT')?.value;
  const suspended = desiredChildren(trainingJob({ suspend: true }), { restartCount: 1, resumeFrom: 's3://c/epoch-3' }).workerJob;
  const resumed = desiredChildren(trainingJob(), { restartCount: 1, resumeFrom: 's3://c/epoch-5' }).workerJob;
  const body = withLiveResumeEnv(resumed, suspended);
  t.equal(resumeOf(body), 's3://c/epoch-3', 'the generation keeps the point it was created with');
  t.same(body.spec?.template?.spec?.containers[0]?.env?.map((e) => e.name), suspended.spec?.template?.spec?.containers[0]?.env?.map((e) => e.name), 'in the same place in the list');
  t.equal(body.spec?.suspend, false, 'the drifted field is still corrected');
  t.same(body.spec?.template?.spec?.containers[0]?.env?.filter((e) => e.name !== 'RESUME_FROM_CHECKPOINT'), resumed.spec?.template?.spec?.containers[0]?.env?.filter((e) => e.name !== 'RESUME_FROM_CHECKPOINT'), 'every other variable as desired');
  const first = desiredChildren(trainingJob({ suspend: true }), { restartCount: 0 }).workerJob;
  t.equal(resumeOf(withLiveResumeEnv(resumed, first)), undefined, 'a first run that never had one gets none');
});

t.test('Service: selector and ports patched, clusterIP needs a recreate', async (t) => {
  const svc: V1Service = fromServer(desired.workerService, (s) => { s.spec!.selector = { app: 'x' }; });
  t.same(childDrift(desired.workerService, svc).fields.map((f) => [f.path, f.mutable]), [
    ['spec.selector[ml.example.com/trainingjob]', true], ['spec.selector[app.kubernetes.io/component]', true],
  ]);
  const ip = fromServer(desired.workerService, (s) => { s.spec!.clusterIP = '10.0.0.7'; });
  t.same(childDrift(desired.workerService, ip), { fields: [{ path: 'spec.clusterIP', desired: 'None', actual: '10.0.0.7', mutable: false }], recreate: true });
  const port = fromServer(desired.workerService, (s) => { s.spec!.ports![0]!.port = 1; });
  t.equal(childDrift(desired.workerService, port).fields[0]?.path, 'spec.ports[0].port');
});

t.test('ConfigMap: edited or deleted data keys are drift, extra keys are not', async (t) => {
  const cm: V1ConfigMap = fromServer(desired.configMap, (c) => { c.data = { ...c.data, backend: 'gloo', extra: '1' }; delete c.data.master_port; });
  t.same(childDrift(desired.configMap, cm).fields.map((f) => [f.path, f.actual]), [['data.backend', 'gloo'], ['data.master_port', undefined]]);
});

t.test('PVC: only growth is corrected; checkpoints are never recreated', async (t) => {
  const smaller: V1PersistentVolumeClaim = fromServer(desired.checkpointPVC!, (p) => { p.spec!.resources!.requests!.storage = '10Gi'; });
  t.same(childDrift(desired.checkpointPVC!, smaller), { fields: [{ path: 'spec.resources.requests.storage', desired: '50Gi', actual: '10Gi', mutable: true }], recreate: false });
  const bigger = fromServer(desired.checkpointPVC!, (p) => { p.spec!.resources!.requests!.storage = '1Ti'; });
  t.same(childDrift(desired.checkpointPVC!, bigger).fields, [], 'a volume the user grew is left alone');
  const otherClass = fromServer(desired.checkpointPVC!, (p) => { p.spec!.accessModes = ['ReadWriteOnce']; });
  t.same(childDrift(desired.checkpointPVC!, otherClass), { fields: [], recreate: false });
});
