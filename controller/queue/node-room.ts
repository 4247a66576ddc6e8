// All or nothing before the start, pure: a job starts only when every worker fits the GPUs the nodes have free now,
// less what jobs started a moment ago will take once their pods land, so two jobs never start on the same free GPUs.
import { gpuDemand, gpusPerWorker, isQueued, isSuspended, isTerminal, numWorkers, type TrainingJob } from '../../api/index.ts';
import type { NodeGpuInfo } from '../../policies/node-fit.ts';

/** A pod's GPUs on its node (unbound pods hold none). */
export interface PlacedGpus {
  nodeName?: string;
  gpus: number;
  /** namespace/<TrainingJob label value> of the job whose worker it is. */
  trainingJob?: string;
}

/** How long after its start a job's unplaced workers still count as taking GPUs: past it they are unschedulable, and hold none. */
export const PROMISE_WINDOW_MS = 60_000;

/** Free GPUs per GPU node, most first. */
export function freeGpus(nodes: readonly NodeGpuInfo[], pods: readonly PlacedGpus[]): NodeGpuInfo[] {
  const used = new Map<string, number>();
  for (const p of pods) if (p.nodeName) used.set(p.nodeName, (used.get(p.nodeName) ?? 0) + p.gpus);
  return nodes.filter((n) => n.gpus > 0).map((n) => ({ name: n.name, gpus: Math.max(0, n.gpus - (used.get(n.name) ?? 0)) })).sort((a, b) => b.gpus - a.gpus || a.name.localeCompare(b.name));
}

const released = (j: TrainingJob, localRelease = 0): number => Math.max(localRelease, ...[j.metadata?.creationTimestamp, j.status?.startTime, j.status?.conditions?.find((c) => c.type === 'Queued' && c.status === 'False')?.lastTransitionTime].map((t) => Date.parse(String(t ?? '')) || 0));
const stalled = (j: TrainingJob): boolean => j.status?.conditions?.some((c) => c.type === 'Stalled' && c.status === 'True') ?? false;

/**
 * GPUs that jobs started (created or released) in the last PROMISE_WINDOW_MS ask for beyond what their placed pods hold: they are
 * about to take them. `releasedAt`: when this replica released a job, which its status (still Queued, with the times of an earlier start) may not show yet.
 */
export function promisedGpus(jobs: readonly TrainingJob[], placed: readonly PlacedGpus[], now: number, labelOf: (name: string) => string = (n) => n, releasedAt: (job: TrainingJob) => number | undefined = () => undefined): number {
  const held = new Map<string, number>();
  for (const p of placed) if (p.nodeName && p.trainingJob) held.set(p.trainingJob, (held.get(p.trainingJob) ?? 0) + p.gpus);
  return jobs
    .filter((j) => !isQueued(j) && !isSuspended(j) && !isTerminal(j) && !j.metadata?.deletionTimestamp && !stalled(j))
    .filter((j) => ['Pending', 'Queued', 'Initializing', undefined].includes(j.status?.state) && now - released(j, releasedAt(j)) < PROMISE_WINDOW_MS)
    .reduce((sum, j) => sum + Math.max(0, gpuDemand(j) - (held.get(`${j.metadata?.namespace}/${labelOf(j.metadata?.name ?? '')}`) ?? 0)), 0);
}

const slotsOf = (nodes: readonly NodeGpuInfo[], per: number): number => nodes.reduce((s, n) => s + Math.floor(n.gpus / per), 0);

/**
 * Why `job`'s workers would not all fit the nodes' `free` GPUs now, with the numbers; undefined when they would, and
 * when waiting cannot help: no GPU node at all (a pool may scale up from zero) or too few even were every node empty.
 */
export function nodeRoomShortfall(job: TrainingJob, free: readonly NodeGpuInfo[], promised: number, allocatable: readonly NodeGpuInfo[] = free): string | undefined {
  const per = gpusPerWorker(job);
  const workers = numWorkers(job);
  if (per <= 0 || free.length === 0 || slotsOf(allocatable, per) < workers) return undefined;
  const slots = slotsOf(free, per);
  const room = Math.max(0, slots - Math.ceil(promised / per));
  if (room >= workers) return undefined;
  const shown = free.slice(0, 4).map((n) => `${n.name} ${n.gpus}`).join(', ') + (free.length > 4 ? `, … (${free.length} nodes)` : '');
  const taken = promised > 0 ? `, ${promised} of them about to be taken by jobs just started` : '';
  return `the nodes have room for ${room} of its ${workers} workers (${per} GPUs each) now: free GPUs ${shown}${taken}`;
}
