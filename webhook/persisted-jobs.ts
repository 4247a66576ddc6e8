// Which TrainingJobs this replica has seen persisted, and at which resourceVersion, from a watch.
// A reservation whose job was seen persisted is no longer "in flight": a list not older than that
// version shows the job, unless it was deleted or finished since, and then its GPUs are free.
import type { Informer, KubeObject } from '../kube/index.ts';
import { systemClock, type Clock } from '../clock/clock.ts';

export interface PersistedJobs {
  /** resourceVersion at which namespace/name was first seen persisted, if it was. */
  seenAt(namespace: string, name: string): string | undefined;
}

// Long enough to cover every live reservation (they expire after pendingTtlMs).
const rememberMs = 10 * 60_000;

export function trackPersistedJobs(informer: Informer<KubeObject>, clock: Pick<Clock, 'now'> = systemClock): PersistedJobs {
  const now = (): number => clock.now();
  const seen = new Map<string, { rv: string; at: number }>();
  const note = (obj: KubeObject): void => {
    const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
    const rv = obj.metadata?.resourceVersion;
    if (rv && !seen.has(key)) seen.set(key, { rv, at: now() });
    // Map order is insertion order, so the oldest entries are first.
    for (const [k, v] of seen) {
      if (now() - v.at < rememberMs) break;
      seen.delete(k);
    }
  };
  informer.on({ add: note, update: (_old, obj) => note(obj), delete: note });
  return { seenAt: (namespace, name) => seen.get(`${namespace}/${name}`)?.rv };
}

