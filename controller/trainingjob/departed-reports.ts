// Checkpoint reports of worker pods that left the cache before a reconcile saw them. A preempted or suspended
// worker writes its SIGTERM report into its pod's status moments before the pod is deleted; the reconcile that
// update queued may run after the delete, and without this memory the report (and the work since the last
// epoch count) would be lost.
import type { V1Pod } from '@kubernetes/client-node';
import { parseCheckpointReport, type CheckpointReport } from './checkpoint-report.ts';
import { observeWorkers } from './observed.ts';

export interface RankedReport {
  rank: number;
  report: CheckpointReport;
  // the pod it came from: one pod counts once, and a reconcile forgets only what it wrote down
  pod: string;
  // the uid of the worker Job that owned the pod: a Job of the same name created later is another run
  jobUid?: string;
}

export interface DepartedReports {
  /** A worker pod gone from the cache: keeps its report, if its last state had one. */
  remember(pod: V1Pod, jobName: string | undefined): void;
  /** Reports of the worker Job's departed pods, oldest first. */
  of(namespace: string, jobName: string): RankedReport[];
  /** Drops these reports once a status write has kept what they said. */
  forget(namespace: string, jobName: string, reports: readonly RankedReport[]): void;
  size(): number;
}

// Long enough for a busy controller's queue; a report that waited longer is kept by the next one's reconcile anyway.
const KEEP_MS = 10 * 60_000;
// A bound on memory when pods of thousands of jobs go at once; the oldest go first.
const MAX_ENTRIES = 10_000;

export function departedReports(now: () => number): DepartedReports {
  // namespace/jobName → pod name → report and when it was seen
  const byJob = new Map<string, Map<string, { report: RankedReport; at: number }>>();
  let count = 0;
  let expiredAt = 0;
  const expire = (): void => {
    const at = now();
    // A full sweep at most once a minute, unless over the bound.
    if (at - expiredAt < 60_000 && count <= MAX_ENTRIES) return;
    expiredAt = at;
    for (const [key, pods] of byJob) {
      for (const [name, e] of pods) {
        if (at - e.at < KEEP_MS && count <= MAX_ENTRIES) continue;
        pods.delete(name);
        count--;
      }
      if (pods.size === 0) byJob.delete(key);
    }
  };
  return {
    remember(pod, jobName) {
      const namespace = pod.metadata?.namespace;
      if (!namespace || !jobName) return;
      const worker = observeWorkers([pod], jobName)[0];
      const report = parseCheckpointReport(worker?.terminationMessage);
      if (!worker || !report) return;
      const key = `${namespace}/${jobName}`;
      let pods = byJob.get(key);
      if (!pods) byJob.set(key, (pods = new Map()));
      if (!pods.has(worker.podName)) count++;
      const owner = pod.metadata?.ownerReferences?.find((r) => r.kind === 'Job' && r.controller)?.uid ?? pod.metadata?.labels?.['batch.kubernetes.io/controller-uid'];
      pods.set(worker.podName, { report: { rank: worker.index, report, pod: worker.podName, ...(owner ? { jobUid: owner } : {}) }, at: now() });
      expire();
    },
    of(namespace, jobName) {
      const pods = byJob.get(`${namespace}/${jobName}`);
      if (!pods) return [];
      const at = now();
      return [...pods.values()].filter((e) => at - e.at < KEEP_MS).sort((a, b) => a.at - b.at).map((e) => e.report);
    },
    forget(namespace, jobName, reports) {
      const key = `${namespace}/${jobName}`;
      const pods = byJob.get(key);
      if (!pods) return;
      for (const r of reports) {
        const e = pods.get(r.pod);
        // Only the report that was written down: a newer one from the same pod name stays.
        if (e && e.report.report.checkpoint === r.report.checkpoint) {
          pods.delete(r.pod);
          count--;
        }
      }
      if (pods.size === 0) byJob.delete(key);
    },
    size: () => count,
  };
}
