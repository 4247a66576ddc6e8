// What the policy engine needs to know about the cluster, read through the Kubernetes API.
import type { V1Namespace, V1Node, V1PriorityClass, V1ResourceQuota } from '@kubernetes/client-node';
import type { KubeClient, ListOptions } from '../kube/index.ts';
import { nodeGpuInfo } from '../kube/gpu-nodes.ts';
import { GROUP, TRAININGJOB_PLURAL, TRAININGPOLICY_PLURAL, V1, type TrainingJob, type TrainingPolicy } from '../api/index.ts';
import { priorityClassInfo, type NamespaceInfo, type NodeGpuInfo, type PriorityClassInfo, type ResourceQuotaInfo } from '../policies/index.ts';

export interface ClusterFacts {
  namespace(name: string): Promise<NamespaceInfo>;
  /** Every namespace with its labels: a cohort's members are found among them. */
  namespaces(): Promise<NamespaceInfo[]>;
  policies(): Promise<TrainingPolicy[]>;
  /**
   * Served from the apiserver's watch cache, but never older than `notOlderThan` (a
   * resourceVersion), so it includes every job visible at that version. A fully consistent list
   * would wait for the cache after any write anywhere (~50-80 ms measured).
   */
  jobs(namespace: string, notOlderThan?: string): Promise<JobList>;
  resourceQuotas(namespace: string): Promise<ResourceQuotaInfo[]>;
  priorityClasses(): Promise<PriorityClassInfo[]>;
  /** Allocatable GPUs per node. */
  nodes(): Promise<NodeGpuInfo[]>;
}

export interface JobList {
  items: TrainingJob[];
  /** The list's resourceVersion: everything persisted up to it is in `items`. */
  resourceVersion: string | undefined;
}

export function kubeClusterFacts(client: KubeClient): ClusterFacts {
  return {
    async namespace(name) {
      const ns = await client.get<V1Namespace>({ version: 'v1', plural: 'namespaces', name });
      return { name, labels: ns.metadata?.labels ?? {} };
    },
    async namespaces() {
      const list = await client.list<V1Namespace>({ version: 'v1', plural: 'namespaces' }, { resourceVersion: '0' });
      return list.items.map((ns) => ({ name: ns.metadata?.name ?? '', labels: ns.metadata?.labels ?? {} }));
    },
    async policies() {
      return (await client.list<TrainingPolicy>({ group: GROUP, version: V1, plural: TRAININGPOLICY_PLURAL })).items;
    },
    async jobs(namespace, notOlderThan) {
      const bound: ListOptions = notOlderThan ? { resourceVersion: notOlderThan, resourceVersionMatch: 'NotOlderThan' } : { resourceVersion: '0' };
      const list = await client.list<TrainingJob>({ group: GROUP, version: V1, plural: TRAININGJOB_PLURAL, namespace }, bound);
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion };
    },
    async resourceQuotas(namespace) {
      // Quota status changes with pods, not with admissions; the cache is as good as a quorum read here.
      const list = await client.list<V1ResourceQuota>({ version: 'v1', plural: 'resourcequotas', namespace }, { resourceVersion: '0' });
      return list.items.map((rq) => ({ name: rq.metadata?.name ?? '', hard: rq.status?.hard ?? rq.spec?.hard ?? {}, used: rq.status?.used ?? {} }));
    },
    async priorityClasses() {
      const list = await client.list<V1PriorityClass>({ group: 'scheduling.k8s.io', version: 'v1', plural: 'priorityclasses' }, { resourceVersion: '0' });
      return list.items.map(priorityClassInfo);
    },
    async nodes() {
      return (await client.list<V1Node>({ version: 'v1', plural: 'nodes' }, { resourceVersion: '0' })).items.map(nodeGpuInfo);
    },
  };
}
