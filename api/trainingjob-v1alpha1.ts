// TrainingJob ml.example.com/v1alpha1: the operator-sdk shape of seeds 002/003, served through conversion.
import type { Condition, ObjectMeta, PersistentVolumeClaimVolumeSource, ResourceRequirements } from './meta.ts';

export const TRAININGJOB_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed'] as const;
export type TrainingJobPhase = (typeof TRAININGJOB_PHASES)[number];

export interface TrainingJobV1alpha1Spec {
  framework?: string;
  image?: string;
  command?: string[];
  args?: string[];
  workers?: number;
  gpuPerWorker?: number;
  resources?: ResourceRequirements;
  dataVolume?: PersistentVolumeClaimVolumeSource;
  checkpointDir?: string;
  checkpointInterval?: number;
  hyperparameters?: Record<string, string>;
  restartPolicy?: 'OnFailure' | 'Never';
}

export interface WorkerStatusV1alpha1 {
  workerId: number;
  podName: string;
  phase?: string;
  restartCount?: number;
}

export interface TrainingJobV1alpha1Status {
  phase?: TrainingJobPhase;
  startTime?: string;
  completionTime?: string;
  workerStatuses?: WorkerStatusV1alpha1[];
  conditions?: Condition[];
  observedGeneration?: number;
}

export interface TrainingJobV1alpha1 {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec: TrainingJobV1alpha1Spec;
  status?: TrainingJobV1alpha1Status;
}
