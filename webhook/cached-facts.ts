// Policies, namespace labels and ResourceQuotas change rarely (quota usage moves with pods, and the
// apiserver enforces it on pods anyway) and are read on every review: serve them from a short-lived
// cache (concurrent misses share one read). Jobs come from the watch; the ledger is not cached here.
import type { ClusterFacts } from './cluster-facts.ts';
import { systemClock, type Clock } from '../clock/clock.ts';

interface Entry<T> {
  /** When the read that produced `value` started: a value is never served once it is ttlMs old. */
  at: number;
  value: Promise<T>;
}

export function cachedFacts(facts: ClusterFacts, ttlMs: number, clock: Pick<Clock, 'now'> = systemClock): ClusterFacts {
  const now = (): number => clock.now();
  const cache = new Map<string, Entry<unknown>>();
  const refreshing = new Set<string>();
  const load = <T>(key: string, read: () => Promise<T>): Promise<T> => {
    const value = read();
    cache.set(key, { at: now(), value });
    // A failed read is not cached: the next review tries again.
    value.catch(() => cache.get(key)?.value === value && cache.delete(key));
    return value;
  };
  // Past half its life an entry is re-read in the background, so steady traffic never waits for a read.
  const refresh = <T>(key: string, read: () => Promise<T>): void => {
    refreshing.add(key);
    const at = now();
    const value = read();
    value.then(
      () => {
        const current = cache.get(key);
        if (!current || current.at < at) cache.set(key, { at, value });
      },
      () => {}, // the entry stays until it expires; then a review reads (and sees the error) itself
    ).finally(() => refreshing.delete(key));
  };
  const cached = <T>(key: string, read: () => Promise<T>): Promise<T> => {
    const hit = cache.get(key) as Entry<T> | undefined;
    const age = hit ? now() - hit.at : Infinity;
    if (!hit || age >= ttlMs) return load(key, read);
    if (age >= ttlMs / 2 && !refreshing.has(key)) refresh(key, read);
    return hit.value;
  };
  return {
    namespace: (name) => cached(`ns/${name}`, () => facts.namespace(name)),
    namespaces: () => cached('namespaces', () => facts.namespaces()),
    policies: () => cached('policies', () => facts.policies()),
    jobs: (namespace, notOlderThan) => facts.jobs(namespace, notOlderThan),
    resourceQuotas: (namespace) => cached(`rq/${namespace}`, () => facts.resourceQuotas(namespace)),
    priorityClasses: () => cached('priorityclasses', () => facts.priorityClasses()),
    nodes: () => facts.nodes(), // from the replica's own watch (server.ts), never a list per review
  };
}
