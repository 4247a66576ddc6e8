// What the node-room check reads, from the manager's shared informers: GPU nodes and every pod bound to one, trimmed.
import type { V1Pod } from '@kubernetes/client-node';
import { TRAININGJOB_LABEL, type TrainingJob } from '../../api/index.ts';
import { gpuPodTrim, nodeGpuInfo, podGpus, trimNode } from '../../kube/gpu-nodes.ts';
import type { KubeObject } from '../../kube/index.ts';
import type { Manager } from '../runtime/index.ts';
import { trainingJobLabelValue } from '../trainingjob/names.ts';
import { freeGpus, nodeRoomShortfall, promisedGpus } from './node-room.ts';

/** Registers the informers; the returned check says why `job`'s workers would not all fit the nodes now, or undefined. */
export function informerNodeRoom(manager: Manager, jobs: () => readonly TrainingJob[], releasedAt: (job: TrainingJob) => number | undefined = () => undefined): (job: TrainingJob) => string | undefined {
  const nodes = manager.informer<KubeObject>({ version: 'v1', plural: 'nodes' }, { resyncMs: 0, transform: trimNode });
  // Finished pods hold nothing; the rest are few fields each (gpuPodTrim).
  const pods = manager.informer<KubeObject>({ version: 'v1', plural: 'pods' }, { fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed', resyncMs: 0, transform: gpuPodTrim(TRAININGJOB_LABEL) });
  return (job) => {
    const placed = pods.list().map((p) => {
      const pod = p as V1Pod;
      const owner = pod.metadata?.labels?.[TRAININGJOB_LABEL];
      return { nodeName: pod.spec?.nodeName, gpus: podGpus(pod), ...(owner ? { trainingJob: `${pod.metadata?.namespace}/${owner}` } : {}) };
    });
    const allocatable = nodes.list().map((n) => nodeGpuInfo(n as never)).filter((n) => n.gpus > 0);
    return nodeRoomShortfall(job, freeGpus(allocatable, placed), promisedGpus(jobs(), placed, manager.clock.now(), trainingJobLabelValue, releasedAt), allocatable);
  };
}
