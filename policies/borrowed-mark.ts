// The borrowed-GPUs mark is how borrowing shows (the Borrowing condition, the reclaimable list of `trainingjob queue`,
// trainingjob_borrowed_gpus): only what the controller would do may change it, so it never hides a borrower nor invents one.
import { BORROWED_ANNOTATION } from '../api/annotations.ts';
import { gpuDemand, isQueued, isTerminal, type TrainingJob } from '../api/trainingjob-v1.ts';
import type { TrainingPolicy } from '../api/trainingpolicy.ts';
import { borrowedGpus, membership } from './cohort.ts';
import { gpusInUse, jobsHoldingCapacity } from './quota.ts';
import { violation, type Violation } from './violation.ts';

const FIELD = `metadata.annotations[${BORROWED_ANNOTATION}]`;

/**
 * An update of a running job (neither side queued) may not add or raise the mark (only a start from the queue sets it),
 * nor drop or lower it while the namespace's jobs (this one included) still use more than its own quota. `policies`: those selecting the namespace.
 */
export function borrowedMarkViolations(oldJob: TrainingJob, job: TrainingJob, namespace: string, policies: readonly TrainingPolicy[], namespaceJobs: readonly TrainingJob[]): Violation[] {
  if (isQueued(oldJob) || isQueued(job)) return [];
  const before = borrowedGpus(oldJob);
  const after = borrowedGpus(job);
  if (after > before) {
    return [violation(FIELD, `only the controller marks a job as running on borrowed GPUs, when it starts it from the queue (was ${before || 'unset'}, now ${after})`, 'BorrowedMarkSet')];
  }
  const own = membership(policies);
  // A finished job holds nothing; a job a user suspends still counts against the quota, so it keeps its mark too.
  if (after === before || !own || isTerminal(job)) return [];
  const used = gpusInUse(jobsHoldingCapacity(job, namespace, namespaceJobs)) + gpuDemand(job);
  if (used <= own.quota) return [];
  return [violation(FIELD, `this job still runs on GPUs borrowed from cohort ${own.cohort}: namespace ${namespace} uses ${used} GPUs, its own quota is ${own.quota}; the controller removes the mark once the quota covers them, or the cohort reclaims them`, 'BorrowedMarkRemoved')];
}
