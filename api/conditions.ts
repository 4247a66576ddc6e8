// Condition types and reasons shared by the webhook and the controllers.
export const CONDITION_READY = 'Ready';
export const CONDITION_QUEUED = 'Queued';
// True while a job runs partly on GPUs borrowed from its namespace's cohort: it is reclaimable.
export const CONDITION_BORROWING = 'Borrowing';
export const CONDITION_STALLED = 'Stalled';
export const REASON_QUOTA_EXCEEDED = 'QuotaExceeded';
