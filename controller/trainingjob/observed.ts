// What the state machine sees of the children: a plain summary of the worker Job and its pods, built from live objects.
import type { V1ContainerStatus, V1Job, V1Pod } from '@kubernetes/client-node';
import type { QueueStatus } from '../../api/trainingjob-v1.ts';
import type { RankedReport } from './departed-reports.ts';
import type { TrainingProgress } from './progress.ts';
import { COMPLETION_INDEX_ANNOTATION, RESUME_ENV } from './worker-env.ts';
import { WORKER_CONTAINER } from './worker-pod.ts';

export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

export interface ObservedJobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface ObservedWorkerJob {
  name: string;
  suspended: boolean;
  active: number;
  ready: number;
  succeeded: number;
  failed: number;
  conditions: ObservedJobCondition[];
  startTime?: string;
  completionTime?: string;
  /** The checkpoint this generation's workers were started from (their RESUME_FROM_CHECKPOINT). */
  resumedFrom?: string;
}

/** Why a Pending worker does not start, in the words of whoever holds it back. */
export interface WorkerWait {
  // the scheduler (PodScheduled=False) or the kubelet (a container waiting state)
  source: 'scheduler' | 'kubelet';
  reason: string;
  message: string;
}

/** Messages name every node's objection and can run long; the cache and the status keep this much. */
export const WAIT_MESSAGE_MAX = 512;

export interface ObservedWorker {
  // the rank (completion index)
  index: number;
  podName: string;
  phase: string;
  restartCount: number;
  ready: boolean;
  nodeName?: string;
  // evicted, preempted or drained: never counted as a failure
  disrupted: boolean;
  exitCode?: number;
  reason?: string;
  // the worker container's latest termination message (current or last state)
  terminationMessage?: string;
  finishedAt?: string;
  createdAt?: string;
  // only for a Pending pod that something holds back
  waiting?: WorkerWait;
}

export type ProgressObservation =
  | { reachable: true; progress: TrainingProgress }
  | { reachable: false; message: string };

export interface Observed {
  // the Job of the current restart generation, if it exists
  workerJob?: ObservedWorkerJob;
  // pods of that Job, every pod (replacements included)
  workers: ObservedWorker[];
  // rank 0's metrics, when they were read this reconcile
  progress?: ProgressObservation;
  // the job's place in its namespace queue, while it is queued (the leader's view)
  queue?: QueueStatus;
  // checkpoint reports of that Job's pods already gone from the cache (departed-reports.ts)
  departed?: readonly RankedReport[];
}

// Typed clients give Dates, raw JSON gives strings.
function time(v: Date | string | undefined): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.toISOString();
}

export function observeWorkerJob(job: V1Job): ObservedWorkerJob {
  const s = job.status ?? {};
  const startTime = time(s.startTime);
  const completionTime = time(s.completionTime);
  const worker = job.spec?.template?.spec?.containers?.find((c) => c.name === WORKER_CONTAINER) ?? job.spec?.template?.spec?.containers?.[0];
  const resumedFrom = worker?.env?.find((e) => e.name === RESUME_ENV)?.value;
  return {
    name: job.metadata?.name ?? '',
    suspended: job.spec?.suspend === true,
    active: s.active ?? 0,
    ready: s.ready ?? 0,
    succeeded: s.succeeded ?? 0,
    failed: s.failed ?? 0,
    conditions: (s.conditions ?? []).map((c) => ({
      type: c.type, status: c.status, ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}),
    })),
    ...(startTime ? { startTime } : {}),
    ...(completionTime ? { completionTime } : {}),
    ...(resumedFrom ? { resumedFrom } : {}),
  };
}

function podIndex(pod: V1Pod): number | undefined {
  const raw = pod.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION] ?? pod.metadata?.labels?.[COMPLETION_INDEX_ANNOTATION];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  return Number(raw);
}

