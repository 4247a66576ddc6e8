// Policies and namespace labels change rarely and are read on every review: serve them from a
// short-lived cache (concurrent misses share one read). Jobs, quotas and the ledger stay uncached.
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
    resourceQuotas: (namespace) => facts.resourceQuotas(namespace),
  };
}
