// OpenAPI v3 structural schema of TrainingJob v1alpha1, following the kubebuilder markers of seed 002.
import { TRAININGJOB_PHASES } from './trainingjob-v1alpha1.ts';
import {
  DEFAULT_V1ALPHA1_CHECKPOINT_INTERVAL, DEFAULT_V1ALPHA1_GPU_PER_WORKER, DEFAULT_V1ALPHA1_RESTART_POLICY, DEFAULT_V1ALPHA1_WORKERS,
} from './defaults.ts';
import { conditionsSchema, workerStatusesSchema, resourceSchema, pvcVolumeSourceSchema, resourceRequirementsSchema, stringMapSchema } from './meta-schema.ts';

export const trainingJobV1alpha1SpecSchema = {
  type: 'object',
  required: ['framework', 'image', 'command', 'workers'],
  properties: {
    framework: { type: 'string', enum: ['pytorch', 'tensorflow', 'xgboost'] },
    image: { type: 'string', minLength: 1 },
    command: { type: 'array', minItems: 1, items: { type: 'string' } },
    args: { type: 'array', items: { type: 'string' } },
    workers: { type: 'integer', format: 'int32', minimum: 1, maximum: 100, default: DEFAULT_V1ALPHA1_WORKERS },
    gpuPerWorker: { type: 'integer', format: 'int32', minimum: 0, maximum: 8, default: DEFAULT_V1ALPHA1_GPU_PER_WORKER },
    resources: resourceRequirementsSchema,
    dataVolume: pvcVolumeSourceSchema,
    checkpointDir: { type: 'string' },
    checkpointInterval: { type: 'integer', format: 'int32', minimum: 1, default: DEFAULT_V1ALPHA1_CHECKPOINT_INTERVAL },
    hyperparameters: stringMapSchema,
    restartPolicy: { type: 'string', enum: ['OnFailure', 'Never'], default: DEFAULT_V1ALPHA1_RESTART_POLICY },
  },
} as const;

export const trainingJobV1alpha1StatusSchema = {
  type: 'object',
  properties: {
    phase: { type: 'string', enum: TRAININGJOB_PHASES },
    startTime: { type: 'string', format: 'date-time' },
    completionTime: { type: 'string', format: 'date-time' },
    workerStatuses: workerStatusesSchema,
    conditions: conditionsSchema,
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
  },
} as const;

export const trainingJobV1alpha1Schema = resourceSchema(trainingJobV1alpha1SpecSchema, trainingJobV1alpha1StatusSchema);
