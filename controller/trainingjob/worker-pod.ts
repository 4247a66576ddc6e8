// Pod template of the worker Job: one container per rank, GPUs, volumes, and a locked-down security context.
import type { V1Container, V1PodTemplateSpec, V1ResourceRequirements, V1Toleration, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { checkpointEnabled, checkpointStorageType, gpusPerWorker, masterPort } from '../../api/trainingjob-v1.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import type { Quantity } from '../../api/meta.ts';
import { GPU_RESOURCE } from '../../api/group.ts';
import { InvalidTrainingJobError } from './errors.ts';
import { childLabels, RESTART_LABEL } from './child-metadata.ts';
import type { TrainingJobIdentity } from './child-metadata.ts';
import { checkpointPVCName, configMapName, workerServiceName } from './names.ts';
import {
  CHECKPOINT_MOUNT, CONFIG_MOUNT, DATA_MOUNT, METRICS_PORT, SHM_MOUNT, TERMINATION_MESSAGE_PATH, workerEnv,
} from './worker-env.ts';
import type { WorkerEnvInput } from './worker-env.ts';

export const WORKER_CONTAINER = 'worker';
// The UID workers run as when the image does not say; fsGroup makes the checkpoint PVC writable for it.
export const WORKER_UID = 1000;

export const GPU_TOLERATION: V1Toleration = { key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' };

function quantityMap(values: Record<string, Quantity> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, q] of Object.entries(values ?? {})) out[name] = String(q);
  return out;
}

// spec.resources per worker; nvidia.com/gpu always equals gpusPerWorker in both requests and limits (absent at 0).
export function workerResources(job: TrainingJob): V1ResourceRequirements {
  const requests = quantityMap(job.spec.resources?.requests);
  const limits = quantityMap(job.spec.resources?.limits);
  const gpus = gpusPerWorker(job);
  delete requests[GPU_RESOURCE];
  delete limits[GPU_RESOURCE];
  if (gpus > 0) {
    requests[GPU_RESOURCE] = String(gpus);
    limits[GPU_RESOURCE] = String(gpus);
  }
  const out: V1ResourceRequirements = {};
  if (Object.keys(requests).length > 0) out.requests = requests;
  if (Object.keys(limits).length > 0) out.limits = limits;
  return out;
}

// spec.tolerations plus the GPU taint toleration when GPUs are requested, without duplicates.
export function workerTolerations(job: TrainingJob): V1Toleration[] {
  const out: V1Toleration[] = (job.spec.tolerations ?? []).map((t) => ({ ...t }));
  const coversGpu = out.some((t) => t.key === GPU_RESOURCE && t.operator === 'Exists' && (t.effect === undefined || t.effect === 'NoSchedule'));
  if (gpusPerWorker(job) > 0 && !coversGpu) out.push({ ...GPU_TOLERATION });
  return out;
}

function usesCheckpointPVC(job: TrainingJob): boolean {
  return checkpointEnabled(job) && checkpointStorageType(job) === 'pvc';
}

function volumes(job: TrainingJob, id: TrainingJobIdentity): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  // PyTorch DataLoader workers share tensors through /dev/shm; the container default of 64Mi is too small.
  const vols: V1Volume[] = [
    { name: 'dshm', emptyDir: { medium: 'Memory' } },
    { name: 'config', configMap: { name: configMapName(id.name) } },
  ];
  const mounts: V1VolumeMount[] = [
    { name: 'dshm', mountPath: SHM_MOUNT },
    { name: 'config', mountPath: CONFIG_MOUNT, readOnly: true },
  ];
  if (usesCheckpointPVC(job)) {
    vols.push({ name: 'checkpoints', persistentVolumeClaim: { claimName: checkpointPVCName(id.name) } });
    mounts.push({ name: 'checkpoints', mountPath: CHECKPOINT_MOUNT });
  }
  if (job.spec.dataVolume) {
    const readOnly = job.spec.dataVolume.readOnly === true;
    vols.push({ name: 'data', persistentVolumeClaim: { claimName: job.spec.dataVolume.claimName, ...(readOnly ? { readOnly } : {}) } });
    mounts.push({ name: 'data', mountPath: DATA_MOUNT, ...(readOnly ? { readOnly } : {}) });
  }
  return { volumes: vols, mounts };
}

export function workerContainer(job: TrainingJob, jobName: string, input: WorkerEnvInput, mounts: V1VolumeMount[]): V1Container {
  const image = job.spec.image;
  if (!image) throw new InvalidTrainingJobError('spec.image is empty: the mutating webhook fills it from policy defaults', { field: 'spec.image' });
  const resources = workerResources(job);
  return {
    name: WORKER_CONTAINER,
    image,
    ...(job.spec.command?.length ? { command: [...job.spec.command] } : {}),
    ...(job.spec.args?.length ? { args: [...job.spec.args] } : {}),
    env: workerEnv(job, jobName, input),
    ports: [
      { name: 'master', containerPort: masterPort(job), protocol: 'TCP' },
      { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
    ],
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
    volumeMounts: mounts,
    terminationMessagePath: TERMINATION_MESSAGE_PATH,
    // A crashed worker that wrote nothing still leaves its log tail, which carries its last checkpoint line.
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

export function buildWorkerPodTemplate(job: TrainingJob, id: TrainingJobIdentity, input: WorkerEnvInput): V1PodTemplateSpec {
  const { volumes: vols, mounts } = volumes(job, id);
  const tolerations = workerTolerations(job);
  const nodeSelector = job.spec.nodeSelector ?? {};
  return {
    metadata: {
      labels: { ...childLabels(id.name, 'worker'), [RESTART_LABEL]: String(input.restartCount) },
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(METRICS_PORT) },
    },
    spec: {
      // The Job retries pods, and podFailurePolicy requires Never.
      restartPolicy: 'Never',
      subdomain: workerServiceName(id.name),
      containers: [workerContainer(job, id.name, input, mounts)],
      volumes: vols,
      ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector: { ...nodeSelector } } : {}),
      ...(tolerations.length > 0 ? { tolerations } : {}),
      // The scheduler preempts and orders pods by it, as the queue orders the job.
      ...(job.spec.priorityClassName ? { priorityClassName: job.spec.priorityClassName } : {}),
      // Workers need no API access.
      automountServiceAccountToken: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: WORKER_UID,
        runAsGroup: WORKER_UID,
        fsGroup: WORKER_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
    },
  };
}
