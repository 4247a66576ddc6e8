// TrainingJob ml.example.com/v1, the stored version: types and getters that apply defaults.
import type { Framework } from './group.ts';
import type { Condition, ObjectMeta, PersistentVolumeClaimVolumeSource, ResourceRequirements, Toleration } from './meta.ts';
import { QUEUED_ANNOTATION } from './annotations.ts';
import {
  DEFAULT_BACKOFF_LIMIT, DEFAULT_CHECKPOINT_ENABLED, DEFAULT_CHECKPOINT_FREQUENCY, DEFAULT_CHECKPOINT_STORAGE,
  DEFAULT_FRAMEWORK, DEFAULT_GPUS_PER_WORKER, DEFAULT_MASTER_PORT, DEFAULT_NUM_WORKERS, DEFAULT_RESTART_POLICY,
} from './defaults.ts';

export const TRAININGJOB_STATES = ['Pending', 'Queued', 'Initializing', 'Running', 'Restarting', 'Suspended', 'Completed', 'Failed'] as const;
export type TrainingJobState = (typeof TRAININGJOB_STATES)[number];
export const TERMINAL_STATES: readonly TrainingJobState[] = ['Completed', 'Failed'];

export type CheckpointStorageType = 'pvc' | 's3' | 'gcs';
export type RestartPolicy = 'OnFailure' | 'Never';
export type NetworkBackend = 'nccl' | 'gloo' | 'mpi';

// Known hyperparameters are typed; any other key is free-form.
export interface Hyperparameters {
  learningRate?: number;
  batchSize?: number;
  epochs?: number;
  [key: string]: unknown;
}

export interface CheckpointStorage {
  type?: CheckpointStorageType;
  path?: string;
  size?: string;
  storageClass?: string;
}

export interface Checkpoint {
  enabled?: boolean;
  frequency?: number;
  storage?: CheckpointStorage;
  deleteOnCompletion?: boolean;
}

export interface Networking {
  backend?: NetworkBackend;
  masterPort?: number;
}

export interface TrainingJobSpec {
  model?: string;
  dataset?: string;
  framework?: Framework;
  image?: string;
  command?: string[];
  args?: string[];
  numWorkers?: number;
  gpusPerWorker?: number;
  hyperparameters?: Hyperparameters;
  checkpoint?: Checkpoint;
  resources?: ResourceRequirements;
  backoffLimit?: number;
  restartPolicy?: RestartPolicy;
  dataVolume?: PersistentVolumeClaimVolumeSource;
  networking?: Networking;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  suspend?: boolean;
  ttlSecondsAfterFinished?: number;
  /** A scheduling.k8s.io PriorityClass: orders the namespace's queue and is given to the worker pods. */
  priorityClassName?: string;
}

export interface TrainingMetrics {
  loss?: number;
  accuracy?: number;
  throughput?: number;
}

export interface WorkerCounts {
  active?: number;
  succeeded?: number;
  failed?: number;
  pending?: number;
}

export interface WorkerStatus {
  workerId: number;
  podName: string;
  phase?: string;
  restartCount?: number;
}

export interface SourceReference {
  repository?: string;
  path?: string;
  revision?: string;
}

/** Where a queued job stands and what holds it back, written by the leading controller. */
export interface QueueStatus {
  /** 1 is the next job of its namespace to start. */
  position: number;
  /** In a cohort: the place among every member's queued jobs; 1 is the first to borrow what members leave idle. */
  cohortPosition?: number;
  /** The priority value the queue orders by (its PriorityClass's, or the global default's, or 0). */
  priority: number;
  /** The limit that holds the job back, in words with the numbers. */
  reason: string;
}

export interface TrainingJobStatus {
  state?: TrainingJobState;
  progress?: string;
  currentEpoch?: number;
  totalEpochs?: number;
  metrics?: TrainingMetrics;
  workers?: WorkerCounts;
  workerStatuses?: WorkerStatus[];
  allocatedGPUs?: number;
  restarts?: number;
  lastCheckpoint?: string;
  /** When the last checkpoint was written as far as the controller can tell (the epoch count crossing a checkpoint boundary, else the first report): preemption weighs the work done since. */
  lastCheckpointTime?: string;
  startTime?: string;
  completionTime?: string;
  conditions?: Condition[];
  observedGeneration?: number;
  source?: SourceReference;
  queue?: QueueStatus;
}

export interface TrainingJob {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec: TrainingJobSpec;
  status?: TrainingJobStatus;
}

export function numWorkers(job: TrainingJob): number {
  return job.spec.numWorkers ?? DEFAULT_NUM_WORKERS;
}

export function gpusPerWorker(job: TrainingJob): number {
  return job.spec.gpusPerWorker ?? DEFAULT_GPUS_PER_WORKER;
}

// GPUs the whole job holds while it runs.
export function gpuDemand(job: TrainingJob): number {
  return numWorkers(job) * gpusPerWorker(job);
}

export function framework(job: TrainingJob): Framework {
  return job.spec.framework ?? DEFAULT_FRAMEWORK;
}

export function backoffLimit(job: TrainingJob): number {
  return job.spec.backoffLimit ?? DEFAULT_BACKOFF_LIMIT;
}

export function restartPolicy(job: TrainingJob): RestartPolicy {
  return job.spec.restartPolicy ?? DEFAULT_RESTART_POLICY;
}

export function checkpointEnabled(job: TrainingJob): boolean {
  return job.spec.checkpoint?.enabled ?? DEFAULT_CHECKPOINT_ENABLED;
}

export function checkpointFrequency(job: TrainingJob): number {
  return job.spec.checkpoint?.frequency ?? DEFAULT_CHECKPOINT_FREQUENCY;
}

export function checkpointStorageType(job: TrainingJob): CheckpointStorageType {
  return job.spec.checkpoint?.storage?.type ?? DEFAULT_CHECKPOINT_STORAGE;
}

export function masterPort(job: TrainingJob): number {
  return job.spec.networking?.masterPort ?? DEFAULT_MASTER_PORT;
}

// NCCL needs GPUs; CPU-only jobs talk over gloo.
export function networkBackend(job: TrainingJob): NetworkBackend {
  return job.spec.networking?.backend ?? (gpusPerWorker(job) > 0 ? 'nccl' : 'gloo');
}

export function isSuspended(job: TrainingJob): boolean {
  return job.spec.suspend === true;
}

export function isTerminal(job: TrainingJob): boolean {
  const state = job.status?.state;
  return state !== undefined && TERMINAL_STATES.includes(state);
}

// Queued jobs wait suspended for quota; the annotation alone would let a user skip the quota check.
export function isQueued(job: TrainingJob): boolean {
  return isSuspended(job) && job.metadata?.annotations?.[QUEUED_ANNOTATION] !== undefined;
}

/** Milliseconds until a finished job's ttl runs out (≤ 0: now), or undefined when none applies. */
export function ttlExpiry(job: TrainingJob, now: Date): number | undefined {
  const ttl = job.spec.ttlSecondsAfterFinished;
  const done = job.status?.completionTime;
  if (ttl === undefined || !isTerminal(job) || !done) return undefined;
  return Date.parse(done) + ttl * 1000 - now.getTime();
}
