// The GPU quota of each namespace for `trainingjob_gpu_quota`, and the queue's totals for `trainingjob_queue_pending_*`. The controller exports it, not the webhook:
// its informers see every namespace and policy (a webhook replica only reads those it was asked about), and
// only the leader answers, so one series per namespace exists however many replicas of either run.
import { GROUP, TRAININGJOB_PLURAL, TRAININGPOLICY_PLURAL, V1, gpuDemand, isQueued, isTerminal, type TrainingJob, type TrainingPolicy } from '../api/index.ts';
import type { QueueTotals } from './metrics.ts';
import { trimTrainingJob } from './trainingjob/cache-transforms.ts';
import { matchingPolicies } from '../policies/matching-policies.ts';
import { borrowedGpus } from '../policies/cohort.ts';
import type { KubeObject } from '../kube/index.ts';
import type { Manager } from './runtime/index.ts';

/** The webhook's limit per namespace: the smallest gpuQuota among the policies that select it; namespaces without one are left out. */
export function namespaceGpuQuotas(policies: readonly TrainingPolicy[], namespaces: readonly { name: string; labels?: Record<string, string> }[]): Map<string, number> {
  const quotas = new Map<string, number>();
  for (const ns of namespaces) {
    const limits = matchingPolicies(policies, ns).flatMap((p) => (p.spec?.gpuQuota === undefined ? [] : [p.spec.gpuQuota]));
    if (limits.length) quotas.set(ns.name, Math.min(...limits));
  }
  return quotas;
}

/** Registers the policy and namespace informers; the returned source answers only while this replica leads. */
export function leaderGpuQuotas(manager: Manager): () => ReadonlyMap<string, number> | undefined {
  const policies = manager.informer<TrainingPolicy & KubeObject>({ group: GROUP, version: V1, plural: TRAININGPOLICY_PLURAL }, { resyncMs: 0 });
  const namespaces = manager.informer<KubeObject>({ version: 'v1', plural: 'namespaces' }, { resyncMs: 0 });
  return () => {
    if (!manager.isLeader()) return undefined;
    const named = namespaces.list().flatMap((n) => (n.metadata?.name ? [{ name: n.metadata.name, ...(n.metadata.labels ? { labels: n.metadata.labels } : {}) }] : []));
    return namespaceGpuQuotas(policies.list(), named);
  };
}

/** Queued jobs and their GPUs, and GPUs borrowed by running jobs, per namespace (namespaces with none are left out), for the queue gauges. */
export function queueTotals(jobs: readonly TrainingJob[]): QueueTotals {
  const out = new Map<string, { jobs: number; gpus: number; borrowed: number }>();
  for (const j of jobs) {
    const queued = isQueued(j);
    const borrowing = !queued && !isTerminal(j) ? borrowedGpus(j) : 0;
    if (!queued && borrowing === 0) continue;
    const ns = j.metadata?.namespace ?? '';
    const t = out.get(ns) ?? { jobs: 0, gpus: 0, borrowed: 0 };
    out.set(ns, queued ? { ...t, jobs: t.jobs + 1, gpus: t.gpus + gpuDemand(j) } : { ...t, borrowed: t.borrowed + borrowing });
  }
  return out;
}

/** The TrainingJob informer is the reconciler's (shared); answers only while this replica leads. */
export function leaderQueueTotals(manager: Manager): () => QueueTotals | undefined {
  const jobs = manager.informer<TrainingJob & KubeObject>({ group: GROUP, version: V1, plural: TRAININGJOB_PLURAL }, { transform: trimTrainingJob });
  return () => (manager.isLeader() ? queueTotals(jobs.list()) : undefined);
}
