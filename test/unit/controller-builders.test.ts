// Builders: the shape of every child of a TrainingJob — env, GPUs, volumes, security, names, owner references.
import t from 'tap';
import type { V1EnvVar, V1Job } from '@kubernetes/client-node';
import { TRAININGJOB_LABEL } from '../../api/annotations.ts';
import { buildWorkerJob, workerPodFailurePolicy } from '../../controller/trainingjob/worker-job.ts';
import { buildWorkerService } from '../../controller/trainingjob/worker-service.ts';
import { buildConfigMap } from '../../controller/trainingjob/config-map.ts';
import { buildCheckpointPVC } from '../../controller/trainingjob/checkpoint-pvc.ts';
import { childrenContext, creationStages, desiredChildren, inCreationOrder } from '../../controller/trainingjob/desired-children.ts';
import { hyperparameterEnvName } from '../../controller/trainingjob/worker-env.ts';
import { InvalidTrainingJobError } from '../../controller/trainingjob/errors.ts';
import {
  checkpointPVCName, configMapName, masterAddress, trainingJobLabelValue, workerJobName, workerServiceName,
} from '../../controller/trainingjob/names.ts';
import { trainingJob } from '../fixtures/controller-jobs.ts';

function env(job: V1Job): Map<string, V1EnvVar> {
  return new Map((job.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e]));
}
function value(job: V1Job, name: string): string | undefined {
  return env(job).get(name)?.value;
}
const container = (job: V1Job) => job.spec?.template.spec?.containers[0];
const podSpec = (job: V1Job) => job.spec?.template.spec;

t.test('worker Job: Indexed, one pod per rank, backoffLimit and suspend from the spec', async (t) => {
  const job = buildWorkerJob(trainingJob({ backoffLimit: 5 }), { restartCount: 0 });
  t.equal(job.apiVersion, 'batch/v1');
  t.equal(job.kind, 'Job');
  t.equal(job.metadata?.name, 'resnet-workers');
  t.equal(job.metadata?.namespace, 'team-a');
  t.equal(job.spec?.completionMode, 'Indexed');
  t.equal(job.spec?.parallelism, 4);
  t.equal(job.spec?.completions, 4);
  t.equal(job.spec?.backoffLimit, 5);
  t.equal(job.spec?.suspend, false);
  t.equal(job.spec?.podReplacementPolicy, 'Failed');
  t.equal(job.spec?.ttlSecondsAfterFinished, undefined, 'the controller handles ttl on the TrainingJob');
  t.equal(podSpec(job)?.restartPolicy, 'Never');
  t.equal(podSpec(job)?.subdomain, 'resnet-workers');
  t.equal(buildWorkerJob(trainingJob({ suspend: true }), { restartCount: 0 }).spec?.suspend, true);
});

t.test('podFailurePolicy: disruptions and SIGTERM stops ignored, retryable exit codes counted, everything else fails the gang', async (t) => {
  const job = buildWorkerJob(trainingJob(), { restartCount: 0 });
  t.same(job.spec?.podFailurePolicy?.rules, [
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    { action: 'Ignore', onExitCodes: { containerName: 'worker', operator: 'In', values: [143] } },
    { action: 'Count', onExitCodes: { containerName: 'worker', operator: 'In', values: [42] } },
    { action: 'FailJob', onExitCodes: { containerName: 'worker', operator: 'NotIn', values: [0, 42] } },
  ]);
  t.same(workerPodFailurePolicy([75, 42, 42, 0, -1, 143]).rules?.[2]?.onExitCodes?.values, [42, 75], 'sorted, deduplicated, positive only, never 143');
  t.same(workerPodFailurePolicy([]).rules?.map((r) => r.action), ['Ignore', 'Ignore', 'FailJob'], 'no Count rule without retryable codes');
  const custom = buildWorkerJob(trainingJob(), { restartCount: 0, retryableExitCodes: [3] });
  t.same(custom.spec?.podFailurePolicy?.rules?.[3]?.onExitCodes?.values, [0, 3]);
});

