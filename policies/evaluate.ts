// The one entry point of the policy engine: AdmissionRequest facts in, verdict + warnings + JSONPatch out.
// mutate() serves the mutating webhook, validate() the validating one, evaluate() both (offline `validate`).
import { BORROWED_ANNOTATION, QUEUED_ANNOTATION } from '../api/annotations.ts';
import { REASON_QUOTA_EXCEEDED } from '../api/conditions.ts';
import { isPlainObject } from '../api/json.ts';
import { gpuDemand, isQueued } from '../api/trainingjob-v1.ts';
import type { TrainingJob } from '../api/trainingjob-v1.ts';
import type { TrainingPolicy } from '../api/trainingpolicy.ts';
import { borrowedMarkViolations } from './borrowed-mark.ts';
import { applyDefaults } from './defaults.ts';
import { immutableFieldViolations } from './immutable-fields.ts';
import { diffPatch } from './json-patch.ts';
import type { JsonPatchOp } from './json-patch.ts';
import { matchingPolicies } from './matching-policies.ts';
import { GPU_QUOTA_RESOURCE } from './quota.ts';
import type { NamespaceInfo } from './matching-policies.ts';
import { allowedFrameworkViolations, allowedImageViolations, perJobLimitViolations, requiredLabelViolations } from './policy-rules.ts';
import { capacityViolations } from './quota.ts';
import type { CapacityViolation, ResourceQuotaInfo } from './quota.ts';
import { workerFitViolations } from './node-fit.ts';
import type { NodeGpuInfo } from './node-fit.ts';
import { missingPriorityClass } from './priority.ts';
import type { PriorityClassInfo } from './priority.ts';
import { validateAgainstSchema } from './schema-validation.ts';
import { specViolations, specWarnings } from './spec-rules.ts';
import type { Violation } from './violation.ts';
import { cohortConflict, type CohortFacts } from './cohort.ts';
import { queueAheadMessage } from './queued-ahead.ts';

export type { NamespaceInfo } from './matching-policies.ts';
export type { ResourceQuotaInfo } from './quota.ts';
export type { PriorityClassInfo } from './priority.ts';
export type { NodeGpuInfo } from './node-fit.ts';
export type { Violation } from './violation.ts';
export type { JsonPatchOp } from './json-patch.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface EvaluationInput {
  operation: Operation;
  // The engine has no side effects, so dry-run requests get the same verdict; the flag is for the caller.
  dryRun?: boolean;
  // TrainingJob v1 as received (already converted to v1 by the apiserver)
  object: TrainingJob;
  oldObject?: TrainingJob;
  namespace: NamespaceInfo;
  // all TrainingPolicies; the engine picks the matching ones
  policies: readonly TrainingPolicy[];
  // TrainingJobs of the namespace, for quota usage and concurrency
  namespaceJobs: readonly TrainingJob[];
  resourceQuotas?: readonly ResourceQuotaInfo[];
  // the cluster's PriorityClasses; undefined when unknown (offline), so names go unchecked
  priorityClasses?: readonly PriorityClassInfo[];
  // allocatable GPUs per node; undefined when unknown (offline)
  nodes?: readonly NodeGpuInfo[];
  // the namespace's cohort, when a selecting policy names one; members' usage is read only for a job starting on borrowed GPUs
  cohort?: CohortFacts;
}

export interface QueueVerdict {
  reason: typeof REASON_QUOTA_EXCEEDED;
  message: string;
}

export interface MutationResult {
  patch: JsonPatchOp[];
  object: TrainingJob;
  warnings: string[];
  queue?: QueueVerdict;
}

export interface ValidationResult {
  allowed: boolean;
  denials: Violation[];
  warnings: string[];
}

export interface Evaluation extends ValidationResult {
  patch: JsonPatchOp[];
  object: TrainingJob;
  queue?: QueueVerdict;
}

function writes(input: EvaluationInput): boolean {
  return input.operation === 'CREATE' || input.operation === 'UPDATE';
}

// Finalizer removal during deletion must never be blocked by a policy that changed since creation.
function isBeingDeleted(job: TrainingJob): boolean {
  return Boolean(job.metadata?.deletionTimestamp);
}

function hasSpec(job: TrainingJob): boolean {
  return isPlainObject(job) && isPlainObject(job.spec);
}

// Capacity is checked when a job starts to hold GPUs: on create, and when the controller releases it from the queue.
/** Whether any limit could refuse a job in this namespace: a matching policy's GPU quota or job cap, or a GPU ResourceQuota. */
export function capacityLimited(input: Pick<EvaluationInput, 'policies' | 'namespace' | 'resourceQuotas'>): boolean {
  const limitedByPolicy = matchingPolicies(input.policies, input.namespace).some((p) => p.spec.gpuQuota !== undefined || p.spec.maxConcurrentJobs !== undefined);
  return limitedByPolicy || (input.resourceQuotas ?? []).some((rq) => rq.hard[GPU_QUOTA_RESOURCE] !== undefined);
}

