// Capacity of a namespace: GPU quota (policies and ResourceQuota) and concurrent jobs. Pure arithmetic; making
// the check race-free across webhook replicas is the caller's job.
import { quantityToInteger } from '../api/quantity.ts';
import type { Quantity } from '../api/meta.ts';
import { gpuDemand, isQueued, isTerminal } from '../api/trainingjob-v1.ts';
import type { TrainingJob } from '../api/trainingjob-v1.ts';
import { overQuotaAction } from '../api/trainingpolicy.ts';
import type { TrainingPolicy } from '../api/trainingpolicy.ts';
import { demandBreakdown, strictest } from './policy-rules.ts';
import type { Violation } from './violation.ts';
import { borrowedGpus, borrowShortfall, maxBorrowable, type CohortFacts } from './cohort.ts';

/** Joins a namespace's words and its cohort's. Not "; ": that separates whole refusals (controller/queue/queue-place.ts capacityRefusal reads them). */
export const COHORT_WORDS = ' — ';

export const GPU_QUOTA_RESOURCE = 'requests.nvidia.com/gpu';
/** Ends the message of a job larger than a limit itself: waiting cannot help it (the queue reads it too). */
export const NEVER_FITS = 'more than the limit allows even with nothing else running';

export interface ResourceQuotaInfo {
  name: string;
  hard: Record<string, Quantity>;
  used?: Record<string, Quantity>;
}

export interface CapacityViolation extends Violation {
  // true when the limit's owner asked for overQuota: Queue
  queueable: boolean;
}

// Jobs that hold GPUs: not Completed/Failed, not waiting in the queue, and not the job being admitted (if any).
export function jobsHoldingCapacity(job: TrainingJob | undefined, namespace: string, jobs: readonly TrainingJob[]): TrainingJob[] {
  const name = job?.metadata?.name;
  return jobs.filter((j) =>
    (j.metadata?.namespace ?? namespace) === namespace &&
    !(name && j.metadata?.name === name) &&
    !isTerminal(j) &&
    !isQueued(j));
}

export function gpusInUse(jobs: readonly TrainingJob[]): number {
  return jobs.reduce((sum, j) => sum + gpuDemand(j), 0);
}

interface GpuLimit {
  limit: number;
  used: number;
  describe: string; // "GPU quota 16" or "ResourceQuota gpu-quota requests.nvidia.com/gpu 16"
  queueable: boolean;
  /** The most the namespace could ever hold under this limit: the limit, plus what its cohort could lend. */
  ceiling: number;
  ceilingWords: string;
  /** A policy quota, which GPUs borrowed from the cohort may exceed. */
  policyQuota: boolean;
}

/** `cohort`: the namespace's cohort, when a policy selecting it names one (members' usage only needed for a job starting on borrowed GPUs). */
export function capacityViolations(
  job: TrainingJob,
  namespace: string,
  policies: readonly TrainingPolicy[],
  jobs: readonly TrainingJob[],
  resourceQuotas: readonly ResourceQuotaInfo[],
  cohort?: CohortFacts,
): CapacityViolation[] {
  const holding = jobsHoldingCapacity(job, namespace, jobs);
  const out: CapacityViolation[] = [];
  const demand = gpuDemand(job);
  const anyQueues = policies.some((p) => overQuotaAction(p) === 'Queue');

  const limits: GpuLimit[] = [];
  const inUse = gpusInUse(holding);
  const lend = cohort ? maxBorrowable(namespace, cohort.members) : 0;
  for (const p of policies) {
    const quota = p.spec.gpuQuota;
    if (quota === undefined) continue;
    const describe = `GPU quota ${quota}`;
    const ceilingWords = lend > 0 ? `${describe} and at most ${lend} borrowed from cohort ${cohort?.name}` : describe;
    limits.push({ limit: quota, used: inUse, describe, queueable: overQuotaAction(p) === 'Queue', ceiling: quota + lend, ceilingWords, policyQuota: true });
  }
  for (const rq of resourceQuotas) {
    const hardText = rq.hard[GPU_QUOTA_RESOURCE];
    const hard = hardText === undefined ? undefined : quantityToInteger(hardText);
    if (hard === undefined) continue;
    const usedText = rq.used?.[GPU_QUOTA_RESOURCE];
    const used = usedText === undefined ? 0 : (quantityToInteger(usedText) ?? 0);
    const describe = `ResourceQuota ${rq.name} ${GPU_QUOTA_RESOURCE} ${hard}`;
    // A ResourceQuota has no overQuota of its own; the namespace's policies decide.
    limits.push({ limit: hard, used, describe, queueable: anyQueues, ceiling: hard, ceilingWords: describe, policyQuota: false });
  }
  // A job the controller starts on borrowed GPUs passes the policy quotas when the cohort has them idle now.
  const borrowing = cohort !== undefined && borrowedGpus(job) > 0;
  const shortOfCohort = borrowing ? borrowShortfall(namespace, demand, withUsage(cohort, namespace, inUse)) : undefined;
  const applying = limits.filter((l) => !(borrowing && l.policyQuota && !shortOfCohort));
  // The strictest limit is the one with the least room left.
  const tightest = applying.reduce<GpuLimit | undefined>((best, l) => (best === undefined || l.limit - l.used < best.limit - best.used ? l : best), undefined);
  // A job larger than a limit itself would wait forever in the queue: refused at once, whatever overQuota says.
  const never = limits.find((l) => demand > l.ceiling);
  if (never) {
    out.push({
      field: 'metadata.namespace',
      message: `namespace ${namespace} ${never.ceilingWords}: this job asks ${demand} (${demandBreakdown(job)}), ${NEVER_FITS}`,
      reason: 'QuotaExceeded',
      queueable: false,
    });
  } else if (demand > 0 && tightest && tightest.used + demand > tightest.limit) {
    const cohortWords = tightest.policyQuota && shortOfCohort ? `${COHORT_WORDS}${shortOfCohort}` : '';
    out.push({
      field: 'metadata.namespace',
      message: `namespace ${namespace} ${tightest.describe}: ${tightest.used} in use, this job asks ${demand} (${demandBreakdown(job)})${cohortWords}`,
      reason: 'QuotaExceeded',
      queueable: tightest.queueable,
    });
  }

  const concurrent = strictest(policies, (p) => p.spec.maxConcurrentJobs);
  if (concurrent && holding.length + 1 > concurrent.value) {
    out.push({
      field: 'metadata.namespace',
      message: `namespace ${namespace} concurrent job limit ${concurrent.value}: ${holding.length} active, this job would make ${holding.length + 1} (TrainingPolicy ${concurrent.policy.metadata?.name ?? ''})`,
      reason: 'TooManyJobs',
      queueable: overQuotaAction(concurrent.policy) === 'Queue',
    });
  }
  return out;
}

/** The cohort with `namespace`'s usage as counted here (its listed jobs plus reservations in flight). */
export function withUsage(cohort: CohortFacts, namespace: string, used: number): CohortFacts {
  return { ...cohort, members: cohort.members.map((m) => (m.namespace === namespace ? { ...m, used } : m)) };
}
