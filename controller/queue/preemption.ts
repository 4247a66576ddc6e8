// Which running jobs the first in line may preempt, pure: only lower priority, the cheapest to lose first, never
// more than needed, and none at all unless the job then fits.
import { gpuDemand, isSuspended, isTerminal, preemptsWithinNamespace, type TrainingJob } from '../../api/index.ts';
import { priorityValue } from '../../policies/priority.ts';
import { capacityShortfall, type QueueFacts } from './queue-place.ts';

export interface Victim {
  job: TrainingJob;
  priority: number;
  /** GPU-hours done since the job's last checkpoint (since it started when it has none): what preempting it throws away. */
  lostGpuHours: number;
}

/** GPU-hours at risk: GPUs held × time since the newest of the last checkpoint, the start, and the last release from the queue (time queued is no work). */
export function gpuHoursSinceCheckpoint(job: TrainingJob, now: number): number {
  const released = job.status?.conditions?.find((c) => c.type === 'Queued' && c.status === 'False')?.lastTransitionTime;
  const since = Math.max(...[job.status?.lastCheckpointTime, job.status?.startTime, released].map((t) => Date.parse(t ?? '') || 0));
  if (!since) return 0;
  return (gpuDemand(job) * Math.max(0, now - since)) / 3_600_000;
}

const holding = (j: TrainingJob): boolean => !isTerminal(j) && !isSuspended(j) && !j.metadata?.deletionTimestamp;

/**
 * The victims that let `head` start, or [] when preemption is off, nothing lower-priority runs, or
 * even preempting every candidate (but the `spared`) would not make room. Candidates go cheapest first: lowest priority,
 * then fewest GPU-hours lost, then youngest; then any victim the job fits without is spared again.
 */
export function chooseVictims(head: TrainingJob, facts: QueueFacts, now: number, spared: (job: TrainingJob) => boolean = () => false): Victim[] {
  if (!preemptsWithinNamespace(facts.policies) || !capacityShortfall(head, facts)) return [];
  const mine = priorityValue(head, facts.classes);
  const candidates = facts.jobs
    .filter((j) => holding(j) && j.metadata?.name !== head.metadata?.name && !spared(j))
    .map((job) => ({ job, priority: priorityValue(job, facts.classes), lostGpuHours: gpuHoursSinceCheckpoint(job, now) }))
    .filter((c) => c.priority < mine)
    .sort((a, b) => a.priority - b.priority || a.lostGpuHours - b.lostGpuHours || String(b.job.status?.startTime ?? '').localeCompare(String(a.job.status?.startTime ?? '')));
  const fitsWithout = (victims: readonly Victim[]): boolean => {
    const gone = new Set(victims.map((v) => v.job));
    return !capacityShortfall(head, { ...facts, jobs: facts.jobs.filter((j) => !gone.has(j)) });
  };
  const chosen: Victim[] = [];
  for (const c of candidates) {
    chosen.push(c);
    if (fitsWithout(chosen)) break;
  }
  if (!fitsWithout(chosen)) return [];
  // Greedy may have taken a small job before the big one that alone suffices: give back any that is not needed, most expensive first.
  for (const v of [...chosen].reverse()) {
    const rest = chosen.filter((x) => x !== v);
    if (fitsWithout(rest)) chosen.splice(chosen.indexOf(v), 1);
  }
  return chosen;
}