t.test('every distributed-training env var', async (t) => {
  const job = buildWorkerJob(trainingJob(), { restartCount: 0 });
  const e = env(job);
  t.same(e.get('RANK')?.valueFrom, { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } });
  t.same(e.get('POD_NAME')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
  t.same(e.get('POD_IP')?.valueFrom, { fieldRef: { fieldPath: 'status.podIP' } });
  t.equal(value(job, 'WORLD_SIZE'), '4');
  t.equal(value(job, 'NUM_WORKERS'), '4');
  t.equal(value(job, 'GPUS_PER_WORKER'), '2');
  t.equal(value(job, 'MASTER_ADDR'), 'resnet-workers-0.resnet-workers.team-a.svc');
  t.equal(value(job, 'MASTER_PORT'), '29500');
  t.equal(value(job, 'FRAMEWORK'), 'pytorch');
  t.equal(value(job, 'DISTRIBUTED_BACKEND'), 'nccl');
  t.equal(value(job, 'MODEL'), 'resnet50');
  t.equal(value(job, 'DATASET'), 'imagenet');
  t.equal(value(job, 'NCCL_DEBUG'), 'INFO');
  t.equal(value(job, 'NCCL_SOCKET_IFNAME'), 'eth0');
  t.equal(value(job, 'NCCL_ASYNC_ERROR_HANDLING'), '1');
  t.equal(value(job, 'GLOO_SOCKET_IFNAME'), 'eth0');
  t.equal(value(job, 'CONFIG_DIR'), '/etc/trainingjob');
  t.equal(value(job, 'METRICS_PORT'), '8000');
  t.equal(value(job, 'CHECKPOINT_DIR'), '/checkpoints');
  t.equal(value(job, 'CHECKPOINT_FREQUENCY'), '1');
  t.equal(value(job, 'TERMINATION_MESSAGE_PATH'), '/dev/termination-log');
  t.equal(value(job, 'HYPERPARAM_LEARNING_RATE'), '0.001');
  t.equal(value(job, 'HYPERPARAM_BATCH_SIZE'), '32');
  t.equal(value(job, 'HYPERPARAM_EPOCHS'), '10');
  t.notOk(e.has('RESUME_FROM_CHECKPOINT'), 'a first run resumes from nothing');
  t.notOk(e.has('DATA_DIR'));
  t.equal(e.size, new Set(container(job)?.env?.map((x) => x.name)).size, 'no duplicate names');
});

t.test('hyperparameters become HYPERPARAM_<UPPER_SNAKE>, in key order, first spelling wins', async (t) => {
  t.equal(hyperparameterEnvName('learningRate'), 'HYPERPARAM_LEARNING_RATE');
  t.equal(hyperparameterEnvName('lr_decay'), 'HYPERPARAM_LR_DECAY');
  t.equal(hyperparameterEnvName('dropout.p'), 'HYPERPARAM_DROPOUT_P');
  t.equal(hyperparameterEnvName('HTTPProxy'), 'HYPERPARAM_HTTP_PROXY');
  t.equal(hyperparameterEnvName('warmup2Steps'), 'HYPERPARAM_WARMUP2_STEPS');
  t.equal(hyperparameterEnvName('--'), '');
  const job = buildWorkerJob(trainingJob({ hyperparameters: { zeta: 'x', optimizer: { name: 'adam', betas: [0.9, 0.99] }, useAmp: true, learning_rate: 0.5, learningRate: 0.1, '!!': 1 } }), { restartCount: 0 });
  const names = (container(job)?.env ?? []).map((e) => e.name).filter((n) => n.startsWith('HYPERPARAM_'));
  t.same(names, ['HYPERPARAM_LEARNING_RATE', 'HYPERPARAM_OPTIMIZER', 'HYPERPARAM_USE_AMP', 'HYPERPARAM_ZETA']);
  t.equal(value(job, 'HYPERPARAM_LEARNING_RATE'), '0.1', 'learningRate sorts before learning_rate');
  t.equal(value(job, 'HYPERPARAM_OPTIMIZER'), '{"name":"adam","betas":[0.9,0.99]}');
  t.equal(value(job, 'HYPERPARAM_USE_AMP'), 'true');
});

