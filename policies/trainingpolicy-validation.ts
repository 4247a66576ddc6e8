// Checks for the TrainingPolicy validating webhook: schema, selector rules, and defaults the policy itself would refuse.
import { compareQuantities } from '../api/quantity.ts';
import { isPlainObject } from '../api/json.ts';
import type { TrainingPolicy, TrainingPolicyDefaults } from '../api/trainingpolicy.ts';
import { imageMatches, prefixEndsAtBoundary } from './image-pattern.ts';
import { fieldPath } from './schema-messages.ts';
import { validateAgainstSchema } from './schema-validation.ts';
import { missingPriorityClass } from './priority.ts';
import { cohortConflicts, cohortLimitViolations } from './cohort.ts';
import type { NamespaceInfo } from './matching-policies.ts';
import type { PriorityClassInfo } from './priority.ts';
import { show, violation } from './violation.ts';
import type { Violation } from './violation.ts';

export interface PolicyValidationResult {
  allowed: boolean;
  denials: Violation[];
  warnings: string[];
}

function selectorViolations(policy: TrainingPolicy): Violation[] {
  const out: Violation[] = [];
  (policy.spec.namespaceSelector?.matchExpressions ?? []).forEach((req, i) => {
    const field = `spec.namespaceSelector.matchExpressions[${i}].values`;
    const n = req.values?.length ?? 0;
    if ((req.operator === 'In' || req.operator === 'NotIn') && n === 0) out.push(violation(field, `must be non-empty when operator is ${req.operator}`, 'FieldValueRequired'));
    if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && n > 0) out.push(violation(field, `must be empty when operator is ${req.operator}`, 'FieldValueForbidden'));
  });
  return out;
}

// A default image this policy would refuse would make every defaulted job fail.
function defaultImageViolations(policy: TrainingPolicy): Violation[] {
  const allowed = policy.spec.allowedImages ?? [];
  const images = policy.spec.defaults?.images ?? {};
  if (allowed.length === 0) return [];
  return Object.entries(images)
    .filter(([, image]) => typeof image === 'string' && !allowed.some((p) => imageMatches(image, p)))
    .map(([fw, image]) => violation(`spec.defaults.images.${fw}`, `${show(image)} is not allowed by this policy's allowedImages`, 'ImageNotAllowed'));
}

function defaultResourceViolations(policy: TrainingPolicy): Violation[] {
  const { requests, limits } = policy.spec.defaults?.resources ?? {};
  if (!isPlainObject(requests) || !isPlainObject(limits)) return [];
  return Object.entries(requests)
    .filter(([name, request]) => limits[name] !== undefined && compareQuantities(request, limits[name] as string | number) === 1)
    .map(([name, request]) => violation(fieldPath(`/spec/defaults/resources/requests/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`), `${String(request)} must be less than or equal to the limit ${String(limits[name])}`, 'RequestsExceedLimits'));
}

function policyWarnings(policy: TrainingPolicy): string[] {
  const out: string[] = [];
  (policy.spec.allowedImages ?? []).forEach((pattern, i) => {
    if (!prefixEndsAtBoundary(pattern)) out.push(`spec.allowedImages[${i}]: prefix ${show(pattern)} also matches ${show(`${pattern}-other/...`)}; end it with "/" or ":" to allow one repository path`);
  });
  const { gpuQuota, maxGPUsPerJob } = policy.spec;
  if (policy.spec.cohort && gpuQuota === undefined) out.push(`spec.cohort: this policy sets no gpuQuota; its namespaces join cohort ${show(policy.spec.cohort)} only where another policy gives them one`);
  if (policy.spec.cohort && policy.spec.overQuota !== 'Queue') out.push(`spec.cohort: overQuota is not Queue, so jobs over the quota are refused and these namespaces only lend to cohort ${show(policy.spec.cohort)}; set overQuota: Queue to borrow`);
  if (policy.spec.backfillSeconds !== undefined && policy.spec.overQuota !== 'Queue') out.push(`spec.backfillSeconds: overQuota is not Queue, so no job waits in a queue for others to backfill; set overQuota: Queue`);
  if (gpuQuota !== undefined && maxGPUsPerJob !== undefined && maxGPUsPerJob > gpuQuota) {
    out.push(`spec.maxGPUsPerJob: ${maxGPUsPerJob} is above spec.gpuQuota ${gpuQuota}; no job can use that many`);
  }
  return out;
}

/** What only the cluster knows: the other policies and the namespaces, for cohort conflicts. */
export interface PolicyCluster {
  policies: readonly TrainingPolicy[];
  namespaces: readonly NamespaceInfo[];
}

/** `priorityClasses` undefined (offline) leaves the default PriorityClass unchecked; `cluster` undefined, cohort conflicts. */
export function validateTrainingPolicy(policy: TrainingPolicy, priorityClasses?: readonly PriorityClassInfo[], cluster?: PolicyCluster): PolicyValidationResult {
  const denials = validateAgainstSchema('TrainingPolicy/v1', policy);
  const warnings: string[] = [];
  const defaultClass = isPlainObject(policy) ? (policy.spec?.defaults as TrainingPolicyDefaults | undefined)?.priorityClassName : undefined;
  if (isPlainObject(policy) && isPlainObject(policy.spec)) {
    denials.push(...selectorViolations(policy), ...defaultImageViolations(policy), ...defaultResourceViolations(policy), ...cohortLimitViolations(policy));
    if (cluster) denials.push(...cohortConflicts(policy, cluster.policies, cluster.namespaces));
    if (priorityClasses) denials.push(...missingPriorityClass('spec.defaults.priorityClassName', defaultClass, priorityClasses));
    warnings.push(...policyWarnings(policy));
  }
  return { allowed: denials.length === 0, denials, warnings };
}
