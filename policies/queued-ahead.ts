// A new job joins its namespace's queue behind the queued jobs that would start before it: otherwise a stream of small
// creates that fit would pass a queued job for ever, whatever its priority. Backfill is the controller's decision
// (controller/queue/backfill.ts), made once, for the whole queue, within the limits a policy sets.
import { gpuDemand, isQueued, isTerminal, type TrainingJob } from '../api/trainingjob-v1.ts';
import { overQuotaAction, type TrainingPolicy } from '../api/trainingpolicy.ts';
import { priorityValue, type PriorityClassInfo } from './priority.ts';

/** The namespace's queued jobs that start before `job` (of at least its priority, so more urgent or older), first in line first. */
export function queuedAhead(job: TrainingJob, namespace: string, jobs: readonly TrainingJob[], classes: readonly PriorityClassInfo[]): TrainingJob[] {
  const mine = priorityValue(job, classes);
  return jobs
    .filter((j) => (j.metadata?.namespace ?? namespace) === namespace && j.metadata?.name !== job.metadata?.name && isQueued(j) && !isTerminal(j))
    .map((j) => ({ j, priority: priorityValue(j, classes) }))
    .filter((e) => e.priority >= mine)
    .sort((a, b) => b.priority - a.priority || String(a.j.metadata?.creationTimestamp ?? '').localeCompare(String(b.j.metadata?.creationTimestamp ?? '')))
    .map((e) => e.j);
}

/** Why a create that fits waits anyway (where a selecting policy queues), or undefined when no queued job is ahead of it. */
export function queueAheadMessage(job: TrainingJob, namespace: string, policies: readonly TrainingPolicy[], jobs: readonly TrainingJob[], classes: readonly PriorityClassInfo[]): string | undefined {
  if (!policies.some((p) => overQuotaAction(p) === 'Queue')) return undefined;
  const ahead = queuedAhead(job, namespace, jobs, classes);
  const first = ahead[0];
  if (!first) return undefined;
  return `namespace ${namespace} queue: ${ahead.length} ${ahead.length === 1 ? 'job' : 'jobs'} ahead of this one, first in line ${first.metadata?.name} (priority ${priorityValue(first, classes)}, ${gpuDemand(first)} GPUs)`;
}
