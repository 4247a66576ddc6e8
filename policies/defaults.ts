// Defaults: the CRD's (as the apiserver applies them), then every matching policy's for fields still missing.
import { cloneJson, isPlainObject } from '../api/json.ts';
import type { JsonObject } from '../api/json.ts';
import { framework } from '../api/trainingjob-v1.ts';
import type { TrainingJob } from '../api/trainingjob-v1.ts';
import type { TrainingPolicy } from '../api/trainingpolicy.ts';
import { fillSchemaDefaults, withSchemaDefaults } from './schema-validation.ts';

// Sets what `target` lacks, key by key into nested objects; never overrides a value the user gave.
export function fillMissing(target: JsonObject, defaults: unknown): void {
  if (!isPlainObject(defaults)) return;
  for (const [k, v] of Object.entries(defaults)) {
    if (v === undefined) continue;
    const cur = target[k];
    if (cur === undefined) target[k] = cloneJson(v);
    else if (isPlainObject(cur) && isPlainObject(v)) fillMissing(cur, v);
  }
}

// The image for a job that names a model but no image: the old image on update (image is immutable),
// else the first matching policy's image for the job's framework.
export function defaultImage(job: TrainingJob, policies: readonly TrainingPolicy[], oldJob?: TrainingJob): string | undefined {
  const spec = job.spec;
  if (spec.image !== undefined || typeof spec.model !== 'string') return undefined;
  if (typeof oldJob?.spec?.image === 'string') return oldJob.spec.image;
  const fw = framework(job);
  for (const p of policies) {
    const image = p.spec?.defaults?.images?.[fw];
    if (image) return image;
  }
  return undefined;
}

// Pure: returns a defaulted copy; `policies` must already be the matching ones, in order.
export function applyDefaults(job: TrainingJob, policies: readonly TrainingPolicy[], oldJob?: TrainingJob): TrainingJob {
  const out = withSchemaDefaults('TrainingJob/v1', job);
  if (!isPlainObject(out.spec)) return out;
  const spec = out.spec as unknown as JsonObject;
  const image = defaultImage(out, policies, oldJob);
  if (image !== undefined) spec.image = image;
  // An update that leaves the class out (an apply from a file that never named it) keeps the one the job has.
  if (spec.priorityClassName === undefined && oldJob?.spec?.priorityClassName !== undefined) spec.priorityClassName = oldJob.spec.priorityClassName;
  for (const p of policies) {
    const d = p.spec?.defaults;
    if (!d) continue;
    if (d.backoffLimit !== undefined && spec.backoffLimit === undefined) spec.backoffLimit = d.backoffLimit;
    // On create only: a default added to a policy later must not reorder jobs already queued or running.
    if (d.priorityClassName !== undefined && spec.priorityClassName === undefined && !oldJob) spec.priorityClassName = d.priorityClassName;
    if (d.resources) {
      if (!isPlainObject(spec.resources)) spec.resources = {};
      fillMissing(spec.resources as JsonObject, d.resources);
    }
    if (d.checkpoint) {
      if (!isPlainObject(spec.checkpoint)) spec.checkpoint = {};
      fillMissing(spec.checkpoint as JsonObject, d.checkpoint);
    }
  }
  // A policy may have added an object whose own fields have CRD defaults (checkpoint.storage.type);
  // `out` is already our own copy, so it is defaulted in place.
  fillSchemaDefaults('TrainingJob/v1', out);
  return out;
}
