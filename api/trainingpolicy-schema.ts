// OpenAPI v3 structural schema of TrainingPolicy v1.
import { FRAMEWORKS } from './group.ts';
import { DEFAULT_OVER_QUOTA } from './defaults.ts';
import { checkpointProperties } from './trainingjob-v1-schema.ts';
import { conditionsSchema, labelSelectorSchema, resourceSchema, resourceRequirementsSchema } from './meta-schema.ts';

export const frameworkImagesSchema = {
  type: 'object',
  description: 'Image used when a job gives a model but no image, per framework.',
  properties: {
    pytorch: { type: 'string', minLength: 1 },
    tensorflow: { type: 'string', minLength: 1 },
    xgboost: { type: 'string', minLength: 1 },
    jax: { type: 'string', minLength: 1 },
  },
} as const;

export const trainingPolicyDefaultsSchema = {
  type: 'object',
  description: 'Filled into jobs that leave these fields out.',
  properties: {
    images: frameworkImagesSchema,
    resources: resourceRequirementsSchema,
    backoffLimit: { type: 'integer', format: 'int32', minimum: 0, maximum: 10 },
    checkpoint: { type: 'object', properties: checkpointProperties },
    priorityClassName: { type: 'string', minLength: 1, maxLength: 253, description: 'PriorityClass for jobs that name none.' },
  },
} as const;

export const trainingPolicySpecSchema = {
  type: 'object',
  properties: {
    namespaceSelector: { ...labelSelectorSchema, description: 'Namespaces this policy applies to; absent selects every namespace.' },
    gpuQuota: { type: 'integer', format: 'int32', minimum: 0, description: 'GPUs of all non-terminal TrainingJobs in one namespace.' },
    maxGPUsPerJob: { type: 'integer', format: 'int32', minimum: 0 },
    maxWorkers: { type: 'integer', format: 'int32', minimum: 1 },
    maxConcurrentJobs: { type: 'integer', format: 'int32', minimum: 0, description: 'Non-terminal TrainingJobs one namespace may have.' },
    allowedImages: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'Image prefixes ("registry.example.com/ml/") or globs ("pytorch/pytorch:2.*").' },
    allowedFrameworks: { type: 'array', items: { type: 'string', enum: FRAMEWORKS } },
    requiredLabels: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'Label keys every job must carry.' },
    defaults: trainingPolicyDefaultsSchema,
    overQuota: { type: 'string', enum: ['Reject', 'Queue'], default: DEFAULT_OVER_QUOTA, description: 'Queue admits an over-quota job suspended instead of rejecting it.' },
    startupTimeoutSeconds: { type: 'integer', format: 'int32', minimum: 1, description: 'All or nothing: a started job whose workers are not all running this long after the start is suspended, its GPUs released, and requeued with exponential backoff. Unset: jobs wait for their workers indefinitely.' },
    backfillSeconds: { type: 'integer', format: 'int32', minimum: 1, description: 'Best-effort order: while the first job in line cannot start (its quota, its cohort or the nodes hold it, and preempting would not help), queued jobs behind it that fit start first, for at most this many seconds of its wait in the queue; then the queue holds for it. Unset: strict order (priority, then creation).' },
    cohort: { type: 'string', minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', description: 'Pools the gpuQuota of the namespaces this policy selects with every other policy naming the same cohort: a job over its own quota may start on GPUs other members leave idle (queued first, when overQuota is Queue) and is reclaimed when the lender needs them back.' },
    borrowingLimit: { type: 'integer', format: 'int32', minimum: 0, description: 'GPUs a namespace may use beyond its own gpuQuota from its cohort. Unset: as many as the cohort lends.' },
    lendingLimit: { type: 'integer', format: 'int32', minimum: 0, description: 'GPUs of a namespace\'s gpuQuota other cohort members may borrow while it leaves them idle. Unset: all of it.' },
    preemption: {
      type: 'object',
      description: 'Which running jobs a queued job may suspend to start: their workers get SIGTERM, report their last checkpoint, and the job waits Queued to resume from it.',
      properties: {
        withinNamespace: { type: 'string', enum: ['LowerPriority', 'Never'], description: 'LowerPriority: jobs of lower PriorityClass value in the same namespace. Never (the default when no policy says LowerPriority).' },
      },
    },
  },
} as const;

export const trainingPolicyStatusSchema = {
  type: 'object',
  properties: {
    conditions: conditionsSchema,
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
  },
} as const;

export const trainingPolicySchema = resourceSchema(trainingPolicySpecSchema, trainingPolicyStatusSchema);
