// Environment of a worker container: distributed rendezvous, NCCL/gloo, hyperparameters, checkpoint locations.
import type { V1EnvVar } from '@kubernetes/client-node';
import {
  checkpointEnabled, checkpointFrequency, checkpointStorageType, framework, gpusPerWorker, masterPort, networkBackend, numWorkers,
} from '../../api/trainingjob-v1.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import { masterAddress } from './names.ts';

export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const CHECKPOINT_MOUNT = '/checkpoints';
export const CONFIG_MOUNT = '/etc/trainingjob';
export const DATA_MOUNT = '/data';
export const SHM_MOUNT = '/dev/shm';
export const TERMINATION_MESSAGE_PATH = '/dev/termination-log';
// Rank 0 serves Prometheus text here; the controller reads progress from it.
export const METRICS_PORT = 8000;
export const RESUME_ENV = 'RESUME_FROM_CHECKPOINT';
export const HYPERPARAM_PREFIX = 'HYPERPARAM_';

export interface WorkerEnvInput {
  namespace: string;
  restartCount: number;
  resumeFrom?: string;
}

// learningRate → LEARNING_RATE, "dropout.p" → DROPOUT_P; empty when nothing usable is left.
export function hyperparameterEnvName(key: string): string {
  const snake = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
  return snake ? `${HYPERPARAM_PREFIX}${snake}` : '';
}

export function hyperparameterEnvValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
}

// Sorted by key so the template is identical on every reconcile; the first key wins when two map to one name.
export function hyperparameterEnv(job: TrainingJob): V1EnvVar[] {
  const seen = new Set<string>();
  const out: V1EnvVar[] = [];
  for (const key of Object.keys(job.spec.hyperparameters ?? {}).sort()) {
    const value = job.spec.hyperparameters?.[key];
    const name = hyperparameterEnvName(key);
    if (!name || value === undefined || seen.has(name)) continue;
    seen.add(name);
    out.push({ name, value: hyperparameterEnvValue(value) });
  }
  return out;
}

// Where workers write checkpoints: the shared PVC mount, or the object-store URL of s3/gcs storage.
export function checkpointDir(job: TrainingJob): string | undefined {
  if (!checkpointEnabled(job)) return undefined;
  if (checkpointStorageType(job) === 'pvc') return CHECKPOINT_MOUNT;
  return job.spec.checkpoint?.storage?.path || undefined;
}

function fieldRef(name: string, fieldPath: string): V1EnvVar {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

export function workerEnv(job: TrainingJob, jobName: string, input: WorkerEnvInput): V1EnvVar[] {
  const env: V1EnvVar[] = [
    fieldRef('POD_NAME', 'metadata.name'),
    fieldRef('POD_IP', 'status.podIP'),
    fieldRef('RANK', `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']`),
    { name: 'WORLD_SIZE', value: String(numWorkers(job)) },
    { name: 'MASTER_ADDR', value: masterAddress(jobName, input.namespace, input.restartCount) },
    { name: 'MASTER_PORT', value: String(masterPort(job)) },
    { name: 'NUM_WORKERS', value: String(numWorkers(job)) },
    { name: 'GPUS_PER_WORKER', value: String(gpusPerWorker(job)) },
    { name: 'FRAMEWORK', value: framework(job) },
    { name: 'DISTRIBUTED_BACKEND', value: networkBackend(job) },
  ];
  if (job.spec.model) env.push({ name: 'MODEL', value: job.spec.model });
  if (job.spec.dataset) env.push({ name: 'DATASET', value: job.spec.dataset });
  if (networkBackend(job) === 'nccl') {
    env.push({ name: 'NCCL_DEBUG', value: 'INFO' }, { name: 'NCCL_SOCKET_IFNAME', value: 'eth0' }, { name: 'NCCL_ASYNC_ERROR_HANDLING', value: '1' });
  }
  env.push({ name: 'GLOO_SOCKET_IFNAME', value: 'eth0' });
  env.push({ name: 'CONFIG_DIR', value: CONFIG_MOUNT }, { name: 'METRICS_PORT', value: String(METRICS_PORT) });
  if (job.spec.dataVolume) env.push({ name: 'DATA_DIR', value: DATA_MOUNT });
  const dir = checkpointDir(job);
  if (dir) env.push({ name: 'CHECKPOINT_DIR', value: dir }, { name: 'CHECKPOINT_FREQUENCY', value: String(checkpointFrequency(job)) });
  // Workers report checkpoints here (see checkpoint-report.ts); FallbackToLogsOnError covers crashes.
  env.push({ name: 'TERMINATION_MESSAGE_PATH', value: TERMINATION_MESSAGE_PATH });
  if (input.resumeFrom) env.push({ name: RESUME_ENV, value: input.resumeFrom });
  env.push(...hyperparameterEnv(job));
  return env;
}
