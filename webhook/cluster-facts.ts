// What the policy engine needs to know about the cluster, read through the Kubernetes API.
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, TRAININGJOB_PLURAL, TRAININGPOLICY_PLURAL, V1, type TrainingJob, type TrainingPolicy } from '../api/index.ts';
import type { NamespaceInfo, ResourceQuotaInfo } from '../policies/index.ts';

export interface ClusterFacts {
  namespace(name: string): Promise<NamespaceInfo>;
  policies(): Promise<TrainingPolicy[]>;
  /**
   * Consistent by default: the authoritative quota decision must see every persisted job. With
   * `fresh: false` the apiserver's watch cache answers at once, for advisory reads (a consistent
   * list right after a write waits for the cache to catch up, ~50-80 ms).
   */
  jobs(namespace: string, fresh?: boolean): Promise<TrainingJob[]>;
  resourceQuotas(namespace: string, fresh?: boolean): Promise<ResourceQuotaInfo[]>;
}

interface Listed<T> {
  items: T[];
}

export function kubeClusterFacts(kc: KubeConfig): ClusterFacts {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  return {
    async namespace(name) {
      const ns = await core.readNamespace({ name });
      return { name, labels: ns.metadata?.labels ?? {} };
    },
    async policies() {
      const list = (await custom.listClusterCustomObject({ group: GROUP, version: V1, plural: TRAININGPOLICY_PLURAL })) as Listed<TrainingPolicy>;
      return list.items;
    },
    async jobs(namespace, fresh = true) {
      const list = (await custom.listNamespacedCustomObject({ group: GROUP, version: V1, namespace, plural: TRAININGJOB_PLURAL, ...(fresh ? {} : { resourceVersion: '0' }) })) as Listed<TrainingJob>;
      return list.items;
    },
    async resourceQuotas(namespace, fresh = true) {
      const list = await core.listNamespacedResourceQuota({ namespace, ...(fresh ? {} : { resourceVersion: '0' }) });
      return list.items.map((rq) => ({ name: rq.metadata?.name ?? '', hard: rq.status?.hard ?? rq.spec?.hard ?? {}, used: rq.status?.used ?? {} }));
    },
  };
}
