// TrainingPolicy ml.example.com/v1 (cluster-scoped): quotas, limits and defaults for the namespaces it selects.
import type { Framework } from './group.ts';
import type { Condition, LabelSelector, ObjectMeta, ResourceRequirements } from './meta.ts';
import type { Checkpoint } from './trainingjob-v1.ts';
import { DEFAULT_OVER_QUOTA } from './defaults.ts';

export type OverQuotaAction = 'Reject' | 'Queue';
export type WithinNamespacePreemption = 'LowerPriority' | 'Never';

export interface PreemptionPolicy {
  /** LowerPriority: a queued job may suspend (checkpoint first) lower-priority running jobs of its namespace to start. */
  withinNamespace?: WithinNamespacePreemption;
}

export type FrameworkImages = Partial<Record<Framework, string>>;

export interface TrainingPolicyDefaults {
  images?: FrameworkImages;
  resources?: ResourceRequirements;
  backoffLimit?: number;
  checkpoint?: Checkpoint;
  priorityClassName?: string;
}

export interface TrainingPolicySpec {
  namespaceSelector?: LabelSelector;
  gpuQuota?: number;
  maxGPUsPerJob?: number;
  maxWorkers?: number;
  maxConcurrentJobs?: number;
  allowedImages?: string[];
  allowedFrameworks?: Framework[];
  requiredLabels?: string[];
  defaults?: TrainingPolicyDefaults;
  overQuota?: OverQuotaAction;
  preemption?: PreemptionPolicy;
  /** Pools this policy's namespaces' gpuQuota with every policy naming the same cohort. */
  cohort?: string;
  /** GPUs a namespace may use beyond its gpuQuota from the cohort; unset: as many as the cohort lends. */
  borrowingLimit?: number;
  /** GPUs of a namespace's gpuQuota others in the cohort may borrow; unset: all of it. */
  lendingLimit?: number;
  /** A started job whose workers are not all running this long after the start is suspended, its GPUs released, and requeued with backoff. */
  startupTimeoutSeconds?: number;
  /** Best-effort order: while the first in line cannot start, jobs behind it that fit start first, for at most this long of its wait; unset: strict order. */
  backfillSeconds?: number;
}

export interface TrainingPolicyStatus {
  conditions?: Condition[];
  observedGeneration?: number;
}

export interface TrainingPolicy {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec: TrainingPolicySpec;
  status?: TrainingPolicyStatus;
}

export function overQuotaAction(policy: TrainingPolicy): OverQuotaAction {
  return policy.spec.overQuota ?? DEFAULT_OVER_QUOTA;
}

export function policyName(policy: TrainingPolicy): string {
  return policy.metadata?.name ?? '';
}

/** Preemption within a namespace is on when a selecting policy asks for it and none forbids it. */
export function preemptsWithinNamespace(policies: readonly TrainingPolicy[]): boolean {
  const said = policies.map((p) => p.spec.preemption?.withinNamespace).filter((v) => v !== undefined);
  return said.includes('LowerPriority') && !said.includes('Never');
}
