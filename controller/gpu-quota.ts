// The GPU quota of each namespace for `trainingjob_gpu_quota`. The controller exports it, not the webhook:
// its informers see every namespace and policy (a webhook replica only reads those it was asked about), and
// only the leader answers, so one series per namespace exists however many replicas of either run.
import { GROUP, TRAININGPOLICY_PLURAL, V1, type TrainingPolicy } from '../api/index.ts';
import { matchingPolicies } from '../policies/matching-policies.ts';
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
