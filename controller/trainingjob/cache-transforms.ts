// What the TrainingJob controller's informer caches keep of each object: only what the reconciler,
// the child-drift checks and git sync read. At 5,000 jobs whole objects (managedFields, pod specs,
// server-set pod status) cost hundreds of MB; each transform here names every field it keeps.
import type { KubeObject } from '../../kube/index.ts';
import { capMessage } from './observed.ts';

type Json = Record<string, unknown>;
type Meta = NonNullable<KubeObject['metadata']> & Json;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Copies the listed keys that are present (no `key: undefined` that would change equality checks). */
function pick(from: Json | undefined, keys: readonly string[]): Json {
  const out: Json = {};
  if (!from) return out;
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}

/** Metadata every cached object keeps: identity, labels and annotations, owners, lifecycle. */
export const KEPT_METADATA = [
  'name', 'namespace', 'uid', 'resourceVersion', 'generation', 'labels', 'annotations',
  'ownerReferences', 'finalizers', 'creationTimestamp', 'deletionTimestamp',
] as const;

/**
 * managedFields reduced to who wrote when and which top-level fields: git sync's drift check reads
 * `fieldsV1['f:spec'] !== undefined` per manager and time; the per-field trees are most of an object's bytes.
 */
export function summarizeManagedFields(entries: unknown): Json[] | undefined {
  if (!Array.isArray(entries)) return undefined;
  return entries.filter(isObject).map((e) => {
    const out = pick(e, ['manager', 'operation', 'time']);
    if (isObject(e.fieldsV1)) out.fieldsV1 = Object.fromEntries(Object.keys(e.fieldsV1).map((k) => [k, {}]));
    return out;
  });
}

function trimmedMetadata(obj: KubeObject, withManagedFields = false): Meta {
  const meta = obj.metadata as Meta | undefined;
  const out = pick(meta, KEPT_METADATA) as Meta;
  if (withManagedFields) {
    const managed = summarizeManagedFields(meta?.managedFields);
    if (managed) out.managedFields = managed as never;
  }
  return out;
}

function withBody(obj: KubeObject, metadata: Meta, body: Json): KubeObject {
  return { ...pick(obj as Json, ['apiVersion', 'kind']), metadata, ...body } as KubeObject;
}

/** TrainingJobs: all of spec and status, metadata as above, managedFields summarized (git sync reads them). */
export function trimTrainingJob(obj: KubeObject): KubeObject {
  return withBody(obj, trimmedMetadata(obj, true), pick(obj as Json, ['spec', 'status']));
}

/** Worker Jobs: all of spec (drift compares the desired spec with it, template included) and status. */
export function trimWorkerJob(obj: KubeObject): KubeObject {
  return withBody(obj, trimmedMetadata(obj), pick(obj as Json, ['spec', 'status']));
}

/** Services: spec (drift); status is load balancer state, never read. */
export function trimService(obj: KubeObject): KubeObject {
  return withBody(obj, trimmedMetadata(obj), pick(obj as Json, ['spec']));
}

/** ConfigMaps: data (drift). */
export function trimConfigMap(obj: KubeObject): KubeObject {
  return withBody(obj, trimmedMetadata(obj), pick(obj as Json, ['data']));
}

/** Checkpoint PVCs: spec (drift reads the requested size) and status. */
export function trimClaim(obj: KubeObject): KubeObject {
  return withBody(obj, trimmedMetadata(obj), pick(obj as Json, ['spec', 'status']));
}

const keepTerminated = (state: unknown): Json | undefined => (isObject(state) ? pick(state, ['terminated']) : undefined);

/** A container's waiting reason and (capped) message: why it does not start (workerWait). */
function keepWaiting(state: unknown): Json | undefined {
  if (!isObject(state) || !isObject(state.waiting)) return undefined;
  const waiting = pick(state.waiting, ['reason']);
  if (typeof state.waiting.message === 'string') waiting.message = capMessage(state.waiting.message);
  return { waiting };
}

/** A condition's type, status and reason; the message only for PodScheduled (the scheduler's reason a worker waits), capped. */
function keepCondition(c: Json): Json {
  const out = pick(c, ['type', 'status', 'reason']);
  if (c.type === 'PodScheduled' && typeof c.message === 'string') out.message = capMessage(c.message);
  return out;
}

/**
 * Pods: only what observeWorkers, isDisrupted, workerWait and the progress scrape read. The pod spec (containers,
 * env, volumes) is the Job template's copy and never read; only the node it landed on is.
 */
export function trimPod(obj: KubeObject): KubeObject {
  const pod = obj as Json & { spec?: Json; status?: Json };
  const status = pick(pod.status, ['phase', 'reason', 'podIP']);
  const conditions = pod.status?.conditions;
  if (Array.isArray(conditions)) status.conditions = conditions.filter(isObject).map(keepCondition);
  const containers = pod.status?.containerStatuses;
  if (Array.isArray(containers)) {
    status.containerStatuses = containers.filter(isObject).map((c) => {
      const out = pick(c, ['name', 'ready', 'restartCount']);
      const state = keepTerminated(c.state);
      const last = keepTerminated(c.lastState);
      if (state) out.state = { ...state, ...keepWaiting(c.state) };
      if (last) out.lastState = last;
      return out;
    });
  }
  const inits = pod.status?.initContainerStatuses;
  if (Array.isArray(inits)) {
    const waiting = inits.filter(isObject).flatMap((c) => { const state = keepWaiting(c.state); return state ? [{ ...pick(c, ['name']), state }] : []; });
    if (waiting.length > 0) status.initContainerStatuses = waiting;
  }
  return withBody(obj, trimmedMetadata(obj), { spec: pick(pod.spec, ['nodeName']), status });
}
