// Default values: the CRD schemas and the getters both read them from here, so they agree.
export const DEFAULT_FRAMEWORK = 'pytorch';
export const DEFAULT_NUM_WORKERS = 1;
export const DEFAULT_GPUS_PER_WORKER = 1;
export const DEFAULT_BACKOFF_LIMIT = 3;
export const DEFAULT_CHECKPOINT_ENABLED = true;
export const DEFAULT_CHECKPOINT_FREQUENCY = 1;
export const DEFAULT_CHECKPOINT_STORAGE = 'pvc';
export const DEFAULT_MASTER_PORT = 29500;
// Indexed Jobs with a podFailurePolicy need restartPolicy Never.
export const DEFAULT_RESTART_POLICY = 'Never';

export const DEFAULT_V1ALPHA1_WORKERS = 1;
export const DEFAULT_V1ALPHA1_GPU_PER_WORKER = 0;
export const DEFAULT_V1ALPHA1_CHECKPOINT_INTERVAL = 1;
export const DEFAULT_V1ALPHA1_RESTART_POLICY = 'OnFailure';

export const DEFAULT_OVER_QUOTA = 'Reject';

export const DEFAULT_REPOSITORY_INTERVAL = '5m';
export const DEFAULT_REPOSITORY_PATH = './';
export const DEFAULT_REPOSITORY_PRUNE = true;
