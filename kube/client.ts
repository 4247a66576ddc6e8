// The one small Kubernetes client of the product: the verbs our components use, as plain JSON over the
// KubeConfig's one keep-alive pool, each call waiting for the caller's rate limiter, optionally as
// another user (impersonation). Objects come back exactly as the apiserver sent them.
import type { KubeConfig } from '@kubernetes/client-node';
import { objectPath, resourcePath, type ResourceRef } from './informer.ts';
import { requestJson, statusCode, type JsonRequest } from './json-request.ts';
import type { RateLimiter } from './rate-limiter.ts';

/** A resource in one namespace (or a cluster-scoped one) and the name of one object of it. */
export type ObjectRef = ResourceRef & { name: string };

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** '0': any cached version (cheap); with resourceVersionMatch 'NotOlderThan', at least this one. */
  resourceVersion?: string;
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
  limit?: number;
  continue?: string;
}

export interface KubeList<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export type PatchType = 'merge' | 'json' | 'strategic';

const PATCH_CONTENT_TYPE: Record<PatchType | 'apply', string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  /** Delete only this version of the object (409 when it changed since). */
  preconditions?: { resourceVersion?: string; uid?: string };
}

export interface KubeClient {
  get<T>(ref: ObjectRef): Promise<T>;
  /** The object, or undefined when it does not exist (404). */
  find<T>(ref: ObjectRef): Promise<T | undefined>;
  list<T>(ref: ResourceRef, opts?: ListOptions): Promise<KubeList<T>>;
  create<T>(ref: ResourceRef, body: unknown): Promise<T>;
  /** A full update, guarded by the body's metadata.resourceVersion when set (409 on a newer version). */
  replace<T>(ref: ObjectRef, body: unknown): Promise<T>;
  /** Server-side apply as `fieldManager`; `force` takes over fields another manager owns. */
  apply<T>(ref: ObjectRef, body: unknown, opts: { fieldManager: string; force?: boolean }): Promise<T>;
  patch<T>(ref: ObjectRef, body: unknown, type?: PatchType): Promise<T>;
  /** A merge patch of the status subresource. */
  patchStatus<T>(ref: ObjectRef, body: unknown): Promise<T>;
  delete(ref: ObjectRef, opts?: DeleteOptions): Promise<void>;
  /** The same client acting as `user` (e.g. `system:serviceaccount:ns:name`), sharing its limiter: the apiserver authorizes each call as that user. */
  as(user: string): KubeClient;
}

export interface KubeClientOptions {
  kubeConfig: KubeConfig;
  /** Every call waits for a token; omit for calls that must never queue (leases) or are rare (startup). */
  limiter?: RateLimiter;
  userAgent?: string;
  /** Per request; default 30 s. */
  timeoutMs?: number;
}

export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;

export function createKubeClient(opts: KubeClientOptions): KubeClient {
  return clientActingAs(opts, undefined);
}

function clientActingAs(opts: KubeClientOptions, user: string | undefined): KubeClient {
  const { kubeConfig, limiter, userAgent, timeoutMs } = opts;
  const headers = user ? { 'impersonate-user': user } : undefined;
  const send = <T>(req: JsonRequest): Promise<T> => {
    const call = (): Promise<T> => requestJson<T>(kubeConfig, { ...(userAgent ? { userAgent } : {}), ...(timeoutMs ? { timeoutMs } : {}), ...req, headers: { ...headers, ...req.headers } });
    return limiter ? limiter.limit(call, req.signal) : call();
  };
  const get = <T>(ref: ObjectRef): Promise<T> => send<T>({ path: objectPath(ref, ref.name) });
  return {
    get,
    async find<T>(ref: ObjectRef) {
      try {
        return await get<T>(ref);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    list: <T>(ref: ResourceRef, o: ListOptions = {}) => send<KubeList<T>>({ path: resourcePath(ref), query: { ...o } }),
    create: <T>(ref: ResourceRef, body: unknown) => send<T>({ method: 'POST', path: resourcePath(ref), body }),
    replace: <T>(ref: ObjectRef, body: unknown) => send<T>({ method: 'PUT', path: objectPath(ref, ref.name), body }),
    apply: <T>(ref: ObjectRef, body: unknown, o: { fieldManager: string; force?: boolean }) =>
      send<T>({ method: 'PATCH', path: objectPath(ref, ref.name), query: { fieldManager: o.fieldManager, ...(o.force ? { force: true } : {}) }, body, contentType: PATCH_CONTENT_TYPE.apply }),
    patch: <T>(ref: ObjectRef, body: unknown, type: PatchType = 'merge') => send<T>({ method: 'PATCH', path: objectPath(ref, ref.name), body, contentType: PATCH_CONTENT_TYPE[type] }),
    patchStatus: <T>(ref: ObjectRef, body: unknown) => send<T>({ method: 'PATCH', path: `${objectPath(ref, ref.name)}/status`, body, contentType: PATCH_CONTENT_TYPE.merge }),
    async delete(ref: ObjectRef, o: DeleteOptions = {}) {
      const body = o.propagationPolicy || o.preconditions ? { apiVersion: 'v1', kind: 'DeleteOptions', ...o } : undefined;
      await send({ method: 'DELETE', path: objectPath(ref, ref.name), ...(body ? { body } : {}) });
    },
    as: (next: string) => clientActingAs(opts, next),
  };
}
