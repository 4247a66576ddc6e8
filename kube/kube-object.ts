// The few object fields the runtime reads, and keys (`namespace/name`) that name an object in queues.
import type { OwnerReference } from '../api/meta.ts';

export type { OwnerReference };

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    deletionTimestamp?: string;
  };
}

/** `namespace/name`, or just `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/**
 * Maps a child to the key of its controlling owner of the given kind (same namespace), so child
 * events reconcile the owner; children without such an owner map to nothing.
 */
export function controllerOwnerKey(owner: { apiVersion?: string; kind: string }): (obj: KubeObject) => string[] {
  const group = owner.apiVersion?.split('/')[0];
  return (obj) => {
    const ref = obj.metadata?.ownerReferences?.find((r) => r.controller === true && r.kind === owner.kind && (group === undefined || r.apiVersion.split('/')[0] === group));
    if (!ref) return [];
    const ns = obj.metadata?.namespace;
    return [ns ? `${ns}/${ref.name}` : ref.name];
  };
}