t.test('GPU workers: nvidia.com/gpu requests and limits, GPU toleration, nccl', async (t) => {
  const job = buildWorkerJob(trainingJob({ resources: { requests: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': 7 }, limits: { cpu: 8, memory: '32Gi' } } }), { restartCount: 0 });
  t.same(container(job)?.resources, {
    requests: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '2' },
    limits: { cpu: '8', memory: '32Gi', 'nvidia.com/gpu': '2' },
  }, 'gpusPerWorker decides the GPU count; numbers become strings');
  t.same(podSpec(job)?.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
});

t.test('CPU-only workers: no GPU resource, no GPU toleration, gloo and no NCCL settings', async (t) => {
  const job = buildWorkerJob(trainingJob({ gpusPerWorker: 0, resources: { limits: { 'nvidia.com/gpu': '1' } } }), { restartCount: 0 });
  t.equal(container(job)?.resources, undefined, 'nothing left to request');
  t.equal(podSpec(job)?.tolerations, undefined);
  t.equal(value(job, 'DISTRIBUTED_BACKEND'), 'gloo');
  t.notOk(env(job).has('NCCL_DEBUG'));
  t.equal(value(job, 'GPUS_PER_WORKER'), '0');
});

t.test('nodeSelector and tolerations from the spec; an existing GPU toleration is not duplicated', async (t) => {
  const tolerations = [{ key: 'dedicated', operator: 'Equal' as const, value: 'ml', effect: 'NoSchedule' as const }, { key: 'nvidia.com/gpu', operator: 'Exists' as const }];
  const job = buildWorkerJob(trainingJob({ nodeSelector: { pool: 'a100' }, tolerations }), { restartCount: 0 });
  t.same(podSpec(job)?.nodeSelector, { pool: 'a100' });
  t.same(podSpec(job)?.tolerations, tolerations);
});

t.test('volumes: /dev/shm in memory, config, checkpoint PVC, data volume', async (t) => {
  const job = buildWorkerJob(trainingJob({ dataVolume: { claimName: 'imagenet', readOnly: true } }), { restartCount: 0 });
  t.same(podSpec(job)?.volumes, [
    { name: 'dshm', emptyDir: { medium: 'Memory' } },
    { name: 'config', configMap: { name: 'resnet-config' } },
    { name: 'checkpoints', persistentVolumeClaim: { claimName: 'resnet-checkpoints' } },
    { name: 'data', persistentVolumeClaim: { claimName: 'imagenet', readOnly: true } },
  ]);
  t.same(container(job)?.volumeMounts, [
    { name: 'dshm', mountPath: '/dev/shm' },
    { name: 'config', mountPath: '/etc/trainingjob', readOnly: true },
    { name: 'checkpoints', mountPath: '/checkpoints' },
    { name: 'data', mountPath: '/data', readOnly: true },
  ]);
  t.equal(value(job, 'DATA_DIR'), '/data');
  const s3 = buildWorkerJob(trainingJob({ checkpoint: { enabled: true, storage: { type: 's3', path: 's3://ckpt/resnet' } } }), { restartCount: 0 });
  t.notOk(podSpec(s3)?.volumes?.some((v) => v.name === 'checkpoints'), 'object storage needs no PVC');
  t.equal(value(s3, 'CHECKPOINT_DIR'), 's3://ckpt/resnet');
  const off = buildWorkerJob(trainingJob({ checkpoint: { enabled: false } }), { restartCount: 0, resumeFrom: 's3://x' });
  t.notOk(env(off).has('CHECKPOINT_DIR'));
  t.notOk(podSpec(off)?.volumes?.some((v) => v.name === 'checkpoints'));
});

t.test('security: non-root, no privilege escalation, no capabilities, RuntimeDefault seccomp, no API token', async (t) => {
  const job = buildWorkerJob(trainingJob(), { restartCount: 0 });
  t.same(container(job)?.securityContext, { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
  t.match(podSpec(job)?.securityContext, { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
  t.equal(podSpec(job)?.automountServiceAccountToken, false);
  t.equal(container(job)?.terminationMessagePolicy, 'FallbackToLogsOnError');
  t.equal(container(job)?.terminationMessagePath, '/dev/termination-log');
});

t.test('image, command and args come from the spec; a missing image is an InvalidTrainingJobError', async (t) => {
  const job = buildWorkerJob(trainingJob({ command: ['torchrun'], args: ['train.py', '--amp'] }), { restartCount: 0 });
  t.equal(container(job)?.name, 'worker');
  t.equal(container(job)?.image, 'ghcr.io/acme/train:1.0');
  t.same(container(job)?.command, ['torchrun']);
  t.same(container(job)?.args, ['train.py', '--amp']);
  t.same(container(job)?.ports, [{ name: 'master', containerPort: 29500, protocol: 'TCP' }, { name: 'metrics', containerPort: 8000, protocol: 'TCP' }]);
  t.throws(() => buildWorkerJob(trainingJob({ image: undefined }), { restartCount: 0 }), InvalidTrainingJobError);
  const noUid = trainingJob();
  delete noUid.metadata?.uid;
  t.throws(() => buildWorkerJob(noUid, { restartCount: 0 }), { code: 'InvalidTrainingJob' });
});

t.test('a restart is a new generation: its own Job name, master address and resume point', async (t) => {
  const job = buildWorkerJob(trainingJob(), { restartCount: 2, resumeFrom: '/checkpoints/epoch-3.pt' });
  t.equal(job.metadata?.name, 'resnet-workers-r2');
  t.equal(job.metadata?.labels?.['ml.example.com/restart'], '2');
  t.equal(job.spec?.template.metadata?.labels?.['ml.example.com/restart'], '2');
  t.equal(value(job, 'MASTER_ADDR'), 'resnet-workers-r2-0.resnet-workers.team-a.svc');
  t.equal(value(job, 'RESUME_FROM_CHECKPOINT'), '/checkpoints/epoch-3.pt');
  t.equal(podSpec(job)?.subdomain, 'resnet-workers', 'the Service is shared by every generation');
});

t.test('creation stages: what pods mount or resolve, at once, then the Job that makes the pods', async (t) => {
  const kinds = (job: ReturnType<typeof trainingJob>) => creationStages(desiredChildren(job, { restartCount: 0 })).map((stage) => stage.map((c) => c.kind));
  t.same(kinds(trainingJob()), [['PersistentVolumeClaim', 'ConfigMap', 'Service'], ['Job']]);
  t.same(kinds(trainingJob({ checkpoint: { enabled: false } })), [['ConfigMap', 'Service'], ['Job']], 'no PVC without checkpoints');
  const children = desiredChildren(trainingJob(), { restartCount: 0 });
  t.same(creationStages(children).flat(), inCreationOrder(children), 'the same children in the same order as one by one');
});

t.test('labels and a controlling owner reference on every child', async (t) => {
  const children = inCreationOrder(desiredChildren(trainingJob(), { restartCount: 0 }));
  t.same(children.map((c) => c.kind), ['PersistentVolumeClaim', 'ConfigMap', 'Service', 'Job']);
  for (const c of children) {
    t.same(c.metadata?.ownerReferences, [{ apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', name: 'resnet', uid: 'uid-1', controller: true, blockOwnerDeletion: true }], String(c.kind));
    t.equal(c.metadata?.labels?.[TRAININGJOB_LABEL], 'resnet', String(c.kind));
    t.equal(c.metadata?.labels?.['app.kubernetes.io/managed-by'], 'trainingjob-controller', String(c.kind));
    t.equal(c.metadata?.namespace, 'team-a', String(c.kind));
  }
  const job = buildWorkerJob(trainingJob(), { restartCount: 0 });
  t.match(job.spec?.template.metadata?.labels, { [TRAININGJOB_LABEL]: 'resnet', 'app.kubernetes.io/component': 'worker' });
  t.match(job.spec?.template.metadata?.annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8000' });
});

t.test('headless Service selects the workers of every generation', async (t) => {
  const svc = buildWorkerService(trainingJob({ networking: { masterPort: 23456 } }));
  t.equal(svc.metadata?.name, 'resnet-workers');
  t.equal(svc.spec?.clusterIP, 'None');
  t.equal(svc.spec?.publishNotReadyAddresses, true);
  t.same(svc.spec?.selector, { [TRAININGJOB_LABEL]: 'resnet', 'app.kubernetes.io/component': 'worker' });
  t.same(svc.spec?.ports?.[0], { name: 'master', port: 23456, targetPort: 23456, protocol: 'TCP' });
  const pods = buildWorkerJob(trainingJob(), { restartCount: 3 }).spec?.template.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(svc.spec?.selector ?? {})) t.equal(pods[k], v, `pods carry ${k}`);
});

t.test('ConfigMap: hyperparameters.json, backend, master port', async (t) => {
  const cm = buildConfigMap(trainingJob({ hyperparameters: { epochs: 10, batchSize: 32 } }));
  t.equal(cm.metadata?.name, 'resnet-config');
  t.equal(cm.data?.['hyperparameters.json'], '{\n  "batchSize": 32,\n  "epochs": 10\n}\n');
  t.equal(cm.data?.backend, 'nccl');
  t.equal(cm.data?.master_port, '29500');
  t.equal(cm.data?.world_size, '4');
  t.equal(cm.data?.model, 'resnet50');
  t.equal(buildConfigMap(trainingJob({ gpusPerWorker: 0, hyperparameters: undefined })).data?.['hyperparameters.json'], '{}\n');
});

t.test('checkpoint PVC only for enabled pvc storage, with size and class from the spec', async (t) => {
  const pvc = buildCheckpointPVC(trainingJob({ checkpoint: { enabled: true, storage: { type: 'pvc', size: '200Gi', storageClass: 'fast-rwx' } } }));
  t.equal(pvc?.metadata?.name, 'resnet-checkpoints');
  t.same(pvc?.spec, { accessModes: ['ReadWriteMany'], storageClassName: 'fast-rwx', resources: { requests: { storage: '200Gi' } } });
  t.same(buildCheckpointPVC(trainingJob({ checkpoint: { enabled: true } }))?.spec?.resources?.requests, { storage: '100Gi' });
  t.equal(buildCheckpointPVC(trainingJob({ checkpoint: { enabled: true } }))?.spec?.storageClassName, undefined, 'the cluster default class');
  t.equal(buildCheckpointPVC(trainingJob({ checkpoint: { enabled: false } })), undefined);
  t.equal(buildCheckpointPVC(trainingJob({ checkpoint: { enabled: true, storage: { type: 'gcs', path: 'gs://b/p' } } })), undefined);
  t.notOk(desiredChildren(trainingJob({ checkpoint: { enabled: false } }), { restartCount: 0 }).checkpointPVC);
});

t.test('childrenContext: generation and resume point come from status', async (t) => {
  t.same(childrenContext(trainingJob()), { restartCount: 0 });
  t.same(childrenContext(trainingJob({}, { restarts: 2, lastCheckpoint: 's3://c/e3' }), [42]), { restartCount: 2, resumeFrom: 's3://c/e3', retryableExitCodes: [42] });
  t.same(childrenContext(trainingJob({ checkpoint: { enabled: false } }, { restarts: 1, lastCheckpoint: 's3://c/e3' })), { restartCount: 1 });
});

t.test('names: predictable when short, valid and unique when not', async (t) => {
  t.equal(workerServiceName('resnet'), 'resnet-workers');
  t.equal(workerJobName('resnet', 0), 'resnet-workers');
  t.equal(workerJobName('resnet', 10), 'resnet-workers-r10');
  t.equal(configMapName('resnet'), 'resnet-config');
  t.equal(checkpointPVCName('resnet'), 'resnet-checkpoints');
  t.equal(masterAddress('resnet', 'team-a', 1), 'resnet-workers-r1-0.resnet-workers.team-a.svc');
  const long = `bert-${'x'.repeat(80)}`;
  for (const r of [0, 1, 10]) {
    const name = workerJobName(long, r);
    t.ok(name.length + '-31'.length <= 63, `pod hostname fits a DNS label: ${name}`);
    t.match(name, /^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    t.ok(name.endsWith(r === 0 ? '-workers' : `-workers-r${r}`));
  }
  t.not(workerJobName(`${long}a`, 0), workerJobName(`${long}b`, 0), 'a hash keeps long names apart');
  t.ok(workerServiceName(long).length <= 63);
  t.match(workerServiceName('1st.run'), /^[a-z][-a-z0-9]*-workers$/, 'dots and a leading digit are not valid in a Service name');
  t.equal(configMapName('1st.run'), '1st.run-config', 'ConfigMaps take any subdomain');
  t.equal(trainingJobLabelValue('resnet'), 'resnet');
  t.ok(trainingJobLabelValue(long).length <= 63);
  t.equal(workerJobName(long, 1), workerJobName(long, 1), 'deterministic');
});
