// A worker larger than every node: its pods could never be scheduled, so the job is refused at admission.
import { gpusPerWorker } from '../api/trainingjob-v1.ts';
import type { TrainingJob } from '../api/trainingjob-v1.ts';
import { violation } from './violation.ts';
import type { Violation } from './violation.ts';

export interface NodeGpuInfo {
  name: string;
  /** Allocatable nvidia.com/gpu. */
  gpus: number;
}

/**
 * Only when some node has GPUs: a cluster whose GPU pool scales from zero (or a cluster
 * without nodes yet) may still grow one, so no node at all says nothing.
 */
export function workerFitViolations(job: TrainingJob, nodes: readonly NodeGpuInfo[]): Violation[] {
  const want = gpusPerWorker(job);
  if (want === 0) return [];
  const largest = nodes.reduce<NodeGpuInfo | undefined>((best, n) => (n.gpus > (best?.gpus ?? 0) ? n : best), undefined);
  if (!largest || want <= largest.gpus) return [];
  return [violation('spec.gpusPerWorker', `${want} GPUs per worker, but the largest node, ${largest.name}, has ${largest.gpus} allocatable nvidia.com/gpu: no worker could ever be scheduled`, 'WorkerLargerThanNodes')];
}
