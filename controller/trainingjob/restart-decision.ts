// Whether a failed worker Job is recreated (from the last checkpoint) or the TrainingJob fails for good.
import { backoffLimit, checkpointEnabled } from '../../api/trainingjob-v1.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import { latestCheckpoint, parseCheckpointLine, parseCheckpointReport } from './checkpoint-report.ts';
import type { CheckpointReport } from './checkpoint-report.ts';
import type { Observed, ObservedJobCondition, ObservedWorker } from './observed.ts';
import { STOPPED_EXIT_CODE } from './worker-job.ts';

export interface RestartDecision {
  restart: boolean;
  // CamelCase: NotFailed, WorkerFailed, WorkersDisrupted, BackoffLimitExceeded
  reason: string;
  message: string;
  resumeFrom?: string;
}

const MAX_DETAIL = 200;

/** A trainer's exit when the collective broke because a peer went away (EX_TEMPFAIL): see examples/trainer/README.md. */
export const PEER_LOST_EXIT_CODE = 75;
const peerLost = (w: ObservedWorker): boolean => w.exitCode === PEER_LOST_EXIT_CODE;

export function jobCondition(observed: Observed, type: string): ObservedJobCondition | undefined {
  return observed.workerJob?.conditions.find((c) => c.type === type && c.status === 'True');
}

// Evictions, preemptions and stopped pods (SIGTERM: deleted, suspended) are the cluster's doing, not the training's.
export function realFailures(workers: readonly ObservedWorker[]): ObservedWorker[] {
  return workers.filter((w) => w.phase === 'Failed' && !w.disrupted && w.exitCode !== STOPPED_EXIT_CODE);
}

/** When the first disrupted rank of this generation stopped, if any did and its time is known. */
function firstDisruption(workers: readonly ObservedWorker[]): ObservedWorker | undefined {
  return workers.filter((w) => w.phase === 'Failed' && w.disrupted && w.finishedAt).sort((a, b) => a.finishedAt!.localeCompare(b.finishedAt!))[0];
}

// One evicted rank breaks a gang's collective and its peers then fail: such a failure is the eviction's consequence.
// Evidence, either: it ended at or after a disruption still in view; or it exited PEER_LOST_EXIT_CODE after this
// generation wrote a new checkpoint (the evicted pod is often gone by then, eviction deletes it). Without progress a
// peer-lost exit counts, so a gang that cannot get going (or a trainer misusing the code) never restarts forever.
export function countedFailures(workers: readonly ObservedWorker[], progressed = false): ObservedWorker[] {
  const disruptedAt = firstDisruption(workers)?.finishedAt;
  const afterDisruption = (w: ObservedWorker) => disruptedAt !== undefined && w.finishedAt !== undefined && w.finishedAt >= disruptedAt;
  return realFailures(workers).filter((w) => !afterDisruption(w) && !(peerLost(w) && progressed));
}

/** Whether this generation checkpointed past the checkpoint it started from. */
function progressed(observed: Observed): boolean {
  const reported = reportedCheckpoint(observed.workers, observed.departed);
  return reported !== undefined && reported.checkpoint !== observed.workerJob?.resumedFrom;
}

// The newest checkpoint any worker of this generation reported.
export function reportedCheckpoint(workers: readonly ObservedWorker[], departed: Observed['departed'] = []): CheckpointReport | undefined {
  const reports = workers.flatMap((w) => {
    const report = parseCheckpointReport(w.terminationMessage);
    return report ? [{ rank: w.index, report }] : [];
  });
  return latestCheckpoint([...reports, ...departed]);
}

