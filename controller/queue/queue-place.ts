// The queue of a namespace, pure: queued jobs in start order (priority, then creation), and what holds each back.
import { QUEUED_ANNOTATION, gpuDemand, isQueued, type QueueStatus, type TrainingJob } from '../../api/index.ts';
import type { TrainingPolicy } from '../../api/trainingpolicy.ts';
import { priorityValue, type PriorityClassInfo } from '../../policies/priority.ts';
import { capacityViolations } from '../../policies/quota.ts';

/** How a preempted job's queue annotation begins (controller/trainingjob/reconciler.ts writes it). */
export const PREEMPTED_BY = 'preempted by ';

/** The first in line's reason when no limit we know of holds it: it is about to ask to start. */
export const CAPACITY_FREE = 'capacity is free: starting';

const creation = (j: TrainingJob): string => String(j.metadata?.creationTimestamp ?? '');

/** The namespace's queued jobs, next to start first: higher priority, then older, then by name (a stable tie-break). */
export function queueOrder(jobs: readonly TrainingJob[], classes: readonly PriorityClassInfo[]): TrainingJob[] {
  return jobs
    .filter((j) => isQueued(j))
    .map((job) => ({ job, priority: priorityValue(job, classes) }))
    .sort((a, b) => b.priority - a.priority || creation(a.job).localeCompare(creation(b.job)) || (a.job.metadata?.name ?? '').localeCompare(b.job.metadata?.name ?? ''))
    .map((e) => e.job);
}

export interface QueueFacts {
  /** Every TrainingJob of the namespace (queued, running and finished). */
  jobs: readonly TrainingJob[];
  /** The policies that select the namespace. */
  policies: readonly TrainingPolicy[];
  classes: readonly PriorityClassInfo[];
}

/** The limits `job` would pass now, in the webhook's words, or undefined when it would fit. */
export function capacityShortfall(job: TrainingJob, facts: QueueFacts): string | undefined {
  const namespace = job.metadata?.namespace ?? '';
  const over = capacityViolations(job, namespace, facts.policies, facts.jobs, []);
  return over.length ? over.map((v) => v.message).join('; ') : undefined;
}

/**
 * Where `job` stands in its namespace's queue and why it waits, or undefined when it is not queued.
 * Only the first in line asks to start, so a job further back names the one it waits behind as well.
 */
export function queuePlace(job: TrainingJob, facts: QueueFacts): QueueStatus | undefined {
  if (!isQueued(job)) return undefined;
  const order = queueOrder(facts.jobs, facts.classes);
  const index = order.findIndex((j) => j.metadata?.name === job.metadata?.name);
  if (index < 0) return undefined;
  const priority = priorityValue(job, facts.classes);
  // A preempted job keeps saying so while it waits: the why of its wait starts there.
  const note = job.metadata?.annotations?.[QUEUED_ANNOTATION];
  const shortfall = capacityShortfall(job, facts);
  const own = note?.startsWith(PREEMPTED_BY) ? [note, shortfall].filter(Boolean).join('; ') : shortfall;
  if (index === 0) return { position: 1, priority, reason: own ?? CAPACITY_FREE };
  const head = order[0]!;
  const ahead = `${index} ${index === 1 ? 'job' : 'jobs'} ahead; next to start: ${head.metadata?.name} (priority ${priorityValue(head, facts.classes)}, ${gpuDemand(head)} GPUs)`;
  return { position: index + 1, priority, reason: own ? `${ahead}; ${own}` : ahead };
}
