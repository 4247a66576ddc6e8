// OpenAPI v3 structural schema of TrainingJob v1: the one source for the CRD, ajv and the type checks.
import { FRAMEWORKS } from './group.ts';
import { TRAININGJOB_STATES } from './trainingjob-v1.ts';
import {
  DEFAULT_BACKOFF_LIMIT, DEFAULT_CHECKPOINT_ENABLED, DEFAULT_CHECKPOINT_FREQUENCY, DEFAULT_CHECKPOINT_STORAGE,
  DEFAULT_FRAMEWORK, DEFAULT_GPUS_PER_WORKER, DEFAULT_MASTER_PORT, DEFAULT_NUM_WORKERS,
} from './defaults.ts';
import {
  conditionsSchema, workerStatusesSchema, resourceSchema, pvcVolumeSourceSchema, QUANTITY_PATTERN, resourceRequirementsSchema,
  stringMapSchema, tolerationSchema,
} from './meta-schema.ts';

export const hyperparametersSchema = {
  type: 'object',
  description: 'Training hyperparameters; learningRate, batchSize and epochs are typed, any other key is passed through.',
  'x-kubernetes-preserve-unknown-fields': true,
  properties: {
    learningRate: { type: 'number' },
    batchSize: { type: 'integer' },
    epochs: { type: 'integer' },
  },
} as const;

// Without defaults: TrainingPolicy defaults reuse it and must not be filled in by the apiserver.
export const checkpointStorageProperties = {
  type: { type: 'string', enum: ['pvc', 's3', 'gcs'] },
  path: { type: 'string' },
  size: { type: 'string', pattern: QUANTITY_PATTERN },
  storageClass: { type: 'string' },
} as const;

export const checkpointProperties = {
  enabled: { type: 'boolean' },
  frequency: { type: 'integer', minimum: 1, description: 'Checkpoint every N epochs.' },
  storage: { type: 'object', properties: checkpointStorageProperties },
  deleteOnCompletion: { type: 'boolean' },
} as const;

export const checkpointSchema = {
  type: 'object',
  description: 'Checkpoint configuration; a restart resumes from the last checkpoint.',
  properties: {
    enabled: { ...checkpointProperties.enabled, default: DEFAULT_CHECKPOINT_ENABLED },
    frequency: { ...checkpointProperties.frequency, default: DEFAULT_CHECKPOINT_FREQUENCY },
    storage: {
      type: 'object',
      default: {},
      properties: {
        ...checkpointStorageProperties,
        type: { ...checkpointStorageProperties.type, default: DEFAULT_CHECKPOINT_STORAGE },
      },
    },
    deleteOnCompletion: checkpointProperties.deleteOnCompletion,
  },
} as const;

export const networkingSchema = {
  type: 'object',
  properties: {
    backend: { type: 'string', enum: ['nccl', 'gloo', 'mpi'] },
    masterPort: { type: 'integer', minimum: 1, maximum: 65535, default: DEFAULT_MASTER_PORT },
  },
} as const;

export const trainingJobV1SpecSchema = {
  type: 'object',
  description: 'Desired training run. Either image or model must be given.',
  properties: {
    model: { type: 'string', minLength: 1, description: 'Model architecture to train.' },
    dataset: { type: 'string', minLength: 1, description: 'Dataset to train on.' },
    framework: { type: 'string', enum: FRAMEWORKS, default: DEFAULT_FRAMEWORK },
    image: { type: 'string', minLength: 1, description: 'Worker image; filled from policy defaults per framework when only model is given.' },
    command: { type: 'array', items: { type: 'string' } },
    args: { type: 'array', items: { type: 'string' } },
    numWorkers: { type: 'integer', format: 'int32', minimum: 1, maximum: 32, default: DEFAULT_NUM_WORKERS, description: 'Number of distributed training workers.' },
    gpusPerWorker: { type: 'integer', format: 'int32', minimum: 0, maximum: 8, default: DEFAULT_GPUS_PER_WORKER, description: 'GPUs per worker.' },
    hyperparameters: hyperparametersSchema,
    checkpoint: checkpointSchema,
    resources: resourceRequirementsSchema,
    backoffLimit: { type: 'integer', format: 'int32', minimum: 0, maximum: 10, default: DEFAULT_BACKOFF_LIMIT, description: 'Retries before the job is marked Failed.' },
    restartPolicy: { type: 'string', enum: ['OnFailure', 'Never'] },
    dataVolume: pvcVolumeSourceSchema,
    networking: networkingSchema,
    nodeSelector: stringMapSchema,
    tolerations: { type: 'array', items: tolerationSchema },
    suspend: { type: 'boolean', description: 'Suspend or resume the workers; training resumes from the last checkpoint.' },
    ttlSecondsAfterFinished: { type: 'integer', format: 'int32', minimum: 0 },
    priorityClassName: { type: 'string', minLength: 1, maxLength: 253, description: 'A PriorityClass: orders the queue of the namespace and is given to the worker pods.' },
  },
} as const;

export const trainingJobV1StatusSchema = {
  type: 'object',
  properties: {
    state: { type: 'string', enum: TRAININGJOB_STATES },
    progress: { type: 'string', description: 'Training progress, e.g. "45%".' },
    currentEpoch: { type: 'integer', minimum: 0 },
    totalEpochs: { type: 'integer', minimum: 0 },
    metrics: {
      type: 'object',
      properties: { loss: { type: 'number' }, accuracy: { type: 'number' }, throughput: { type: 'number' } },
    },
    workers: {
      type: 'object',
      properties: {
        active: { type: 'integer', minimum: 0 },
        succeeded: { type: 'integer', minimum: 0 },
        failed: { type: 'integer', minimum: 0 },
        pending: { type: 'integer', minimum: 0 },
      },
    },
    workerStatuses: workerStatusesSchema,
    allocatedGPUs: { type: 'integer', minimum: 0 },
    restarts: { type: 'integer', minimum: 0 },
    lastCheckpoint: { type: 'string' },
    lastCheckpointTime: { type: 'string', format: 'date-time' },
    startTime: { type: 'string', format: 'date-time' },
    completionTime: { type: 'string', format: 'date-time' },
    conditions: conditionsSchema,
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
    source: {
      type: 'object',
      description: 'The JobRepository file this job was applied from.',
      properties: { repository: { type: 'string' }, path: { type: 'string' }, revision: { type: 'string' } },
    },
    queue: {
      type: 'object',
      description: 'Set while the job is Queued: its place in the namespace queue and what holds it back.',
      required: ['position', 'priority', 'reason'],
      properties: { position: { type: 'integer', minimum: 1 }, cohortPosition: { type: 'integer', minimum: 1 }, priority: { type: 'integer', format: 'int32' }, reason: { type: 'string' } },
    },
  },
} as const;

export const trainingJobV1Schema = resourceSchema(trainingJobV1SpecSchema, trainingJobV1StatusSchema);
