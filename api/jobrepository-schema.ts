// OpenAPI v3 structural schema of JobRepository v1.
import { DEFAULT_REPOSITORY_INTERVAL, DEFAULT_REPOSITORY_PATH, DEFAULT_REPOSITORY_PRUNE } from './defaults.ts';
import { conditionsSchema, localObjectReferenceSchema, resourceSchema } from './meta-schema.ts';

// Go-style durations as Flux writes them: "30s", "5m", "1h30m".
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

export const gitReferenceSchema = {
  type: 'object',
  description: 'At most one of branch, tag or commit; none follows the default branch.',
  maxProperties: 1,
  properties: {
    branch: { type: 'string', minLength: 1 },
    tag: { type: 'string', minLength: 1 },
    commit: { type: 'string', pattern: '^[0-9a-f]{40}$' },
  },
} as const;

export const jobRepositorySpecSchema = {
  type: 'object',
  required: ['url'],
  properties: {
    url: { type: 'string', pattern: '^https?://', description: 'Smart HTTP(S) URL of the git repository.' },
    ref: gitReferenceSchema,
    path: { type: 'string', default: DEFAULT_REPOSITORY_PATH, description: 'Directory of TrainingJob manifests inside the repository.' },
    interval: { type: 'string', pattern: DURATION_PATTERN, default: DEFAULT_REPOSITORY_INTERVAL },
    secretRef: { ...localObjectReferenceSchema, description: 'Secret with "token", or "username" and "password".' },
    serviceAccountName: { type: 'string', description: 'Applies are impersonated as this ServiceAccount of the namespace.' },
    prune: { type: 'boolean', default: DEFAULT_REPOSITORY_PRUNE, description: 'Delete jobs this repository created whose files are gone.' },
    suspend: { type: 'boolean' },
  },
} as const;

export const jobRepositoryStatusSchema = {
  type: 'object',
  properties: {
    lastFetchedRevision: { type: 'string' },
    lastAppliedRevision: { type: 'string' },
    inventory: {
      type: 'array',
      description: 'The TrainingJobs this repository declares, one "<name> <file>" per job.',
      // Strings, not objects: the apiserver validates and re-encodes every entry on each status write.
      items: { type: 'string' },
    },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['file', 'message'],
        properties: {
          file: { type: 'string' },
          line: { type: 'integer', minimum: 0 },
          message: { type: 'string' },
        },
      },
    },
    conditions: conditionsSchema,
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
  },
} as const;

export const jobRepositorySchema = resourceSchema(jobRepositorySpecSchema, jobRepositoryStatusSchema);
