// TrainingJob v1alpha1 ⇄ v1, lossless both ways: what the target version cannot hold rides in an
// annotation (as Cluster API does) and is restored when the object converts back.
import { API_VERSION_V1, API_VERSION_V1ALPHA1 } from './group.ts';
import { V1_FIELDS_ANNOTATION, V1ALPHA1_FIELDS_ANNOTATION } from './annotations.ts';
import { cloneJson, deepEqual, isPlainObject } from './json.ts';
import type { JsonObject } from './json.ts';
import type { TrainingJob, TrainingJobState } from './trainingjob-v1.ts';
import type { TrainingJobPhase, TrainingJobV1alpha1 } from './trainingjob-v1alpha1.ts';

export class ConversionError extends Error {
  readonly code: string;
  readonly data: JsonObject;
  constructor(code: string, message: string, data: JsonObject) {
    super(message);
    this.name = 'ConversionError';
    this.code = code;
    this.data = data;
  }
}

const PHASE_OF_STATE: Record<TrainingJobState, TrainingJobPhase> = {
  Pending: 'Pending', Queued: 'Pending', Initializing: 'Pending', Suspended: 'Pending',
  Running: 'Running', Restarting: 'Running', Completed: 'Succeeded', Failed: 'Failed',
};
const STATE_OF_PHASE: Record<TrainingJobPhase, TrainingJobState> = {
  Pending: 'Pending', Running: 'Running', Succeeded: 'Completed', Failed: 'Failed',
};

export function phaseFromState(state: unknown): TrainingJobPhase | undefined {
  return typeof state === 'string' && Object.hasOwn(PHASE_OF_STATE, state) ? PHASE_OF_STATE[state as TrainingJobState] : undefined;
}

export function stateFromPhase(phase: unknown): TrainingJobState | undefined {
  return typeof phase === 'string' && Object.hasOwn(STATE_OF_PHASE, phase) ? STATE_OF_PHASE[phase as TrainingJobPhase] : undefined;
}

// v1 types these hyperparameters; v1alpha1 holds every hyperparameter as a string.
const TYPED_HYPERPARAMETERS: Record<string, 'number' | 'integer'> = { learningRate: 'number', batchSize: 'integer', epochs: 'integer' };
const JSON_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

export function hyperparameterToString(value: unknown): unknown {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value === undefined ? undefined : JSON.stringify(value);
}

// Numbers and booleans become typed; a typed key whose text is not of its type is left out (kept in the annotation).
export function hyperparameterFromString(key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  let parsed: unknown = value;
  if (JSON_NUMBER.test(value) && Number.isFinite(Number(value))) parsed = Number(value);
  else if (value === 'true' || value === 'false') parsed = value === 'true';
  const typed = Object.hasOwn(TYPED_HYPERPARAMETERS, key) ? TYPED_HYPERPARAMETERS[key] : undefined;
  if (typed === undefined) return parsed;
  if (typeof parsed !== 'number') return undefined;
  return typed === 'integer' && !Number.isInteger(parsed) ? undefined : parsed;
}

function setIfDefined(out: JsonObject, key: string, value: unknown): void {
  if (value !== undefined) out[key] = cloneJson(value);
}

