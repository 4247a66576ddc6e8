// The Indexed batch/v1 Job that runs one pod per rank; the Job retries pods, the controller restarts whole runs.
import type { V1Job, V1PodFailurePolicy } from '@kubernetes/client-node';
import { backoffLimit, isSuspended, numWorkers } from '../../api/trainingjob-v1.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import { childLabels, childMetadata, identityOf, RESTART_LABEL } from './child-metadata.ts';
import { workerJobName } from './names.ts';
import { buildWorkerPodTemplate, WORKER_CONTAINER } from './worker-pod.ts';

// Exit code a worker uses for "transient infrastructure trouble, retry me in place" (e.g. a flaky storage mount).
export const DEFAULT_RETRYABLE_EXIT_CODES: readonly number[] = [42];

export interface WorkerJobInput {
  // Which restart generation this Job is; 0 for the first run.
  restartCount: number;
  // Checkpoint the new generation resumes from (RESUME_FROM_CHECKPOINT).
  resumeFrom?: string;
  // Exit codes retried in place, counted against backoffLimit; defaults to DEFAULT_RETRYABLE_EXIT_CODES.
  retryableExitCodes?: readonly number[];
}

/** A worker stopped with SIGTERM (128 + 15): its pod was deleted (suspend, `kubectl delete`, drain), not a crash. */
export const STOPPED_EXIT_CODE = 143;

// First match wins:
// 1. disruption (eviction, preemption, node drain): Ignore — the rank is recreated and nothing is counted;
// 2. exit 143, stopped by SIGTERM: Ignore — the Job controller stops every pod this way on suspend, and a pod
//    failing the Job there would turn a suspend into a restart;
// 3. a retryable exit code: Count — the rank is retried in place, up to backoffLimit;
// 4. any other non-zero exit: FailJob — one dead rank breaks the collective, so the whole gang stops and the
//    controller restarts every rank from the last checkpoint (restartDecision).
export function workerPodFailurePolicy(retryableExitCodes: readonly number[]): V1PodFailurePolicy {
  const retryable = [...new Set(retryableExitCodes.filter((c) => Number.isInteger(c) && c > 0 && c !== STOPPED_EXIT_CODE))].sort((a, b) => a - b);
  const rules: V1PodFailurePolicy['rules'] = [
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    { action: 'Ignore', onExitCodes: { containerName: WORKER_CONTAINER, operator: 'In', values: [STOPPED_EXIT_CODE] } },
  ];
  if (retryable.length > 0) rules.push({ action: 'Count', onExitCodes: { containerName: WORKER_CONTAINER, operator: 'In', values: retryable } });
  rules.push({ action: 'FailJob', onExitCodes: { containerName: WORKER_CONTAINER, operator: 'NotIn', values: [0, ...retryable] } });
  return { rules };
}

export function buildWorkerJob(job: TrainingJob, input: WorkerJobInput): V1Job {
  const id = identityOf(job);
  const workers = numWorkers(job);
  const labels = { ...childLabels(id.name, 'worker'), [RESTART_LABEL]: String(input.restartCount) };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: childMetadata(id, workerJobName(id.name, input.restartCount), labels),
    spec: {
      completionMode: 'Indexed',
      parallelism: workers,
      completions: workers,
      backoffLimit: backoffLimit(job),
      suspend: isSuspended(job),
      // A replacement rank starts only after the old pod is gone, so two pods never claim one hostname.
      podReplacementPolicy: 'Failed',
      podFailurePolicy: workerPodFailurePolicy(input.retryableExitCodes ?? DEFAULT_RETRYABLE_EXIT_CODES),
      template: buildWorkerPodTemplate(job, id, { namespace: id.namespace, restartCount: input.restartCount, ...(input.resumeFrom ? { resumeFrom: input.resumeFrom } : {}) }),
    },
  };
}
