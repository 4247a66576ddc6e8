// TrainingJob lists served from the replica's own watch instead of the apiserver: a list of every
// job in a namespace per admission made admission O(jobs), and a sync of N files O(N²).
import type { TrainingJob } from '../api/index.ts';
import type { Informer, KubeObject } from '../kube/index.ts';
import type { ClusterFacts, JobList } from './cluster-facts.ts';
import { newestVersion } from '../kube/index.ts';
import { sleep, systemClock, type Clock } from '../clock/clock.ts';

export interface InformerJobsOptions {
  informer: Informer<KubeObject>;
  /** Asked when the watch is not (yet) at `notOlderThan`. */
  fallback: ClusterFacts['jobs'];
  /** How long to wait for the watch to reach `notOlderThan` before asking the apiserver. */
  catchUpMs?: number;
  onServed?: (from: 'watch' | 'apiserver') => void;
  clock?: Clock;
}

const reached = (rv: string, notOlderThan: string | undefined): boolean => rv !== '' && (!notOlderThan || newestVersion([notOlderThan, rv]) === rv);

/**
 * The watch's cache at resourceVersion R is exactly what a list at R returns, so it serves any
 * "not older than X" with R ≥ X; the list's resourceVersion is R, so later reads ask for no more.
 */
export function informerJobs(opts: InformerJobsOptions): ClusterFacts['jobs'] {
  const { informer, fallback } = opts;
  const catchUpMs = opts.catchUpMs ?? 250;
  const clock = opts.clock ?? systemClock;
  const fromWatch = (namespace: string): JobList => ({ items: informer.list(namespace) as TrainingJob[], resourceVersion: informer.resourceVersion() });
  return async (namespace, notOlderThan) => {
    if (informer.hasSynced()) {
      const deadline = clock.now() + catchUpMs;
      for (;;) {
        // Read the version before the items: the cache may only be newer than what it reports.
        const rv = informer.resourceVersion();
        if (reached(rv, notOlderThan)) {
          opts.onServed?.('watch');
          return { ...fromWatch(namespace), resourceVersion: rv };
        }
        if (clock.now() >= deadline) break;
        await sleep(clock, 5);
      }
    }
    opts.onServed?.('apiserver');
    return fallback(namespace, notOlderThan);
  };
}