// The last line that is not a checkpoint report: a log tail (FallbackToLogsOnError) ends with the error, a traceback with its exception.
function lastLine(text: string | undefined): string {
  const line = (text ?? '').split('\n').map((l) => l.trim()).findLast((l) => l.length > 0 && !parseCheckpointLine(l)) ?? '';
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL)}…` : line;
}

// Exit codes of ranks stopped (SIGTERM/SIGKILL) after another rank failed: likely consequences, not causes.
const STOPPED_EXIT_CODES = new Set([137, 143]);

// The failure that most likely started it: a rank that was not stopped by the Job, then the earliest, then the lowest rank.
export function firstFailure(workers: readonly ObservedWorker[]): ObservedWorker | undefined {
  // A peer-lost exit is a consequence by its own account; a stopped rank only probably one.
  const stopped = (w: ObservedWorker) => (peerLost(w) ? 2 : w.exitCode !== undefined && STOPPED_EXIT_CODES.has(w.exitCode) ? 1 : 0);
  return [...realFailures(workers)].sort((a, b) => stopped(a) - stopped(b) || (a.finishedAt ?? '~').localeCompare(b.finishedAt ?? '~') || a.index - b.index)[0];
}

// "worker 2 (pod p) exited 1 (Error): message" — the failure that started it, else the Job's own words.
export function failureDetail(observed: Observed): string {
  const failed = firstFailure(observed.workers);
  if (failed) {
    const code = failed.exitCode !== undefined ? ` exited ${failed.exitCode}` : ' failed';
    const reason = failed.reason ? ` (${failed.reason})` : '';
    const message = lastLine(failed.terminationMessage);
    return `worker ${failed.index} (pod ${failed.podName})${code}${reason}${message ? `: ${message}` : ''}`;
  }
  const c = jobCondition(observed, 'Failed');
  return [c?.reason, c?.message].filter(Boolean).join(': ') || 'the worker Job failed';
}

// Every Job failure uses one restart of backoffLimit; a Job that failed only through disruptions (a cluster
// without podFailurePolicy, or peers failing after an eviction) restarts without the check, so evictions alone
// never fail a TrainingJob.
export function restartDecision(job: TrainingJob, observed: Observed): RestartDecision {
  if (!jobCondition(observed, 'Failed')) return { restart: false, reason: 'NotFailed', message: 'the worker Job has not failed' };
  const restarts = job.status?.restarts ?? 0;
  const limit = backoffLimit(job);
  const failedWorkers = observed.workers.filter((w) => w.phase === 'Failed');
  // Failed while suspended, every failed rank stopped, killed after its grace period or left by its peer: the suspend did it.
  const stoppedBySuspend = observed.workerJob?.suspended === true && failedWorkers.every((w) => w.disrupted || peerLost(w) || (w.exitCode !== undefined && STOPPED_EXIT_CODES.has(w.exitCode)));
  const disruptedOnly = stoppedBySuspend || (countedFailures(observed.workers, progressed(observed)).length === 0 && failedWorkers.some((w) => w.disrupted || peerLost(w)));
  const disruption = firstDisruption(observed.workers);
  const consequence = disruptedOnly && realFailures(observed.workers).length > 0;
  const cause = stoppedBySuspend ? ' while spec.suspend stopped the workers' : disruption ? ` after worker ${disruption.index} (pod ${disruption.podName}) was disrupted` : ': a peer left (evicted, preempted or its node lost)';
  const detail = consequence ? `${failureDetail(observed)}${cause}` : failureDetail(observed);
  if (!disruptedOnly && restarts >= limit) {
    return { restart: false, reason: 'BackoffLimitExceeded', message: `${detail}; failed after ${restarts} restart${restarts === 1 ? '' : 's'} (backoffLimit ${limit})` };
  }
  const resumeFrom = checkpointEnabled(job) ? (reportedCheckpoint(observed.workers, observed.departed)?.checkpoint ?? job.status?.lastCheckpoint) : undefined;
  const from = resumeFrom ? `resuming from ${resumeFrom}` : 'starting over: no checkpoint reported';
  const count = disruptedOnly ? 'not counted' : `restart ${restarts + 1} of ${limit}`;
  return {
    restart: true,
    reason: disruptedOnly ? 'WorkersDisrupted' : 'WorkerFailed',
    message: `${detail}; ${count}, ${from}`,
    ...(resumeFrom ? { resumeFrom } : {}),
  };
}
