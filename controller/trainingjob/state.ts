// The TrainingJob state machine: from the job and a summary of its children to the next status and the Events to emit.
//
// Pending → Initializing (Job exists, not every rank running) → Running → Completed | Failed
// Running/Initializing → Restarting (Job failed, restarts left; until the next generation exists) → Initializing
// any non-terminal → Suspended (spec.suspend) | Queued (admitted over quota) → back when released
// Completed and Failed are final.
import { CONDITION_BORROWING, CONDITION_QUEUED, CONDITION_READY, REASON_QUOTA_EXCEEDED } from '../../api/conditions.ts';
import { borrowedGpus } from '../../policies/cohort.ts';
import { QUEUED_ANNOTATION } from '../../api/annotations.ts';
import type { Condition } from '../../api/meta.ts';
import { checkpointEnabled, checkpointFrequency, gpuDemand, gpusPerWorker, isQueued, isSuspended, numWorkers, TERMINAL_STATES } from '../../api/trainingjob-v1.ts';
import type { TrainingJob, TrainingJobState, TrainingJobStatus, WorkerCounts } from '../../api/trainingjob-v1.ts';
import {
  CONDITION_COMPLETED, CONDITION_FAILED, CONDITION_PROGRESS_AVAILABLE, CONDITION_RUNNING, CONDITION_SUSPENDED, findCondition, setCondition,
} from './conditions.ts';
import type { ConditionUpdate } from './conditions.ts';
import { workerJobName } from './names.ts';
import { currentWorkers } from './observed.ts';
import type { Observed, ObservedWorker, ObservedWorkerJob, WorkerWait } from './observed.ts';
import { formatProgress } from './progress.ts';
import { PREEMPTED_BY } from '../queue/queue-place.ts';
import { STARTUP_TIMED_OUT } from '../queue/startup.ts';
import { jobCondition, realFailures, reportedCheckpoint, restartDecision } from './restart-decision.ts';

export interface TrainingJobEvent {
  type: 'Normal' | 'Warning';
  // CamelCase: Initializing, Running, Completed, Failed, BackoffLimitExceeded, Restarting, Suspended, Resumed, Queued, Dequeued, CheckpointReported,
  // WorkersUnschedulable, WorkersWaiting
  reason: string;
  message: string;
}

export interface StatusUpdate {
  status: TrainingJobStatus;
  events: TrainingJobEvent[];
}

