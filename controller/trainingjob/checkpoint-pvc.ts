// PVC "<name>-checkpoints": shared by every rank and every restart generation, so a restart can resume.
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { checkpointEnabled, checkpointStorageType } from '../../api/trainingjob-v1.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import { childLabels, childMetadata, identityOf } from './child-metadata.ts';
import { checkpointPVCName } from './names.ts';

export const DEFAULT_CHECKPOINT_SIZE = '100Gi';

export function needsCheckpointPVC(job: TrainingJob): boolean {
  return checkpointEnabled(job) && checkpointStorageType(job) === 'pvc';
}

// Undefined when checkpoints are off or live in object storage.
export function buildCheckpointPVC(job: TrainingJob): V1PersistentVolumeClaim | undefined {
  if (!needsCheckpointPVC(job)) return undefined;
  const id = identityOf(job);
  const storage = job.spec.checkpoint?.storage;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: childMetadata(id, checkpointPVCName(id.name), childLabels(id.name, 'checkpoints')),
    spec: {
      // Every rank mounts it at once, possibly on different nodes.
      accessModes: ['ReadWriteMany'],
      ...(storage?.storageClass ? { storageClassName: storage.storageClass } : {}),
      resources: { requests: { storage: storage?.size ?? DEFAULT_CHECKPOINT_SIZE } },
    },
  };
}
