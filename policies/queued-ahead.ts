// A new job joins its namespace's queue behind the queued jobs that would start before it: otherwise a stream of small
// creates that fit would pass a queued job for ever, whatever its priority. Backfill is the controller's decision
// (controller/queue/backfill.ts), made once, for the whole queue, within the limits a policy sets.
import { gpuDemand, isQueued, isTerminal, type TrainingJob } from '../api/trainingjob-v1.ts';
import { overQuotaAction, type TrainingPolicy } from '../api/trainingpolicy.ts';
import { priorityValue, type PriorityClassInfo } from './priority.ts';

// Code-point order: RFC 3339 times and DNS names compare right that way, and localeCompare was most of a long queue's sort.
const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The namespace's queued jobs, next to start first: higher priority, then older, then by name (a stable tie-break). */
export function queueOrder(jobs: readonly TrainingJob[], classes: readonly PriorityClassInfo[]): TrainingJob[] {
  const queued: { job: TrainingJob; priority: number; created: string; name: string }[] = [];
  for (const job of jobs) {
    if (isQueued(job)) queued.push({ job, priority: priorityValue(job, classes), created: String(job.metadata?.creationTimestamp ?? ''), name: job.metadata?.name ?? '' });
  }
  return queued.sort((a, b) => b.priority - a.priority || byCodePoint(a.created, b.created) || byCodePoint(a.name, b.name)).map((e) => e.job);
}

/** The namespace's queued jobs that start before `job` (of at least its priority, so more urgent or older), first in line first. */
export function queuedAhead(job: TrainingJob, namespace: string, jobs: readonly TrainingJob[], classes: readonly PriorityClassInfo[]): TrainingJob[] {
  const mine = priorityValue(job, classes);
  const theirs = jobs.filter((j) => (j.metadata?.namespace ?? namespace) === namespace && j.metadata?.name !== job.metadata?.name && !isTerminal(j));
  return queueOrder(theirs, classes).filter((j) => priorityValue(j, classes) >= mine);
}

/** Why a create that fits waits anyway (where a selecting policy queues), or undefined when no queued job is ahead of it. */
export function queueAheadMessage(job: TrainingJob, namespace: string, policies: readonly TrainingPolicy[], jobs: readonly TrainingJob[], classes: readonly PriorityClassInfo[]): string | undefined {
  if (!policies.some((p) => overQuotaAction(p) === 'Queue')) return undefined;
  const ahead = queuedAhead(job, namespace, jobs, classes);
  const first = ahead[0];
  if (!first) return undefined;
  return `namespace ${namespace} queue: ${ahead.length} ${ahead.length === 1 ? 'job' : 'jobs'} ahead of this one, first in line ${first.metadata?.name} (priority ${priorityValue(first, classes)}, ${gpuDemand(first)} GPUs)`;
}
