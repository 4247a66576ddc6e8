// The policy engine's public surface: evaluate/mutate/validate for TrainingJobs, validateTrainingPolicy.
export { capacityApplies, capacityLimited, evaluate, mutate, validate } from './evaluate.ts';
export type { Evaluation, EvaluationInput, MutationResult, Operation, QueueVerdict, ValidationResult } from './evaluate.ts';
export { validateTrainingPolicy } from './trainingpolicy-validation.ts';
export type { PolicyValidationResult } from './trainingpolicy-validation.ts';
export type { Violation } from './violation.ts';
export type { JsonPatchOp } from './json-patch.ts';
export { applyJsonPatch, diffPatch } from './json-patch.ts';
export type { NamespaceInfo } from './matching-policies.ts';
export { matchingPolicies } from './matching-policies.ts';
export type { ResourceQuotaInfo } from './quota.ts';
export { GPU_QUOTA_RESOURCE } from './quota.ts';
export { validateAgainstSchema, withSchemaDefaults } from './schema-validation.ts';
export type { SchemaName } from './schema-validation.ts';
export { selectorMatches } from './label-selector.ts';
export { imageMatches } from './image-pattern.ts';
export { missingPriorityClass, priorityClassInfo, priorityValue } from './priority.ts';
export type { PriorityClassInfo } from './priority.ts';