export function capacityApplies(input: EvaluationInput, job: TrainingJob): boolean {
  if (isQueued(job)) return false;
  if (input.operation === 'CREATE') return true;
  return input.operation === 'UPDATE' && input.oldObject !== undefined && isQueued(input.oldObject);
}

function capacity(input: EvaluationInput, job: TrainingJob, policies: readonly TrainingPolicy[]): CapacityViolation[] {
  return capacityViolations(job, input.namespace.name, policies, input.namespaceJobs, input.resourceQuotas ?? [], input.cohort);
}

export function mutate(input: EvaluationInput): MutationResult {
  const original = input.object;
  if (!writes(input) || !hasSpec(original) || isBeingDeleted(original)) return { patch: [], object: original, warnings: [] };
  const policies = matchingPolicies(input.policies, input.namespace);
  const job = applyDefaults(original, policies, input.operation === 'UPDATE' ? input.oldObject : undefined);
  // Only the leading controller starts jobs on borrowed GPUs (one writer per cohort): a create never claims to.
  if (input.operation === 'CREATE' && job.metadata?.annotations?.[BORROWED_ANNOTATION] !== undefined) {
    const { [BORROWED_ANNOTATION]: _claimed, ...annotations } = job.metadata.annotations;
    job.metadata = { ...job.metadata, annotations };
  }
  const warnings: string[] = [];
  let queue: QueueVerdict | undefined;
  if (input.operation === 'CREATE' && capacityApplies(input, job)) {
    const over = capacity(input, job, policies);
    // A job that fits still waits its turn behind queued jobs that start before it (one its author suspends, or that
    // takes no GPUs, takes nothing from them).
    const waitsTurn = over.length === 0 && !job.spec.suspend && gpuDemand(job) > 0;
    const behind = waitsTurn ? queueAheadMessage(job, input.namespace.name, policies, input.namespaceJobs, input.priorityClasses ?? []) : undefined;
    if (behind || (over.length > 0 && over.every((v) => v.queueable))) {
      const message = behind ?? over.map((v) => v.message).join('; ');
      queue = { reason: REASON_QUOTA_EXCEEDED, message };
      job.spec.suspend = true;
      job.metadata = { ...job.metadata, annotations: { ...job.metadata?.annotations, [QUEUED_ANNOTATION]: message } };
      warnings.push(behind ? `queued behind the jobs ahead of it: ${message}` : `queued until capacity frees up: ${message}`);
    }
  }
  return { patch: diffPatch(original, job), object: job, warnings, ...(queue ? { queue } : {}) };
}

export function validate(input: EvaluationInput): ValidationResult {
  const job = input.object;
  if (!writes(input) || (isPlainObject(job) && isBeingDeleted(job))) return { allowed: true, denials: [], warnings: [] };
  const denials: Violation[] = [...validateAgainstSchema('TrainingJob/v1', job)];
  const warnings: string[] = [];
  if (hasSpec(job)) {
    const policies = matchingPolicies(input.policies, input.namespace);
    denials.push(...specViolations(job));
    if (input.operation === 'UPDATE' && input.oldObject && hasSpec(input.oldObject)) {
      denials.push(...immutableFieldViolations(input.oldObject, job), ...borrowedMarkViolations(input.oldObject, job, input.namespace.name, policies, input.namespaceJobs));
    }
    if (input.operation === 'CREATE') {
      denials.push(...allowedImageViolations(job, policies), ...allowedFrameworkViolations(job, policies), ...perJobLimitViolations(job, policies));
      if (input.nodes) denials.push(...workerFitViolations(job, input.nodes));
    }
    denials.push(...requiredLabelViolations(job, policies));
    // Checked when the name is set or changed, so deleting a class never blocks updates of jobs that name it.
    const priorityClass = job.spec.priorityClassName;
    if (input.priorityClasses && (input.operation === 'CREATE' || priorityClass !== input.oldObject?.spec?.priorityClassName)) {
      denials.push(...missingPriorityClass('spec.priorityClassName', priorityClass, input.priorityClasses));
    }
    if (capacityApplies(input, job)) {
      denials.push(...capacity(input, job, policies).map(({ field, message, reason }) => ({ field, message, reason })));
    }
    warnings.push(...specWarnings(job));
    const conflict = input.operation === 'CREATE' ? cohortConflict(policies, input.namespace.name) : undefined;
    if (conflict) warnings.push(conflict);
  }
  return { allowed: denials.length === 0, denials, warnings };
}

// Mutation then validation of the mutated object, exactly as the apiserver chains the two webhooks.
export function evaluate(input: EvaluationInput): Evaluation {
  const mutated = mutate(input);
  const verdict = validate({ ...input, object: mutated.object });
  return {
    allowed: verdict.allowed,
    denials: verdict.denials,
    warnings: [...mutated.warnings, ...verdict.warnings],
    patch: mutated.patch,
    object: mutated.object,
    ...(mutated.queue ? { queue: mutated.queue } : {}),
  };
}
