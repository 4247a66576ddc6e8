// Condition types and reasons shared by the webhook and the controllers.
export const CONDITION_READY = 'Ready';
export const CONDITION_QUEUED = 'Queued';
export const CONDITION_STALLED = 'Stalled';
export const REASON_QUOTA_EXCEEDED = 'QuotaExceeded';
