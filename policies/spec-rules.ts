// Rules on a TrainingJob alone, beyond its schema: image or model, requests ≤ limits, sane hyperparameters.
import { compareQuantities } from '../api/quantity.ts';
import { GPU_RESOURCE } from '../api/group.ts';
import { isPlainObject } from '../api/json.ts';
import { checkpointEnabled, gpusPerWorker } from '../api/trainingjob-v1.ts';
import type { TrainingJob } from '../api/trainingjob-v1.ts';
import { fieldPath } from './schema-messages.ts';
import { hasMovingTag } from './image-pattern.ts';
import { show, violation } from './violation.ts';
import type { Violation } from './violation.ts';

const MAX_LEARNING_RATE = 10;
// Above this a learning rate is legal but almost always a typo for 1e-x.
const HIGH_LEARNING_RATE = 1;

export function imageOrModel(job: TrainingJob): Violation[] {
  const { image, model } = job.spec;
  if (image !== undefined || model !== undefined) return [];
  return [violation('spec', 'either image or model must be given', 'ImageOrModelRequired')];
}

export function requestsWithinLimits(job: TrainingJob): Violation[] {
  const { requests, limits } = job.spec.resources ?? {};
  if (!isPlainObject(requests) || !isPlainObject(limits)) return [];
  const out: Violation[] = [];
  for (const [name, request] of Object.entries(requests)) {
    const limit = limits[name];
    if (limit === undefined) continue;
    if (compareQuantities(request, limit) === 1) {
      out.push(violation(fieldPath(`/spec/resources/requests/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`), `${String(request)} must be less than or equal to the limit ${String(limit)}`, 'RequestsExceedLimits'));
    }
  }
  return out;
}

function positiveInteger(field: string, value: unknown): Violation[] {
  if (typeof value !== 'number' || value > 0) return [];
  return [violation(field, `${show(value)} must be greater than 0`, 'InvalidHyperparameter')];
}

export function hyperparameterSanity(job: TrainingJob): Violation[] {
  const hp = job.spec.hyperparameters;
  if (!isPlainObject(hp)) return [];
  const out: Violation[] = [];
  const lr = hp.learningRate;
  if (typeof lr === 'number' && !(lr > 0 && lr <= MAX_LEARNING_RATE)) {
    out.push(violation('spec.hyperparameters.learningRate', `${show(lr)} must be greater than 0 and at most ${MAX_LEARNING_RATE}`, 'InvalidHyperparameter'));
  }
  out.push(...positiveInteger('spec.hyperparameters.batchSize', hp.batchSize));
  out.push(...positiveInteger('spec.hyperparameters.epochs', hp.epochs));
  return out;
}

export function specViolations(job: TrainingJob): Violation[] {
  return [...imageOrModel(job), ...requestsWithinLimits(job), ...hyperparameterSanity(job)];
}

// Legal but probably not what the author meant; returned as AdmissionReview warnings.
export function specWarnings(job: TrainingJob): string[] {
  const out: string[] = [];
  const { image, hyperparameters, resources } = job.spec;
  if (typeof image === 'string' && hasMovingTag(image)) out.push(`spec.image: ${show(image)} has no fixed tag; a restart may run different code`);
  const lr = hyperparameters?.learningRate;
  if (typeof lr === 'number' && lr > HIGH_LEARNING_RATE && lr <= MAX_LEARNING_RATE) out.push(`spec.hyperparameters.learningRate: ${lr} is unusually high for a learning rate`);
  if (job.spec.checkpoint !== undefined && !checkpointEnabled(job)) out.push('spec.checkpoint.enabled: false; a restart starts training again from the first epoch');
  for (const kind of ['requests', 'limits'] as const) {
    const gpu = resources?.[kind]?.[GPU_RESOURCE];
    if (gpu !== undefined && String(gpu) !== String(gpusPerWorker(job))) {
      out.push(`spec.resources.${kind}[${GPU_RESOURCE}]: ${show(gpu)} is replaced by spec.gpusPerWorker (${gpusPerWorker(job)})`);
    }
  }
  return out;
}
