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

// Jobs that hold GPUs: not Completed/Failed, not waiting in the queue, and not the job being admitted.
export function jobsHoldingCapacity(job: TrainingJob, namespace: string, jobs: readonly TrainingJob[]): TrainingJob[] {
  const name = job.metadata?.name;
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
}

export function capacityViolations(
  job: TrainingJob,
  namespace: string,
  policies: readonly TrainingPolicy[],
  jobs: readonly TrainingJob[],
  resourceQuotas: readonly ResourceQuotaInfo[],
): CapacityViolation[] {
  const holding = jobsHoldingCapacity(job, namespace, jobs);
  const out: CapacityViolation[] = [];
  const demand = gpuDemand(job);
  const anyQueues = policies.some((p) => overQuotaAction(p) === 'Queue');

  const limits: GpuLimit[] = [];
  const inUse = gpusInUse(holding);
  for (const p of policies) {
    if (p.spec.gpuQuota !== undefined) limits.push({ limit: p.spec.gpuQuota, used: inUse, describe: `GPU quota ${p.spec.gpuQuota}`, queueable: overQuotaAction(p) === 'Queue' });
  }
  for (const rq of resourceQuotas) {
    const hardText = rq.hard[GPU_QUOTA_RESOURCE];
    const hard = hardText === undefined ? undefined : quantityToInteger(hardText);
    if (hard === undefined) continue;
    const usedText = rq.used?.[GPU_QUOTA_RESOURCE];
    const used = usedText === undefined ? 0 : (quantityToInteger(usedText) ?? 0);
    // A ResourceQuota has no overQuota of its own; the namespace's policies decide.
    limits.push({ limit: hard, used, describe: `ResourceQuota ${rq.name} ${GPU_QUOTA_RESOURCE} ${hard}`, queueable: anyQueues });
  }
  // The strictest limit is the one with the least room left.
  const tightest = limits.reduce<GpuLimit | undefined>((best, l) => (best === undefined || l.limit - l.used < best.limit - best.used ? l : best), undefined);
  // A job larger than a limit itself would wait forever in the queue: refused at once, whatever overQuota says.
  const never = limits.find((l) => demand > l.limit);
  if (never) {
    out.push({
      field: 'metadata.namespace',
      message: `namespace ${namespace} ${never.describe}: this job asks ${demand} (${demandBreakdown(job)}), ${NEVER_FITS}`,
      reason: 'QuotaExceeded',
      queueable: false,
    });
  } else if (demand > 0 && tightest && tightest.used + demand > tightest.limit) {
    out.push({
      field: 'metadata.namespace',
      message: `namespace ${namespace} ${tightest.describe}: ${tightest.used} in use, this job asks ${demand} (${demandBreakdown(job)})`,
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
