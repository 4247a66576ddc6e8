// Labels and annotations this platform reads or writes, all under ml.example.com.
import { GROUP } from './group.ts';

// Children of a TrainingJob carry its name, so they can be listed and garbage-traced.
export const TRAININGJOB_LABEL = `${GROUP}/trainingjob`;
// TrainingJobs applied from git carry "<namespace>.<name>" of their JobRepository.
export const REPOSITORY_LABEL = `${GROUP}/repository`;
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

// v1 fields a v1alpha1 object cannot hold, restored when it converts back to v1.
export const V1_FIELDS_ANNOTATION = `${GROUP}/v1-fields`;
// v1alpha1 spellings a v1 object cannot hold (e.g. hyperparameter "1e-3"), restored on the way back.
export const V1ALPHA1_FIELDS_ANNOTATION = `${GROUP}/v1alpha1-fields`;
// Set by the mutating webhook when a job is admitted suspended because it is over quota.
export const QUEUED_ANNOTATION = `${GROUP}/queued`;
// Set by the leading controller when it starts a job on GPUs borrowed from the namespace's cohort: how many.
export const BORROWED_ANNOTATION = `${GROUP}/borrowed-gpus`;
// Set by the controller when a started job's workers were not all running in time: how many times, and when it may start again.
export const STARTUP_ATTEMPTS_ANNOTATION = `${GROUP}/startup-attempts`;
export const RETRY_AFTER_ANNOTATION = `${GROUP}/retry-after`;
// On a JobRepository: a new value asks for a sync now (set by the push receiver, or by hand).
export const REQUESTED_AT_ANNOTATION = `${GROUP}/requestedAt`;
// On a JobRepository: the revision whose mass prune a person confirmed.
export const CONFIRM_PRUNE_ANNOTATION = `${GROUP}/confirm-prune`;

// The apiserver labels every namespace with its own name.
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
