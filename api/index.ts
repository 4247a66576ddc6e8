// The ml.example.com API: types, getters, schemas, CRDs and conversion.
export * from './group.ts';
export * from './annotations.ts';
export * from './conditions.ts';
export * from './defaults.ts';
export type * from './meta.ts';
export * from './trainingjob-v1.ts';
export * from './trainingjob-v1alpha1.ts';
export * from './trainingpolicy.ts';
export * from './jobrepository.ts';
export * from './meta-schema.ts';
export * from './trainingjob-v1-schema.ts';
export * from './trainingjob-v1alpha1-schema.ts';
export * from './trainingpolicy-schema.ts';
export * from './jobrepository-schema.ts';
export * from './crds.ts';
export * from './conversion.ts';
export * from './quantity.ts';
export * from './json.ts';
