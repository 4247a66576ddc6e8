// What the queue reads, from the manager's shared informers: policies and namespace labels (which limits apply) and PriorityClasses.
import type { V1PriorityClass } from '@kubernetes/client-node';
import { GROUP, TRAININGPOLICY_PLURAL, V1, type TrainingJob, type TrainingPolicy } from '../../api/index.ts';
import { matchingPolicies } from '../../policies/matching-policies.ts';
import { priorityClassInfo } from '../../policies/priority.ts';
import type { KubeObject } from '../../kube/index.ts';
import type { Manager } from '../runtime/index.ts';
import type { QueueFacts } from './queue-place.ts';

/** Registers the informers; the returned function gives a namespace's queue facts from `jobs` (the caller's cache). */
export function informerQueueFacts(manager: Manager, jobs: (namespace: string) => readonly TrainingJob[]): (namespace: string) => QueueFacts {
  const policies = manager.informer<TrainingPolicy & KubeObject>({ group: GROUP, version: V1, plural: TRAININGPOLICY_PLURAL }, { resyncMs: 0 });
  const namespaces = manager.informer<KubeObject>({ version: 'v1', plural: 'namespaces' }, { resyncMs: 0 });
  const classes = manager.informer<V1PriorityClass & KubeObject>({ group: 'scheduling.k8s.io', version: 'v1', plural: 'priorityclasses' }, { resyncMs: 0 });
  return (namespace) => {
    const labels = namespaces.get(undefined, namespace)?.metadata?.labels ?? {};
    return { jobs: jobs(namespace), policies: matchingPolicies(policies.list(), { name: namespace, labels }), classes: classes.list().map(priorityClassInfo) };
  };
}
