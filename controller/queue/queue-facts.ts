// What the queue reads, from the manager's shared informers: policies and namespace labels (which limits apply) and PriorityClasses.
import type { V1PriorityClass } from '@kubernetes/client-node';
import { GROUP, TRAININGPOLICY_PLURAL, V1, type TrainingJob, type TrainingPolicy } from '../../api/index.ts';
import { matchingPolicies } from '../../policies/matching-policies.ts';
import { priorityClassInfo } from '../../policies/priority.ts';
import type { KubeObject } from '../../kube/index.ts';
import type { Manager } from '../runtime/index.ts';
import type { QueueFacts } from './queue-place.ts';

export interface InformerQueueFacts {
  /** A namespace's queue facts, its jobs from `jobs` (the caller's cache). */
  (namespace: string): QueueFacts;
  /** Only the policies that select the namespace: what every reconcile reads, without listing the jobs. */
  policies(namespace: string): TrainingPolicy[];
}

/** Registers the informers. */
export function informerQueueFacts(manager: Manager, jobs: (namespace: string) => readonly TrainingJob[]): InformerQueueFacts {
  const policies = manager.informer<TrainingPolicy & KubeObject>({ group: GROUP, version: V1, plural: TRAININGPOLICY_PLURAL }, { resyncMs: 0 });
  const namespaces = manager.informer<KubeObject>({ version: 'v1', plural: 'namespaces' }, { resyncMs: 0 });
  const classes = manager.informer<V1PriorityClass & KubeObject>({ group: 'scheduling.k8s.io', version: 'v1', plural: 'priorityclasses' }, { resyncMs: 0 });
  const selecting = (namespace: string): TrainingPolicy[] => matchingPolicies(policies.list(), { name: namespace, labels: namespaces.get(undefined, namespace)?.metadata?.labels ?? {} });
  return Object.assign((namespace: string): QueueFacts => ({ jobs: jobs(namespace), policies: selecting(namespace), classes: classes.list().map(priorityClassInfo) }), { policies: selecting });
}
