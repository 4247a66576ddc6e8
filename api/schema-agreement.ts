// Compile-time proof that the TS interfaces and the schema objects name the same fields: tsc fails on drift.
import type { trainingJobV1Schema, trainingJobV1SpecSchema, trainingJobV1StatusSchema, checkpointSchema, networkingSchema, hyperparametersSchema } from './trainingjob-v1-schema.ts';
import type { trainingJobV1alpha1SpecSchema, trainingJobV1alpha1StatusSchema } from './trainingjob-v1alpha1-schema.ts';
import type { trainingPolicySpecSchema, trainingPolicyDefaultsSchema, frameworkImagesSchema, trainingPolicyStatusSchema } from './trainingpolicy-schema.ts';
import type { jobRepositorySpecSchema, jobRepositoryStatusSchema, gitReferenceSchema } from './jobrepository-schema.ts';
import type { conditionSchema, labelSelectorSchema, labelSelectorRequirementSchema, resourceRequirementsSchema, tolerationSchema, pvcVolumeSourceSchema } from './meta-schema.ts';
import type { TrainingJob, TrainingJobSpec, TrainingJobStatus, Checkpoint, CheckpointStorage, Networking, TrainingMetrics, WorkerCounts, WorkerStatus, SourceReference } from './trainingjob-v1.ts';
import type { TrainingJobV1alpha1Spec, TrainingJobV1alpha1Status, WorkerStatusV1alpha1 } from './trainingjob-v1alpha1.ts';
import type { TrainingPolicySpec, TrainingPolicyDefaults, FrameworkImages, TrainingPolicyStatus } from './trainingpolicy.ts';
import type { JobRepositorySpec, JobRepositoryStatus, GitReference, SyncError } from './jobrepository.ts';
import type { Condition, LabelSelector, LabelSelectorRequirement, ResourceRequirements, Toleration, PersistentVolumeClaimVolumeSource } from './meta.ts';

// True only when A and B are the same type; anything else fails the Assert below.
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
export type Assert<T extends true> = T;

type Props<S> = S extends { properties: infer P } ? P : never;
type PropKeys<S> = keyof Props<S> & string;
type ItemKeys<S> = S extends { items: { properties: infer P } } ? keyof P & string : never;
type Required<S> = S extends { required: readonly (infer R)[] } ? R : never;
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
// Index signatures (free-form hyperparameters) are not fields.
type KnownKeys<T> = keyof { [K in keyof T as string extends K ? never : K]: T[K] } & string;

type SameFields<T, S> = Equal<KnownKeys<T>, PropKeys<S>>;
type SameRequired<T, S> = Equal<RequiredKeys<T>, Required<S>>;

type V1Spec = Props<typeof trainingJobV1SpecSchema>;
type V1Status = Props<typeof trainingJobV1StatusSchema>;
type AlphaStatus = Props<typeof trainingJobV1alpha1StatusSchema>;
type RepoStatus = Props<typeof jobRepositoryStatusSchema>;

export type SchemaAgreement = [
  Assert<Equal<Exclude<keyof TrainingJob, 'apiVersion' | 'kind' | 'metadata'>, Exclude<PropKeys<typeof trainingJobV1Schema>, 'apiVersion' | 'kind' | 'metadata'>>>,
  Assert<SameFields<TrainingJobSpec, typeof trainingJobV1SpecSchema>>,
  Assert<SameRequired<TrainingJobSpec, typeof trainingJobV1SpecSchema>>,
  Assert<SameFields<Checkpoint, typeof checkpointSchema>>,
  Assert<SameFields<CheckpointStorage, V1Spec['checkpoint']['properties']['storage']>>,
  Assert<SameFields<Networking, typeof networkingSchema>>,
  Assert<Equal<KnownKeys<NonNullable<TrainingJobSpec['hyperparameters']>>, PropKeys<typeof hyperparametersSchema>>>,
  Assert<SameFields<TrainingJobStatus, typeof trainingJobV1StatusSchema>>,
  Assert<SameFields<TrainingMetrics, V1Status['metrics']>>,
  Assert<SameFields<WorkerCounts, V1Status['workers']>>,
  Assert<Equal<keyof WorkerStatus, ItemKeys<V1Status['workerStatuses']>>>,
  Assert<SameFields<SourceReference, V1Status['source']>>,
  Assert<SameFields<TrainingJobV1alpha1Spec, typeof trainingJobV1alpha1SpecSchema>>,
  Assert<SameFields<TrainingJobV1alpha1Status, typeof trainingJobV1alpha1StatusSchema>>,
  Assert<Equal<keyof WorkerStatusV1alpha1, ItemKeys<AlphaStatus['workerStatuses']>>>,
  Assert<SameFields<TrainingPolicySpec, typeof trainingPolicySpecSchema>>,
  Assert<SameFields<TrainingPolicyDefaults, typeof trainingPolicyDefaultsSchema>>,
  Assert<SameFields<FrameworkImages, typeof frameworkImagesSchema>>,
  Assert<SameFields<TrainingPolicyStatus, typeof trainingPolicyStatusSchema>>,
  Assert<SameFields<JobRepositorySpec, typeof jobRepositorySpecSchema>>,
  Assert<SameRequired<JobRepositorySpec, typeof jobRepositorySpecSchema>>,
  Assert<SameFields<GitReference, typeof gitReferenceSchema>>,
  Assert<SameFields<JobRepositoryStatus, typeof jobRepositoryStatusSchema>>,
  Assert<Equal<NonNullable<JobRepositoryStatus['inventory']>[number], string>>,
  Assert<Equal<RepoStatus['inventory']['items']['type'], 'string'>>,
  Assert<Equal<keyof SyncError, ItemKeys<RepoStatus['errors']>>>,
  Assert<SameFields<Condition, typeof conditionSchema>>,
  Assert<SameRequired<Condition, typeof conditionSchema>>,
  Assert<SameFields<LabelSelector, typeof labelSelectorSchema>>,
  Assert<SameFields<LabelSelectorRequirement, typeof labelSelectorRequirementSchema>>,
  Assert<SameRequired<LabelSelectorRequirement, typeof labelSelectorRequirementSchema>>,
  Assert<SameFields<ResourceRequirements, typeof resourceRequirementsSchema>>,
  Assert<SameFields<Toleration, typeof tolerationSchema>>,
  Assert<SameFields<PersistentVolumeClaimVolumeSource, typeof pvcVolumeSourceSchema>>,
  Assert<SameRequired<PersistentVolumeClaimVolumeSource, typeof pvcVolumeSourceSchema>>,
  Assert<SameRequired<WorkerStatus, V1Status['workerStatuses']['items']>>,
  Assert<SameRequired<SyncError, RepoStatus['errors']['items']>>,
];