function field(obj: unknown, ...path: string[]): unknown {
  let cur = obj;
  for (const key of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

function mapHyperparameters(hp: unknown, convert: (key: string, v: unknown) => unknown): unknown {
  if (!isPlainObject(hp)) return undefined;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(hp)) setIfDefined(out, k, convert(k, v));
  return out;
}

function specDown(spec: unknown): unknown {
  if (!isPlainObject(spec)) return spec;
  const out: JsonObject = {};
  setIfDefined(out, 'framework', spec.framework);
  setIfDefined(out, 'image', spec.image);
  setIfDefined(out, 'command', spec.command);
  setIfDefined(out, 'args', spec.args);
  setIfDefined(out, 'workers', spec.numWorkers);
  setIfDefined(out, 'gpuPerWorker', spec.gpusPerWorker);
  setIfDefined(out, 'resources', spec.resources);
  setIfDefined(out, 'dataVolume', spec.dataVolume);
  setIfDefined(out, 'checkpointDir', field(spec, 'checkpoint', 'storage', 'path'));
  setIfDefined(out, 'checkpointInterval', field(spec, 'checkpoint', 'frequency'));
  setIfDefined(out, 'hyperparameters', mapHyperparameters(spec.hyperparameters, (_k, v) => hyperparameterToString(v)));
  setIfDefined(out, 'restartPolicy', spec.restartPolicy);
  return out;
}

function specUp(spec: unknown): unknown {
  if (!isPlainObject(spec)) return spec;
  const out: JsonObject = {};
  setIfDefined(out, 'framework', spec.framework);
  setIfDefined(out, 'image', spec.image);
  setIfDefined(out, 'command', spec.command);
  setIfDefined(out, 'args', spec.args);
  setIfDefined(out, 'numWorkers', spec.workers);
  setIfDefined(out, 'gpusPerWorker', spec.gpuPerWorker);
  setIfDefined(out, 'hyperparameters', mapHyperparameters(spec.hyperparameters, hyperparameterFromString));
  if (spec.checkpointInterval !== undefined || spec.checkpointDir !== undefined) {
    const checkpoint: JsonObject = {};
    setIfDefined(checkpoint, 'frequency', spec.checkpointInterval);
    if (spec.checkpointDir !== undefined) checkpoint.storage = { path: spec.checkpointDir };
    out.checkpoint = checkpoint;
  }
  setIfDefined(out, 'resources', spec.resources);
  setIfDefined(out, 'restartPolicy', spec.restartPolicy);
  setIfDefined(out, 'dataVolume', spec.dataVolume);
  return out;
}

const SHARED_STATUS_FIELDS = ['startTime', 'completionTime', 'workerStatuses', 'conditions', 'observedGeneration'];

function statusDown(status: unknown): unknown {
  if (!isPlainObject(status)) return status;
  const out: JsonObject = {};
  setIfDefined(out, 'phase', phaseFromState(status.state));
  for (const k of SHARED_STATUS_FIELDS) setIfDefined(out, k, status[k]);
  return out;
}

function statusUp(status: unknown): unknown {
  if (!isPlainObject(status)) return status;
  const out: JsonObject = {};
  setIfDefined(out, 'state', stateFromPhase(status.phase));
  for (const k of SHARED_STATUS_FIELDS) setIfDefined(out, k, status[k]);
  return out;
}

// The part of `original` that `reconstructed` fails to reproduce; undefined when nothing is lost.
function lostFields(original: unknown, reconstructed: unknown): unknown {
  if (isPlainObject(original) && isPlainObject(reconstructed)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(original)) {
      if (v === undefined) continue;
      const lost = Object.hasOwn(reconstructed, k) ? lostFields(v, reconstructed[k]) : cloneJson(v);
      if (lost !== undefined) out[k] = lost;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return deepEqual(original, reconstructed) ? undefined : cloneJson(original);
}

// Writes saved values back; objects merge key by key, anything else replaces.
function restoreFields(target: JsonObject, saved: JsonObject): void {
  for (const [k, v] of Object.entries(saved)) {
    const cur = target[k];
    if (isPlainObject(v) && isPlainObject(cur)) restoreFields(cur, v);
    else target[k] = cloneJson(v);
  }
}

// A saved value for a field both versions hold is only restored if the object still shows what it converted to,
// so an edit made in the other version wins over the saved spelling.
function restoreGuarded(target: JsonObject, saved: JsonObject, current: (key: string) => unknown, expected: (key: string, v: unknown) => unknown): void {
  for (const [k, v] of Object.entries(saved)) {
    if (deepEqual(current(k), expected(k, v))) target[k] = cloneJson(v);
  }
}

interface Direction {
  to: string;
  carries: string; // annotation this direction writes on its output
  consumes: string; // annotation this direction reads from its input
  spec: (s: unknown) => unknown;
  status: (s: unknown) => unknown;
  back: Direction | undefined;
  // restores saved values of fields both versions hold; `source` is the object being converted
  restoreShared: (out: JsonObject, saved: JsonObject, source: JsonObject) => void;
}

function takeAnnotation(obj: JsonObject, key: string): JsonObject | undefined {
  const annotations = field(obj, 'metadata', 'annotations');
  if (!isPlainObject(annotations) || typeof annotations[key] !== 'string') return undefined;
  const text = annotations[key];
  delete annotations[key];
  if (Object.keys(annotations).length === 0 && isPlainObject(obj.metadata)) {
    delete obj.metadata.annotations;
    if (Object.keys(obj.metadata).length === 0) delete obj.metadata;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return isPlainObject(parsed) ? parsed : undefined;
  } catch {
    return undefined; // a hand-edited, unreadable annotation only loses the saved fields
  }
}

function putAnnotation(obj: JsonObject, key: string, value: JsonObject): void {
  if (!isPlainObject(obj.metadata)) obj.metadata = {};
  const metadata = obj.metadata as JsonObject;
  if (!isPlainObject(metadata.annotations)) metadata.annotations = {};
  (metadata.annotations as JsonObject)[key] = JSON.stringify(sortedKeys(value));
}

// Stable text, so converting the same object twice writes the same annotation.
function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (!isPlainObject(v)) return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortedKeys(v[k])]));
}

function body(obj: JsonObject): JsonObject {
  const out: JsonObject = {};
  setIfDefined(out, 'spec', obj.spec);
  setIfDefined(out, 'status', obj.status);
  return out;
}

function naive(obj: JsonObject, d: Direction): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion') out[k] = d.to;
    else if (k === 'spec') out[k] = d.spec(v);
    else if (k === 'status') out[k] = d.status(v);
    else out[k] = cloneJson(v);
  }
  if (!Object.hasOwn(out, 'apiVersion')) out.apiVersion = d.to;
  return out;
}

