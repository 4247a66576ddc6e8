// Reclaim, pure: when lenders take back their own quota the cohort lends more than it has idle, and the borrowing
// namespaces give GPUs back, cheapest first (priority, GPU-hours since the checkpoint, youngest), no more than it takes.
import { gpuDemand, isQueued, isSuspended, isTerminal, type TrainingJob } from '../../api/index.ts';
import { borrowed, cohortIdle, type CohortFacts } from '../../policies/cohort.ts';
import { priorityValue, type PriorityClassInfo } from '../../policies/priority.ts';
import { gpuHoursSinceCheckpoint, type Victim } from './preemption.ts';

// A deletion held up longer (another component's finalizer) may keep its workers running: it counts as holding them again.
const LEAVING_MS = 120_000;
const deletedSince = (j: TrainingJob, now: number): number => (j.metadata?.deletionTimestamp ? now - Date.parse(String(j.metadata.deletionTimestamp)) : Infinity);

const running = (j: TrainingJob): boolean => !isTerminal(j) && !isSuspended(j) && !j.metadata?.deletionTimestamp;

/** The cohort with `gone` stopped: their namespaces use their GPUs no more. */
function without(cohort: CohortFacts, gone: readonly TrainingJob[]): CohortFacts {
  const freed = new Map<string, number>();
  for (const j of gone) freed.set(j.metadata?.namespace ?? '', (freed.get(j.metadata?.namespace ?? '') ?? 0) + gpuDemand(j));
  return { ...cohort, members: cohort.members.map((m) => ({ ...m, used: m.used - (freed.get(m.namespace) ?? 0) })) };
}

/**
 * The running jobs of borrowing namespaces to suspend so the cohort lends no more than its members leave idle; [] when it
 * does not. Any job of a borrowing namespace may go, marked or not: usage, not the mark, says who borrows.
 */
export function reclaimVictims(cohort: CohortFacts, jobs: readonly TrainingJob[], classes: readonly PriorityClassInfo[], now: number, spared: (job: TrainingJob) => boolean = () => false): Victim[] {
  if (cohortIdle(cohort.members) >= 0) return [];
  const borrowing = new Set(cohort.members.filter((m) => borrowed(m) > 0).map((m) => m.namespace));
  const candidates = jobs
    .filter((j) => running(j) && borrowing.has(j.metadata?.namespace ?? '') && !spared(j))
    .map((job) => ({ job, priority: priorityValue(job, classes), lostGpuHours: gpuHoursSinceCheckpoint(job, now) }))
    .sort((a, b) => a.priority - b.priority || a.lostGpuHours - b.lostGpuHours || String(b.job.status?.startTime ?? '').localeCompare(String(a.job.status?.startTime ?? '')));
  // Jobs being deleted give their GPUs back on their own: count them gone, so no other job is stopped in their stead.
  const leaving = jobs.filter((j) => !isTerminal(j) && !isQueued(j) && deletedSince(j, now) < LEAVING_MS && borrowing.has(j.metadata?.namespace ?? ''));
  const enough = (victims: readonly Victim[]): boolean => cohortIdle(without(cohort, [...leaving, ...victims.map((v) => v.job)]).members) >= 0;
  const chosen: Victim[] = [];
  for (const c of candidates) {
    if (enough(chosen)) break;
    chosen.push(c);
  }
  // Greedy may have taken a small job before a big one that alone suffices: give back any not needed, most expensive first.
  for (const v of [...chosen].reverse()) {
    const rest = chosen.filter((x) => x !== v);
    if (enough(rest)) chosen.splice(chosen.indexOf(v), 1);
  }
  return chosen;
}

/** Who needs its quota back, in words: the members using more of their own quota than they leave to lend. */
export function reclaimedFor(cohort: CohortFacts): string {
  const lenders = cohort.members.filter((m) => borrowed(m) === 0 && m.quota - m.used < m.lendingLimit).map((m) => `${m.namespace} (${m.used} of its ${m.quota} in use)`);
  return `cohort ${cohort.name}, reclaiming borrowed GPUs for ${lenders.join(', ') || 'its lenders'}`;
}
