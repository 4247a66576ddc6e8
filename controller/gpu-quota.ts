// The GPU quota of each namespace for `trainingjob_gpu_quota`, and the queue's totals for `trainingjob_queue_pending_*`. The controller exports it, not the webhook:
// its informers see every namespace and policy (a webhook replica only reads those it was asked about), and
// only the leader answers, so one series per namespace exists however many replicas of either run.
import { GROUP, TRAININGJOB_PLURAL, TRAININGPOLICY_PLURAL, V1, gpuDemand, isQueued, isTerminal, type TrainingJob, type TrainingPolicy } from '../api/index.ts';
import type { QueueTotals } from './metrics.ts';
import { trimTrainingJob } from './trainingjob/cache-transforms.ts';
import { matchingPolicies } from '../policies/matching-policies.ts';
import { membership } from '../policies/cohort.ts';
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

/**
 * Queued jobs and their GPUs per namespace, and the GPUs a cohort member uses beyond its own quota (`cohortQuotas`:
 * the quota of each namespace in a cohort); namespaces with neither are left out.
 */
export function queueTotals(jobs: readonly TrainingJob[], cohortQuotas: ReadonlyMap<string, number> = new Map()): QueueTotals {
  const queued = new Map<string, { jobs: number; gpus: number }>();
  const used = new Map<string, number>();
  for (const j of jobs) {
    const ns = j.metadata?.namespace ?? '';
    if (isQueued(j)) {
      const t = queued.get(ns) ?? { jobs: 0, gpus: 0 };
      queued.set(ns, { jobs: t.jobs + 1, gpus: t.gpus + gpuDemand(j) });
    } else if (!isTerminal(j)) used.set(ns, (used.get(ns) ?? 0) + gpuDemand(j));
  }
  const out = new Map<string, { jobs: number; gpus: number; borrowed: number }>();
  for (const ns of new Set([...queued.keys(), ...cohortQuotas.keys()])) {
    const borrowed = Math.max(0, (used.get(ns) ?? 0) - (cohortQuotas.get(ns) ?? Infinity));
    const t = queued.get(ns) ?? { jobs: 0, gpus: 0 };
    if (t.jobs > 0 || borrowed > 0) out.set(ns, { ...t, borrowed });
  }
  return out;
}

/** The TrainingJob informer is the reconciler's (shared), the policy and namespace ones leaderGpuQuotas's; answers only while this replica leads. */
export function leaderQueueTotals(manager: Manager): () => QueueTotals | undefined {
  const jobs = manager.informer<TrainingJob & KubeObject>({ group: GROUP, version: V1, plural: TRAININGJOB_PLURAL }, { transform: trimTrainingJob });
  const policies = manager.informer<TrainingPolicy & KubeObject>({ group: GROUP, version: V1, plural: TRAININGPOLICY_PLURAL }, { resyncMs: 0 });
  const namespaces = manager.informer<KubeObject>({ version: 'v1', plural: 'namespaces' }, { resyncMs: 0 });
  return () => {
    if (!manager.isLeader()) return undefined;
    const cohortQuotas = new Map<string, number>();
    for (const n of namespaces.list()) {
      const name = n.metadata?.name;
      const m = name ? membership(matchingPolicies(policies.list(), { name, labels: n.metadata?.labels ?? {} })) : undefined;
      if (name && m) cohortQuotas.set(name, m.quota);
    }
    return queueTotals(jobs.list(), cohortQuotas);
  };
}
