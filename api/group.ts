// API group, versions, kinds and resource names of ml.example.com.
export const GROUP = 'ml.example.com';
export const V1 = 'v1';
export const V1ALPHA1 = 'v1alpha1';
export const API_VERSION_V1 = `${GROUP}/${V1}` as const;
export const API_VERSION_V1ALPHA1 = `${GROUP}/${V1ALPHA1}` as const;

export const TRAININGJOB_KIND = 'TrainingJob';
export const TRAININGJOB_PLURAL = 'trainingjobs';
export const TRAININGPOLICY_KIND = 'TrainingPolicy';
export const TRAININGPOLICY_PLURAL = 'trainingpolicies';
export const JOBREPOSITORY_KIND = 'JobRepository';
export const JOBREPOSITORY_PLURAL = 'jobrepositories';

// Where the conversion webhook lives; the caBundle is injected at install time.
/** The controller's one name: its field manager, Lease, user agent, event source and managed-by label. */
export const CONTROLLER_NAME = 'trainingjob-controller';

export const WEBHOOK_SERVICE = { name: 'trainingjob-webhook', namespace: 'trainingjob-system', path: '/convert', port: 443 } as const;

/** The extended resource a GPU is (NVIDIA's device plugin): worker requests, node allocatable. */
export const GPU_RESOURCE = 'nvidia.com/gpu';

export const FRAMEWORKS = ['pytorch', 'tensorflow', 'xgboost', 'jax'] as const;
export type Framework = (typeof FRAMEWORKS)[number];
