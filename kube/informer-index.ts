// A secondary index over an informer's cache (e.g. pods by their Job), kept current by its events.
import type { Informer } from './informer.ts';
import { objectKey, type KubeObject } from './kube-object.ts';

/** Objects of `informer` grouped by `keyOf` (undefined: not indexed). */
export function indexBy<T extends KubeObject>(informer: Informer<T>, keyOf: (obj: T) => string | undefined): { get(key: string): T[] } {
  const index = new Map<string, Map<string, T>>();
  const put = (obj: T): void => {
    const key = keyOf(obj);
    if (!key) return;
    let bucket = index.get(key);
    if (!bucket) index.set(key, (bucket = new Map()));
    bucket.set(objectKey(obj), obj);
  };
  const drop = (obj: T): void => {
    const key = keyOf(obj);
    const bucket = key ? index.get(key) : undefined;
    bucket?.delete(objectKey(obj));
    if (bucket?.size === 0) index.delete(key!);
  };
  informer.on({ add: put, update: (old, obj) => { drop(old); put(obj); }, delete: drop });
  return { get: (key) => [...(index.get(key)?.values() ?? [])] };
}
