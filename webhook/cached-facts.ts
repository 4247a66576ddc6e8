// Policies, namespace labels and ResourceQuotas change rarely (quota usage moves with pods, and the
// apiserver enforces it on pods anyway) and are read on every review: serve them from a short-lived
// cache (concurrent misses share one read). Jobs come from the watch; the ledger stays uncached.
import type { ClusterFacts } from './cluster-facts.ts';

interface Entry<T> {
  at: number;
  value: Promise<T>;
}

export function cachedFacts(facts: ClusterFacts, ttlMs: number, now: () => number = Date.now): ClusterFacts {
  const cache = new Map<string, Entry<unknown>>();
  const cached = <T>(key: string, load: () => Promise<T>): Promise<T> => {
    const hit = cache.get(key) as Entry<T> | undefined;
    if (hit && now() - hit.at < ttlMs) return hit.value;
    const value = load();
    cache.set(key, { at: now(), value });
    // A failed read is not cached: the next review tries again.
    value.catch(() => cache.get(key)?.value === value && cache.delete(key));
    return value;
  };
  return {
    namespace: (name) => cached(`ns/${name}`, () => facts.namespace(name)),
    policies: () => cached('policies', () => facts.policies()),
    jobs: (namespace, notOlderThan) => facts.jobs(namespace, notOlderThan),
    resourceQuotas: (namespace) => cached(`rq/${namespace}`, () => facts.resourceQuotas(namespace)),
  };
}
