// Which fields we own differ between a desired child and the live one; server-set defaults and extra keys are not drift.
import type { V1Job, V1ObjectMeta, V1OwnerReference, V1PersistentVolumeClaim, V1Service } from '@kubernetes/client-node';
import { compareQuantities } from '../../api/quantity.ts';
import { isPlainObject } from '../../api/json.ts';
import type { Child } from './desired-children.ts';
import { RESUME_ENV } from './worker-env.ts';

export interface DriftedField {
  // kubectl-style: spec.template.spec.containers[0].env[3].value, metadata.labels[app.kubernetes.io/name]
  path: string;
  desired: unknown;
  actual: unknown;
  // false when the apiserver refuses to change it in place (the child must be recreated to fix it)
  mutable: boolean;
}

export interface ChildDrift {
  fields: DriftedField[];
  recreate: boolean;
}

type Difference = Omit<DriftedField, 'mutable'>;

const JOB_MUTABLE = new Set(['spec.parallelism', 'spec.completions', 'spec.backoffLimit', 'spec.suspend']);
const SERVICE_IMMUTABLE = ['spec.clusterIP', 'spec.clusterIPs'];
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function join(path: string, key: string): string {
  if (!IDENTIFIER.test(key)) return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

// Go's omitempty drops false, empty lists and empty maps, so the live object cannot hold them.
function omittedByServer(v: unknown): boolean {
  return v === false || (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0);
}

function isQuantity(v: unknown): v is string | number {
  return typeof v === 'string' || typeof v === 'number';
}

// Desired must be contained in actual: arrays match element by element, objects key by key, quantities by value.
function collect(desired: unknown, actual: unknown, path: string, out: Difference[]): void {
  if (desired === undefined) return;
  if (actual === undefined && omittedByServer(desired)) return;
  if (Array.isArray(desired)) {
    if (!Array.isArray(actual) || actual.length !== desired.length) {
      out.push({ path, desired, actual });
      return;
    }
    desired.forEach((d, i) => collect(d, actual[i], `${path}[${i}]`, out));
    return;
  }
  if (isPlainObject(desired)) {
    if (!isPlainObject(actual)) {
      out.push({ path, desired, actual });
      return;
    }
    for (const key of Object.keys(desired)) collect(desired[key], actual[key], join(path, key), out);
    return;
  }
  if (desired === actual) return;
  // The apiserver canonicalizes quantities: "1000m" comes back as "1", "2048Mi" as "2Gi".
  if (path.includes('.resources.') && isQuantity(desired) && isQuantity(actual) && compareQuantities(desired, actual) === 0) return;
  out.push({ path, desired, actual });
}

function controllerReferenced(desired: V1OwnerReference[] | undefined, actual: V1OwnerReference[] | undefined): boolean {
  return (desired ?? []).every((d) => (actual ?? []).some((a) => a.uid === d.uid && a.controller === d.controller));
}

function metadataDrift(desired: V1ObjectMeta | undefined, actual: V1ObjectMeta | undefined): Difference[] {
  const out: Difference[] = [];
  collect(desired?.labels, actual?.labels, 'metadata.labels', out);
  collect(desired?.annotations, actual?.annotations, 'metadata.annotations', out);
  if (!controllerReferenced(desired?.ownerReferences, actual?.ownerReferences)) {
    out.push({ path: 'metadata.ownerReferences', desired: desired?.ownerReferences, actual: actual?.ownerReferences });
  }
  return out;
}

// RESUME_FROM_CHECKPOINT is fixed when a generation is created; a later checkpoint must not look like drift.
function withoutResumeEnv(job: V1Job): unknown {
  const template = job.spec?.template;
  if (!template?.spec) return job.spec;
  const containers = template.spec.containers.map((c) => ({ ...c, ...(c.env ? { env: c.env.filter((e) => e.name !== RESUME_ENV) } : {}) }));
  return { ...job.spec, template: { ...template, spec: { ...template.spec, containers } } };
}

/**
 * The desired Job with the live Job's RESUME_FROM_CHECKPOINT: correcting a drifted field in place must not send a
 * pod template the apiserver refuses to change (the resume point moves on while a suspended generation waits).
 */
export function withLiveResumeEnv(desired: V1Job, live: V1Job): V1Job {
  const liveEnv = new Map((live.spec?.template?.spec?.containers ?? []).map((c) => [c.name, c.env ?? []]));
  const template = desired.spec?.template;
  if (!template?.spec) return desired;
  const containers = template.spec.containers.map((c) => {
    const env = (c.env ?? []).filter((e) => e.name !== RESUME_ENV);
    const was = liveEnv.get(c.name) ?? [];
    const at = was.findIndex((e) => e.name === RESUME_ENV);
    // At the live position too: the rest of the list is the same, and a reordered list is a changed template.
    if (at >= 0) env.splice(at, 0, was[at]!);
    return { ...c, env };
  });
  return { ...desired, spec: { ...desired.spec!, template: { ...template, spec: { ...template.spec, containers } } } };
}

function specDrift(desired: Child, actual: Child): DriftedField[] {
  const out: Difference[] = [];
  switch (desired.kind) {
    case 'Job':
      collect(withoutResumeEnv(desired as V1Job), withoutResumeEnv(actual as V1Job), 'spec', out);
      return out.map((d) => ({ ...d, mutable: JOB_MUTABLE.has(d.path) }));
    case 'Service':
      collect((desired as V1Service).spec, (actual as V1Service).spec, 'spec', out);
      return out.map((d) => ({ ...d, mutable: !SERVICE_IMMUTABLE.some((p) => d.path === p || d.path.startsWith(`${p}[`)) }));
    case 'ConfigMap': {
      const d = desired as { data?: Record<string, string> };
      collect(d.data, (actual as { data?: Record<string, string> }).data, 'data', out);
      return out.map((x) => ({ ...x, mutable: true }));
    }
    case 'PersistentVolumeClaim': {
      // Checkpoints are never destroyed to fix drift: only growing the volume is corrected, everything else is left alone.
      const want = (desired as V1PersistentVolumeClaim).spec?.resources?.requests?.storage;
      const have = (actual as V1PersistentVolumeClaim).spec?.resources?.requests?.storage;
      if (want !== undefined && (have === undefined || compareQuantities(want, have) === 1)) {
        return [{ path: 'spec.resources.requests.storage', desired: want, actual: have, mutable: true }];
      }
      return [];
    }
    default:
      return [];
  }
}

export function childDrift(desired: Child, actual: Child): ChildDrift {
  const fields: DriftedField[] = [
    ...metadataDrift(desired.metadata, actual.metadata).map((d) => ({ ...d, mutable: true })),
    ...specDrift(desired, actual),
  ];
  return { fields, recreate: fields.some((f) => !f.mutable) };
}