interface Verdict {
  state: TrainingJobState;
  // condition reason, CamelCase
  reason: string;
  message: string;
  restarts: number;
  event?: TrainingJobEvent;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function runningOrDone(workers: readonly ObservedWorker[], job: ObservedWorkerJob): number {
  if (workers.length === 0) return job.ready + job.succeeded;
  return workers.filter((w) => w.phase === 'Running' || w.phase === 'Succeeded').length;
}

// Initializing reasons that say something holds the workers back (not just that they are on their way).
const WAIT_REASONS: Record<WorkerWait['source'], string> = { scheduler: 'WorkersUnschedulable', kubelet: 'WorkersWaiting' };

// The scheduler's reason is nearly always Unschedulable, so only its message is news; the kubelet's reason is the news.
function describeWait(index: number, wait: WorkerWait): string {
  const words = wait.source === 'scheduler' && wait.reason === 'Unschedulable' ? wait.message || wait.reason : [wait.reason, wait.message].filter(Boolean).join(': ');
  return `worker ${index} ${wait.source === 'scheduler' ? 'unschedulable' : 'waiting'}: ${words}`;
}

function initializing(n: number, up: number, workerJob: ObservedWorkerJob, workers: readonly ObservedWorker[], restarts: number): Verdict {
  const generation = restarts > 0 ? ` (restart ${restarts})` : '';
  const message = `${up} of ${plural(n, 'worker')} running, Job ${workerJob.name}${generation}`;
  const held = workers.find((w) => w.waiting);
  if (!held?.waiting) return { state: 'Initializing', reason: 'WorkersStarting', message, restarts };
  return { state: 'Initializing', reason: WAIT_REASONS[held.waiting.source], message: `${message}: ${describeWait(held.index, held.waiting)}`, restarts };
}

// Why a job is in the queue, from the words its annotation starts with (the controller writes the last two).
function queuedReason(annotation: string): string {
  if (annotation.startsWith(PREEMPTED_BY)) return 'Preempted';
  if (annotation.startsWith(STARTUP_TIMED_OUT)) return 'StartupTimeout';
  return REASON_QUOTA_EXCEEDED;
}

function verdict(job: TrainingJob, observed: Observed, workerJob: ObservedWorkerJob | undefined, prev: TrainingJobState | undefined): Verdict {
  const restarts = job.status?.restarts ?? 0;
  const n = numWorkers(job);
  if (workerJob && jobCondition(observed, 'Complete')) {
    return { state: 'Completed', reason: 'TrainingSucceeded', message: `all ${plural(n, 'worker')} succeeded`, restarts };
  }
  if (workerJob && jobCondition(observed, 'Failed')) {
    const d = restartDecision(job, observed);
    if (d.restart) {
      // The next generation's Job name comes from this count, so it moves exactly once per failed Job.
      return { state: 'Restarting', reason: d.reason, message: d.message, restarts: restarts + 1, event: { type: 'Warning', reason: 'Restarting', message: d.message } };
    }
    return { state: 'Failed', reason: d.reason, message: d.message, restarts, event: { type: 'Warning', reason: d.reason, message: d.message } };
  }
  if (isQueued(job)) {
    // The leader's live reason; the webhook's words from admission until the leader has looked.
    const place = observed.queue;
    const why = job.metadata?.annotations?.[QUEUED_ANNOTATION] || 'over quota';
    const reason = queuedReason(why);
    const inCohort = place?.cohortPosition ? ` (${place.cohortPosition} in its cohort)` : '';
    if (place) return { state: 'Queued', reason, message: `queued at position ${place.position}${inCohort}: ${place.reason}`, restarts };
    return { state: 'Queued', reason, message: `queued until capacity frees up: ${why}`, restarts };
  }
  if (isSuspended(job)) {
    return { state: 'Suspended', reason: 'Suspended', message: 'workers stopped by spec.suspend; resuming continues from the last checkpoint', restarts };
  }
  if (!workerJob) {
    // From Running, not Ready: a failed reconcile may have written its own reason into Ready meanwhile.
    if (prev === 'Restarting') return { state: 'Restarting', reason: findCondition(job.status?.conditions, CONDITION_RUNNING)?.reason ?? 'WorkerFailed', message: `waiting for ${workerJobName(job.metadata?.name ?? '', restarts)} to be created`, restarts };
    return { state: 'Pending', reason: 'WorkloadPending', message: 'waiting for the worker Job to be created', restarts };
  }
  const current = currentWorkers(observed.workers);
  const up = runningOrDone(current, workerJob);
  if (up >= n || (prev === 'Running' && !workerJob.suspended)) {
    return { state: 'Running', reason: 'WorkersRunning', message: `${plural(n, 'worker')} running`, restarts };
  }
  return initializing(n, up, workerJob, current, restarts);
}

// Events for entering a state, plus Resumed/Dequeued for leaving Suspended/Queued.
function transitionEvents(prev: TrainingJobState | undefined, v: Verdict): TrainingJobEvent[] {
  if (prev === v.state) return [];
  const out: TrainingJobEvent[] = [];
  const terminal = TERMINAL_STATES.includes(v.state);
  if (prev === 'Suspended' && v.state !== 'Queued' && !terminal) out.push({ type: 'Normal', reason: 'Resumed', message: 'spec.suspend cleared; workers start again' });
  if (prev === 'Queued' && v.state !== 'Suspended' && !terminal) out.push({ type: 'Normal', reason: 'Dequeued', message: 'capacity freed up; the job starts' });
  if (v.event) out.push(v.event);
  else if (v.state !== 'Pending' || prev !== undefined) out.push({ type: v.state === 'Failed' ? 'Warning' : 'Normal', reason: v.state, message: v.message });
  return out;
}

// Once per new reason, not per reconcile: the Running condition holds the reason the last status showed.
function waitEvents(job: TrainingJob, v: Verdict): TrainingJobEvent[] {
  if (!Object.values(WAIT_REASONS).includes(v.reason)) return [];
  if (findCondition(job.status?.conditions, CONDITION_RUNNING)?.reason === v.reason) return [];
  return [{ type: 'Warning', reason: v.reason, message: v.message }];
}

function workerCounts(job: TrainingJob, v: Verdict, current: readonly ObservedWorker[], all: readonly ObservedWorker[], workerJob: ObservedWorkerJob | undefined): WorkerCounts {
  // Without pods (not listed this time) the Job's own counters stand in.
  const active = current.length > 0 ? current.filter((w) => w.phase === 'Running').length : (workerJob?.active ?? 0);
  const succeeded = Math.max(workerJob?.succeeded ?? 0, current.filter((w) => w.phase === 'Succeeded').length);
  const failed = workerJob ? Math.max(realFailures(all).length, all.length === 0 ? workerJob.failed : 0) : 0;
  const pending = TERMINAL_STATES.includes(v.state) ? 0 : Math.max(0, numWorkers(job) - active - succeeded);
  return { active, succeeded, failed, pending };
}

function conditionUpdates(v: Verdict, previous: readonly Condition[], generation: number | undefined): ConditionUpdate[] {
  const g = generation !== undefined ? { observedGeneration: generation } : {};
  const updates: ConditionUpdate[] = [
    { type: CONDITION_READY, status: v.state === 'Running' || v.state === 'Completed' ? 'True' : 'False', reason: v.reason, message: v.message, ...g },
    { type: CONDITION_RUNNING, status: v.state === 'Running' ? 'True' : 'False', reason: v.reason, message: v.message, ...g },
  ];
  if (v.state === 'Queued') updates.push({ type: CONDITION_QUEUED, status: 'True', reason: v.reason, message: v.message, ...g });
  else if (findCondition(previous, CONDITION_QUEUED)) updates.push({ type: CONDITION_QUEUED, status: 'False', reason: 'Admitted', message: 'capacity available', ...g });
  if (v.state === 'Suspended') updates.push({ type: CONDITION_SUSPENDED, status: 'True', reason: v.reason, message: v.message, ...g });
  else if (findCondition(previous, CONDITION_SUSPENDED)) updates.push({ type: CONDITION_SUSPENDED, status: 'False', reason: 'Resumed', message: 'spec.suspend is not set', ...g });
  if (v.state === 'Completed') updates.push({ type: CONDITION_COMPLETED, status: 'True', reason: v.reason, message: v.message, ...g });
  if (v.state === 'Failed') updates.push({ type: CONDITION_FAILED, status: 'True', reason: v.reason, message: v.message, ...g });
  return updates;
}

// Borrowing while it holds GPUs the leader lent it from the cohort (reclaimable); False once they are given back or became its own.
function borrowingCondition(job: TrainingJob, v: Verdict, previous: readonly Condition[]): ConditionUpdate[] {
  const n = borrowedGpus(job);
  const holding = !TERMINAL_STATES.includes(v.state) && v.state !== 'Queued' && v.state !== 'Suspended';
  if (n > 0 && holding) return [{ type: CONDITION_BORROWING, status: 'True', reason: 'BorrowedFromCohort', message: `${n} of its ${gpuDemand(job)} GPUs are borrowed from the namespace's cohort: reclaimable when the lender needs them` }];
  if (findCondition(previous, CONDITION_BORROWING)?.status === 'True') return [{ type: CONDITION_BORROWING, status: 'False', reason: holding ? 'OwnQuota' : 'NotHoldingGPUs', message: holding ? 'runs on its namespace\'s own quota now' : 'holds no GPUs' }];
  return [];
}

// Running workers report no checkpoint until they stop; the epoch count crossing a checkpoint boundary says one was just written.
function crossedCheckpoint(job: TrainingJob, before: number | undefined, after: number | undefined): boolean {
  if (!checkpointEnabled(job) || after === undefined || after <= 0) return false;
  const every = checkpointFrequency(job);
  return Math.floor(after / every) > Math.floor((before ?? 0) / every);
}

function withProgress(job: TrainingJob, status: TrainingJobStatus, observed: Observed, generation: number | undefined, now: string): TrainingJobStatus {
  const seen = observed.progress;
  if (!seen) return status;
  const g = generation !== undefined ? { observedGeneration: generation } : {};
  if (!seen.reachable) {
    const conditions = setCondition(status.conditions ?? [], { type: CONDITION_PROGRESS_AVAILABLE, status: 'False', reason: 'MetricsUnreachable', message: seen.message, ...g }, now);
    return { ...status, conditions };
  }
  const p = seen.progress;
  const next: TrainingJobStatus = { ...status, metrics: { ...status.metrics, ...p.metrics } };
  if (crossedCheckpoint(job, status.currentEpoch, p.currentEpoch)) next.lastCheckpointTime = now;
  if (p.currentEpoch !== undefined) next.currentEpoch = p.currentEpoch;
  if (p.totalEpochs !== undefined) next.totalEpochs = p.totalEpochs;
  if (p.progress !== undefined) next.progress = formatProgress(p.progress);
  next.conditions = setCondition(status.conditions ?? [], { type: CONDITION_PROGRESS_AVAILABLE, status: 'True', reason: 'MetricsRead', message: 'rank 0 metrics read', ...g }, now);
  return next;
}

export function nextStatus(job: TrainingJob, observed: Observed, now: Date): StatusUpdate {
  const prevStatus = job.status ?? {};
  const prev = prevStatus.state;
  const generation = job.metadata?.generation;
  const at = now.toISOString();
  // Terminal states are final; only the generation we looked at moves on.
  if (prev !== undefined && TERMINAL_STATES.includes(prev)) {
    return { status: { ...prevStatus, ...(generation !== undefined ? { observedGeneration: generation } : {}) }, events: [] };
  }
  const restarts = prevStatus.restarts ?? 0;
  // Only the Job of the current generation counts; a leftover from an earlier restart is not this run.
  const workerJob = observed.workerJob && observed.workerJob.name === workerJobName(job.metadata?.name ?? '', restarts) ? observed.workerJob : undefined;
  const seen: Observed = { ...observed, workerJob, workers: workerJob ? observed.workers : [] };
  const v = verdict(job, seen, workerJob, prev);
  const events = [...transitionEvents(prev, v), ...waitEvents(job, v)];

  const reported = reportedCheckpoint(seen.workers, observed.departed);
  const lastCheckpoint = reported?.checkpoint ?? prevStatus.lastCheckpoint;
  if (reported && reported.checkpoint !== prevStatus.lastCheckpoint) {
    const epoch = reported.epoch !== undefined ? ` (epoch ${reported.epoch})` : '';
    events.unshift({ type: 'Normal', reason: 'CheckpointReported', message: `checkpoint ${reported.checkpoint}${epoch}` });
  }

  const current = currentWorkers(seen.workers);
  const terminal = TERMINAL_STATES.includes(v.state);
  const holding = terminal ? [] : current.filter((w) => w.nodeName && (w.phase === 'Pending' || w.phase === 'Running'));
  const started = v.state === 'Initializing' || v.state === 'Running' || v.state === 'Completed';
  const startTime = prevStatus.startTime ?? (started ? (workerJob?.startTime ?? at) : undefined);
  const completionTime = terminal ? (v.state === 'Completed' ? (workerJob?.completionTime ?? at) : at) : undefined;

  let status: TrainingJobStatus = {
    ...prevStatus,
    state: v.state,
    workers: workerCounts(job, v, current, seen.workers, workerJob),
    workerStatuses: current.map((w) => ({ workerId: w.index, podName: w.podName, phase: w.phase, restartCount: w.restartCount })),
    allocatedGPUs: holding.length * gpusPerWorker(job),
    restarts: v.restarts,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  if (v.state === 'Queued' && seen.queue) status.queue = seen.queue;
  else if (v.state !== 'Queued') delete status.queue;
  if (lastCheckpoint) status.lastCheckpoint = lastCheckpoint;
  // A report comes when workers stop, after the write: the time the epoch count showed it (above) is closer.
  if (reported && reported.checkpoint !== prevStatus.lastCheckpoint && !prevStatus.lastCheckpointTime) status.lastCheckpointTime = at;
  if (startTime) status.startTime = startTime;
  if (completionTime) status.completionTime = completionTime;
  let conditions = prevStatus.conditions ?? [];
  for (const u of [...conditionUpdates(v, conditions, generation), ...borrowingCondition(job, v, conditions)]) conditions = setCondition(conditions, u, at);
  status.conditions = conditions;
  status = withProgress(job, status, seen, generation, at);
  if (v.state === 'Completed') {
    status.progress = '100%';
    // The last scrape may predate the last epochs (every 15 s), or never have come: finished means every epoch.
    const total = status.totalEpochs ?? job.spec.hyperparameters?.epochs;
    if (total !== undefined && Number.isInteger(total) && total > 0) {
      status.totalEpochs = total;
      status.currentEpoch = total;
    }
  }
  return { status, events };
}
