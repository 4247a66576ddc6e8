// metav1.Condition bookkeeping: lastTransitionTime moves only when the status does.
import type { Condition, ConditionStatus } from '../../api/meta.ts';

export const CONDITION_RUNNING = 'Running';
export const CONDITION_SUSPENDED = 'Suspended';
export const CONDITION_COMPLETED = 'Completed';
export const CONDITION_FAILED = 'Failed';
// Whether rank 0's metrics endpoint answered on the last read.
export const CONDITION_PROGRESS_AVAILABLE = 'ProgressAvailable';

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
}

// A new list: the condition replaced in place (or appended), its transition time kept when the status is unchanged.
export function setCondition(conditions: readonly Condition[], update: ConditionUpdate, now: string): Condition[] {
  const existing = conditions.find((c) => c.type === update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    ...(update.observedGeneration !== undefined ? { observedGeneration: update.observedGeneration } : {}),
    lastTransitionTime: existing && existing.status === update.status ? existing.lastTransitionTime : now,
    reason: update.reason,
    message: update.message,
  };
  return existing ? conditions.map((c) => (c.type === update.type ? next : c)) : [...conditions, next];
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