const DISRUPTION_REASONS = new Set(['Evicted', 'Preempting', 'Preempted', 'DeletionByTaintManager', 'TerminationByKubelet']);

export function isDisrupted(pod: V1Pod): boolean {
  if ((pod.status?.conditions ?? []).some((c) => c.type === 'DisruptionTarget' && c.status === 'True')) return true;
  return DISRUPTION_REASONS.has(pod.status?.reason ?? '');
}

function workerContainerStatus(pod: V1Pod): V1ContainerStatus | undefined {
  const statuses = pod.status?.containerStatuses ?? [];
  return statuses.find((c) => c.name === WORKER_CONTAINER) ?? statuses[0];
}

export function capMessage(text: string): string {
  return text.length > WAIT_MESSAGE_MAX ? `${text.slice(0, WAIT_MESSAGE_MAX - 1)}…` : text;
}

// The kubelet's ordinary steps towards running; anything else (ImagePullBackOff, CreateContainerConfigError, …) is a problem.
const STARTING_REASONS = new Set(['ContainerCreating', 'PodInitializing']);

// The scheduler's verdict first: a pod that is not placed has no containers to wait on.
export function workerWait(pod: V1Pod): WorkerWait | undefined {
  if ((pod.status?.phase ?? 'Pending') !== 'Pending') return undefined;
  const scheduled = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') return { source: 'scheduler', reason: scheduled.reason || 'Unschedulable', message: capMessage(scheduled.message?.trim() ?? '') };
  const worker = workerContainerStatus(pod);
  const statuses = [...(worker ? [worker] : []), ...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const waiting = statuses.map((c) => c.state?.waiting).find((w) => w?.reason && !STARTING_REASONS.has(w.reason));
  if (!waiting?.reason) return undefined;
  return { source: 'kubelet', reason: waiting.reason, message: capMessage(waiting.message?.trim() ?? '') };
}

function belongsTo(pod: V1Pod, jobName: string): boolean {
  if (pod.metadata?.labels?.[JOB_NAME_LABEL] === jobName) return true;
  return (pod.metadata?.ownerReferences ?? []).some((o) => o.kind === 'Job' && o.name === jobName);
}

// Pods of one worker Job; pods of other generations or without an index are left out.
export function observeWorkers(pods: readonly V1Pod[], jobName: string): ObservedWorker[] {
  const out: ObservedWorker[] = [];
  for (const pod of pods) {
    const index = podIndex(pod);
    if (index === undefined || !belongsTo(pod, jobName)) continue;
    const cs = workerContainerStatus(pod);
    const terminated = cs?.state?.terminated ?? cs?.lastState?.terminated;
    const createdAt = time(pod.metadata?.creationTimestamp);
    const message = terminated?.message?.trim();
    const finishedAt = time(terminated?.finishedAt);
    const waiting = workerWait(pod);
    out.push({
      index,
      podName: pod.metadata?.name ?? '',
      phase: pod.status?.phase ?? 'Pending',
      restartCount: cs?.restartCount ?? 0,
      ready: cs?.ready === true,
      disrupted: isDisrupted(pod),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      ...(terminated ? { exitCode: terminated.exitCode } : {}),
      ...(terminated?.reason || pod.status?.reason ? { reason: terminated?.reason ?? pod.status?.reason } : {}),
      ...(message ? { terminationMessage: message } : {}),
      ...(finishedAt ? { finishedAt } : {}),
      ...(createdAt ? { createdAt } : {}),
      ...(waiting ? { waiting } : {}),
    });
  }
  return out.sort((a, b) => a.index - b.index || (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
}

// The pod that currently stands for each rank: the newest one.
export function currentWorkers(workers: readonly ObservedWorker[]): ObservedWorker[] {
  const byIndex = new Map<number, ObservedWorker>();
  for (const w of workers) {
    const seen = byIndex.get(w.index);
    if (!seen || (w.createdAt ?? '') >= (seen.createdAt ?? '')) byIndex.set(w.index, w);
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}
