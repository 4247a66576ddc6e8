// Rules the matching TrainingPolicies add: allowed images and frameworks, required labels, per-job limits.
import { framework, gpuDemand, gpusPerWorker, numWorkers } from '../api/trainingjob-v1.ts';
import type { TrainingJob } from '../api/trainingjob-v1.ts';
import { policyName } from '../api/trainingpolicy.ts';
import type { TrainingPolicy } from '../api/trainingpolicy.ts';
import { imageMatches } from './image-pattern.ts';
import { fieldPath } from './schema-messages.ts';
import { show, violation } from './violation.ts';
import type { Violation } from './violation.ts';

function by(p: TrainingPolicy): string {
  return `(TrainingPolicy ${policyName(p)})`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// "8 workers × 2 GPUs": how a GPU count came about, for every message that quotes one.
export function demandBreakdown(job: TrainingJob): string {
  return `${plural(numWorkers(job), 'worker')} × ${plural(gpusPerWorker(job), 'GPU')}`;
}

// Every policy with a list must allow the image; each one that does not is its own violation.
export function allowedImageViolations(job: TrainingJob, policies: readonly TrainingPolicy[]): Violation[] {
  const image = job.spec.image;
  if (typeof image !== 'string') return [];
  return policies
    .filter((p) => (p.spec.allowedImages?.length ?? 0) > 0 && !(p.spec.allowedImages ?? []).some((pattern) => imageMatches(image, pattern)))
    .map((p) => violation('spec.image', `${show(image)} is not allowed; allowed: ${(p.spec.allowedImages ?? []).map(show).join(', ')} ${by(p)}`, 'ImageNotAllowed'));
}

export function allowedFrameworkViolations(job: TrainingJob, policies: readonly TrainingPolicy[]): Violation[] {
  const fw = framework(job);
  return policies
    .filter((p) => (p.spec.allowedFrameworks?.length ?? 0) > 0 && !(p.spec.allowedFrameworks ?? []).includes(fw))
    .map((p) => violation('spec.framework', `${show(fw)} is not allowed; allowed: ${(p.spec.allowedFrameworks ?? []).map(show).join(', ')} ${by(p)}`, 'FrameworkNotAllowed'));
}

export function requiredLabelViolations(job: TrainingJob, policies: readonly TrainingPolicy[]): Violation[] {
  const labels = job.metadata?.labels ?? {};
  const out: Violation[] = [];
  const reported = new Set<string>();
  for (const p of policies) {
    for (const key of p.spec.requiredLabels ?? []) {
      if (Object.hasOwn(labels, key) || reported.has(key)) continue;
      reported.add(key);
      out.push(violation(fieldPath(`/metadata/labels/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`), `required label is missing ${by(p)}`, 'MissingRequiredLabel'));
    }
  }
  return out;
}

// The policy with the smallest value of `limit`, if any sets it.
export function strictest(policies: readonly TrainingPolicy[], limit: (p: TrainingPolicy) => number | undefined): { policy: TrainingPolicy; value: number } | undefined {
  let best: { policy: TrainingPolicy; value: number } | undefined;
  for (const policy of policies) {
    const value = limit(policy);
    if (value !== undefined && (best === undefined || value < best.value)) best = { policy, value };
  }
  return best;
}

export function perJobLimitViolations(job: TrainingJob, policies: readonly TrainingPolicy[]): Violation[] {
  const out: Violation[] = [];
  const workers = strictest(policies, (p) => p.spec.maxWorkers);
  if (workers && numWorkers(job) > workers.value) {
    out.push(violation('spec.numWorkers', `${numWorkers(job)} exceeds the maximum ${workers.value} ${by(workers.policy)}`, 'TooManyWorkers'));
  }
  const gpus = strictest(policies, (p) => p.spec.maxGPUsPerJob);
  if (gpus && gpuDemand(job) > gpus.value) {
    out.push(violation('spec', `${plural(gpuDemand(job), 'GPU')} (${demandBreakdown(job)}) exceeds the maximum ${gpus.value} GPUs per job ${by(gpus.policy)}`, 'TooManyGPUs'));
  }
  return out;
}
