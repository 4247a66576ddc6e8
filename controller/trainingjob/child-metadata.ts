// Labels, owner reference and metadata every child carries: garbage collection and listing depend on them.
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION_V1, CONTROLLER_NAME, GROUP, TRAININGJOB_KIND } from '../../api/group.ts';
import { MANAGED_BY_LABEL, TRAININGJOB_LABEL } from '../../api/annotations.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import { InvalidTrainingJobError } from './errors.ts';
import { trainingJobLabelValue } from './names.ts';

export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const NAME_LABEL = 'app.kubernetes.io/name';
// Which restart generation a worker Job and its pods belong to.
export const RESTART_LABEL = `${GROUP}/restart`;

export type ChildComponent = 'worker' | 'workers' | 'config' | 'checkpoints';

export interface TrainingJobIdentity {
  name: string;
  namespace: string;
  uid: string;
}

// Children are built only for persisted jobs: the owner reference needs the uid.
export function identityOf(job: TrainingJob): TrainingJobIdentity {
  const { name, namespace, uid } = job.metadata ?? {};
  if (!name || !namespace || !uid) {
    throw new InvalidTrainingJobError('a TrainingJob needs metadata.name, namespace and uid before children are built', { name: name ?? null, namespace: namespace ?? null, uid: uid ?? null });
  }
  return { name, namespace, uid };
}

export function childLabels(jobName: string, component: ChildComponent): Record<string, string> {
  return {
    [NAME_LABEL]: 'trainingjob',
    [COMPONENT_LABEL]: component,
    [MANAGED_BY_LABEL]: CONTROLLER_NAME,
    [TRAININGJOB_LABEL]: trainingJobLabelValue(jobName),
  };
}

// Selects the worker pods of every restart generation, so the Service never needs to change.
export function workerSelector(jobName: string): Record<string, string> {
  return { [TRAININGJOB_LABEL]: trainingJobLabelValue(jobName), [COMPONENT_LABEL]: 'worker' };
}

export function ownerReference(id: TrainingJobIdentity): V1OwnerReference {
  return { apiVersion: API_VERSION_V1, kind: TRAININGJOB_KIND, name: id.name, uid: id.uid, controller: true, blockOwnerDeletion: true };
}

export function childMetadata(id: TrainingJobIdentity, name: string, labels: Record<string, string>): V1ObjectMeta {
  return { name, namespace: id.namespace, labels, ownerReferences: [ownerReference(id)] };
}
