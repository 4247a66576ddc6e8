// Structural OpenAPI v3 schemas of the Kubernetes core shapes in meta.ts.

// The apiserver's own pattern for resource.Quantity.
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTP]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

export const quantitySchema = {
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  pattern: QUANTITY_PATTERN,
  'x-kubernetes-int-or-string': true,
} as const;

export const quantityMapSchema = { type: 'object', additionalProperties: quantitySchema } as const;

export const stringMapSchema = { type: 'object', additionalProperties: { type: 'string' } } as const;

export const resourceRequirementsSchema = {
  type: 'object',
  description: 'Compute resources per worker (requests never above limits).',
  properties: {
    requests: quantityMapSchema,
    limits: quantityMapSchema,
  },
} as const;

export const conditionSchema = {
  type: 'object',
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  properties: {
    type: { type: 'string', maxLength: 316, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$' },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    reason: { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' },
    message: { type: 'string', maxLength: 32768 },
  },
} as const;

export const conditionsSchema = {
  type: 'array',
  items: conditionSchema,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
} as const;

export const labelSelectorRequirementSchema = {
  type: 'object',
  required: ['key', 'operator'],
  properties: {
    key: { type: 'string', minLength: 1 },
    operator: { type: 'string', enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
    values: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'atomic' },
  },
} as const;

export const labelSelectorSchema = {
  type: 'object',
  'x-kubernetes-map-type': 'atomic',
  properties: {
    matchLabels: stringMapSchema,
    matchExpressions: { type: 'array', items: labelSelectorRequirementSchema, 'x-kubernetes-list-type': 'atomic' },
  },
} as const;

export const tolerationSchema = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    operator: { type: 'string', enum: ['Exists', 'Equal'] },
    value: { type: 'string' },
    effect: { type: 'string', enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
    tolerationSeconds: { type: 'integer', format: 'int64' },
  },
} as const;

export const pvcVolumeSourceSchema = {
  type: 'object',
  required: ['claimName'],
  properties: {
    claimName: { type: 'string', minLength: 1 },
    readOnly: { type: 'boolean' },
  },
} as const;

export const localObjectReferenceSchema = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1 } },
} as const;

// Top-level metadata may not be constrained beyond name/generateName in a CRD.
export const objectMetaSchema = { type: 'object' } as const;

/** The top level every kind of ours shares: apiVersion, kind, metadata, a required spec and a status. */
export function resourceSchema<Spec, Status>(spec: Spec, status: Status) {
  return {
    type: 'object',
    required: ['spec'],
    properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: objectMetaSchema, spec, status },
  } as const;
}

/** Per-worker status, the same in both TrainingJob versions. */
export const workerStatusesSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['workerId', 'podName'],
    properties: {
      workerId: { type: 'integer', minimum: 0 },
      podName: { type: 'string' },
      phase: { type: 'string' },
      restartCount: { type: 'integer', minimum: 0 },
    },
  },
} as const;
