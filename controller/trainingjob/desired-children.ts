// Every child a TrainingJob should have right now, in the order they are created (dependencies first).
import type { V1ConfigMap, V1Job, V1PersistentVolumeClaim, V1Service } from '@kubernetes/client-node';
import { checkpointEnabled } from '../../api/trainingjob-v1.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import { buildCheckpointPVC } from './checkpoint-pvc.ts';
import { buildConfigMap } from './config-map.ts';
import { buildWorkerJob } from './worker-job.ts';
import type { WorkerJobInput } from './worker-job.ts';
import { buildWorkerService } from './worker-service.ts';

export type Child = V1Job | V1Service | V1ConfigMap | V1PersistentVolumeClaim;
// The small explicit inputs beside the TrainingJob: restart generation, resume point, retryable exit codes.
export type ChildrenContext = WorkerJobInput;

export interface DesiredChildren {
  checkpointPVC?: V1PersistentVolumeClaim;
  configMap: V1ConfigMap;
  workerService: V1Service;
  workerJob: V1Job;
}

// The generation and resume point live in status, so a reconcile that crashes after writing status rebuilds the same Job.
export function childrenContext(job: TrainingJob, retryableExitCodes?: readonly number[]): ChildrenContext {
  const resumeFrom = checkpointEnabled(job) ? job.status?.lastCheckpoint : undefined;
  return {
    restartCount: job.status?.restarts ?? 0,
    ...(resumeFrom ? { resumeFrom } : {}),
    ...(retryableExitCodes ? { retryableExitCodes } : {}),
  };
}

export function desiredChildren(job: TrainingJob, ctx: ChildrenContext): DesiredChildren {
  const checkpointPVC = buildCheckpointPVC(job);
  return {
    ...(checkpointPVC ? { checkpointPVC } : {}),
    configMap: buildConfigMap(job),
    workerService: buildWorkerService(job),
    workerJob: buildWorkerJob(job, ctx),
  };
}

// Volumes and DNS exist before pods that mount or resolve them.
export function inCreationOrder(children: DesiredChildren): Child[] {
  return [children.checkpointPVC, children.configMap, children.workerService, children.workerJob].filter((c): c is Child => c !== undefined);
}

/**
 * inCreationOrder as stages whose children do not depend on each other, so each stage can be applied
 * at once: what the pods mount or resolve (PVC, ConfigMap, Service), then the Job that makes the pods.
 */
export function creationStages(children: DesiredChildren): Child[][] {
  const ordered = inCreationOrder(children);
  return [ordered.filter((c) => c !== children.workerJob), [children.workerJob]];
}
