// What the queue reads, from the manager's shared informers: policies and namespace labels (which limits and cohort apply), PriorityClasses, and the cohort's jobs.
import type { V1PriorityClass } from '@kubernetes/client-node';
import { GROUP, TRAININGPOLICY_PLURAL, V1, type TrainingJob, type TrainingPolicy } from '../../api/index.ts';
import { matchingPolicies } from '../../policies/matching-policies.ts';
import { cohortMembers, membership } from '../../policies/cohort.ts';
import { gpusInUse, jobsHoldingCapacity } from '../../policies/quota.ts';
import { priorityClassInfo } from '../../policies/priority.ts';
import type { KubeObject } from '../../kube/index.ts';
import type { Manager } from '../runtime/index.ts';
import type { QueueFacts } from './queue-place.ts';

export interface InformerQueueFacts {
  /** A namespace's queue facts, its jobs from `jobs` (the caller's cache). */
  (namespace: string): QueueFacts;
  /** Only the policies that select the namespace: what every reconcile reads, without listing the jobs. */
  policies(namespace: string): TrainingPolicy[];
  /** The namespaces whose queues share the namespace's capacity: its cohort's members, or itself. */
  cohortNamespaces(namespace: string): string[];
}

/** Registers the informers. */
export function informerQueueFacts(manager: Manager, jobs: (namespace: string) => readonly TrainingJob[]): InformerQueueFacts {
  const policies = manager.informer<TrainingPolicy & KubeObject>({ group: GROUP, version: V1, plural: TRAININGPOLICY_PLURAL }, { resyncMs: 0 });
  const namespaces = manager.informer<KubeObject>({ version: 'v1', plural: 'namespaces' }, { resyncMs: 0 });
  const classes = manager.informer<V1PriorityClass & KubeObject>({ group: 'scheduling.k8s.io', version: 'v1', plural: 'priorityclasses' }, { resyncMs: 0 });
  const selecting = (namespace: string): TrainingPolicy[] => matchingPolicies(policies.list(), { name: namespace, labels: namespaces.get(undefined, namespace)?.metadata?.labels ?? {} });
  const named = () => namespaces.list().flatMap((n) => (n.metadata?.name ? [{ name: n.metadata.name, labels: n.metadata.labels ?? {} }] : []));
  const cohortOf = (namespace: string): Pick<QueueFacts, 'cohort' | 'cohortJobs' | 'memberPolicies'> => {
    const mine = membership(selecting(namespace));
    if (!mine) return {};
    const members = cohortMembers(mine.cohort, policies.list(), named(), (ns) => gpusInUse(jobsHoldingCapacity(undefined, ns, jobs(ns))));
    return { cohort: { name: mine.cohort, members }, cohortJobs: members.flatMap((m) => jobs(m.namespace)), memberPolicies: selecting };
  };
  return Object.assign(
    (namespace: string): QueueFacts => ({ jobs: jobs(namespace), policies: selecting(namespace), classes: classes.list().map(priorityClassInfo), ...cohortOf(namespace) }),
    {
      policies: selecting,
      // Names only: this runs on every job event, so no member's jobs are read.
      cohortNamespaces: (namespace: string) => {
        const mine = membership(selecting(namespace));
        return mine ? cohortMembers(mine.cohort, policies.list(), named(), () => 0).map((m) => m.namespace) : [namespace];
      },
    },
  );
}