// Only the annotations are edited (the saved fields are taken out); the converters copy whatever they put in the output.
function withOwnAnnotations(obj: JsonObject): JsonObject {
  const meta = obj.metadata;
  if (!isPlainObject(meta)) return { ...obj };
  return { ...obj, metadata: { ...meta, ...(isPlainObject(meta.annotations) ? { annotations: { ...meta.annotations } } : {}) } };
}

function convertOne(input: JsonObject, d: Direction): JsonObject {
  const back = d.back;
  if (!back) throw new Error('conversion direction without its inverse');
  // Not a deep clone: metadata (managedFields above all) is copied once, by naive() into the output.
  const source = withOwnAnnotations(input);
  const saved = takeAnnotation(source, d.consumes);
  takeAnnotation(source, d.carries); // a stale copy would be restored over newer values later
  const out = naive(source, d);
  if (saved) {
    d.restoreShared(out, saved, source);
    for (const part of ['spec', 'status']) {
      const s = saved[part];
      if (!isPlainObject(s)) continue;
      if (!isPlainObject(out[part])) out[part] = {};
      restoreFields(out[part] as JsonObject, s);
    }
  }
  const lost = lostFields(body(source), body(naive(body(out), back)));
  if (isPlainObject(lost)) putAnnotation(out, d.carries, lost);
  return out;
}

// Saved hyperparameters and state/phase are taken out of `saved` once handled, so the plain restore skips them.
function restoreSharedIntoV1(out: JsonObject, saved: JsonObject, source: JsonObject): void {
  const hp = field(saved, 'spec', 'hyperparameters');
  if (isPlainObject(hp) && isPlainObject(out.spec)) {
    const spec = out.spec;
    if (!isPlainObject(spec.hyperparameters)) spec.hyperparameters = {};
    restoreGuarded(spec.hyperparameters as JsonObject, hp, (k) => field(source, 'spec', 'hyperparameters', k), (_k, v) => hyperparameterToString(v));
    if (Object.keys(spec.hyperparameters as JsonObject).length === 0 && field(source, 'spec', 'hyperparameters') === undefined) delete spec.hyperparameters;
    delete (saved.spec as JsonObject).hyperparameters;
  }
  const state = field(saved, 'status', 'state');
  if (state !== undefined && isPlainObject(saved.status)) {
    if (isPlainObject(out.status) && deepEqual(field(source, 'status', 'phase'), phaseFromState(state))) out.status.state = cloneJson(state);
    delete saved.status.state;
  }
}

function restoreSharedIntoV1alpha1(out: JsonObject, saved: JsonObject, source: JsonObject): void {
  const hp = field(saved, 'spec', 'hyperparameters');
  if (isPlainObject(hp) && isPlainObject(out.spec)) {
    const spec = out.spec;
    if (!isPlainObject(spec.hyperparameters)) spec.hyperparameters = {};
    restoreGuarded(spec.hyperparameters as JsonObject, hp, (k) => field(source, 'spec', 'hyperparameters', k), hyperparameterFromString);
    if (Object.keys(spec.hyperparameters as JsonObject).length === 0 && field(source, 'spec', 'hyperparameters') === undefined) delete spec.hyperparameters;
    delete (saved.spec as JsonObject).hyperparameters;
  }
  const phase = field(saved, 'status', 'phase');
  if (phase !== undefined && isPlainObject(saved.status)) {
    if (isPlainObject(out.status) && deepEqual(field(source, 'status', 'state'), stateFromPhase(phase))) out.status.phase = cloneJson(phase);
    delete saved.status.phase;
  }
}

const down: Direction = {
  to: API_VERSION_V1ALPHA1, carries: V1_FIELDS_ANNOTATION, consumes: V1ALPHA1_FIELDS_ANNOTATION,
  spec: specDown, status: statusDown, back: undefined, restoreShared: restoreSharedIntoV1alpha1,
};
const up: Direction = {
  to: API_VERSION_V1, carries: V1ALPHA1_FIELDS_ANNOTATION, consumes: V1_FIELDS_ANNOTATION,
  spec: specUp, status: statusUp, back: down, restoreShared: restoreSharedIntoV1,
};
down.back = up;

export function toV1alpha1(job: TrainingJob): TrainingJobV1alpha1 {
  return convertOne(job as unknown as JsonObject, down) as unknown as TrainingJobV1alpha1;
}

export function toV1(job: TrainingJobV1alpha1): TrainingJob {
  return convertOne(job as unknown as JsonObject, up) as unknown as TrainingJob;
}

// The /convert entry point: any served version to any served version.
export function convertTrainingJob(obj: JsonObject, desiredAPIVersion: string): JsonObject {
  const from = obj.apiVersion;
  if (from === desiredAPIVersion) return cloneJson(obj);
  if (from === API_VERSION_V1 && desiredAPIVersion === API_VERSION_V1ALPHA1) return convertOne(obj, down);
  if (from === API_VERSION_V1ALPHA1 && desiredAPIVersion === API_VERSION_V1) return convertOne(obj, up);
  throw new ConversionError('UnsupportedConversion', `cannot convert TrainingJob from ${String(from)} to ${desiredAPIVersion}`, { from: String(from), to: desiredAPIVersion });
}
