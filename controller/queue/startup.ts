// All or nothing, pure: a started job whose workers are not all running in time gives its GPUs back and
// waits in the queue with exponential backoff, so two half-started jobs never hold each other's GPUs.
import { RETRY_AFTER_ANNOTATION, STARTUP_ATTEMPTS_ANNOTATION } from '../../api/annotations.ts';
import type { TrainingJob, TrainingJobStatus } from '../../api/trainingjob-v1.ts';
import type { TrainingPolicy } from '../../api/trainingpolicy.ts';
import { strictest } from '../../policies/policy-rules.ts';

/** How the queue annotation of a job that failed to start begins (the state machine reads it). */
export const STARTUP_TIMED_OUT = 'not every worker was running ';

const BACKOFF_BASE_MS = 10_000;
const BACKOFF_MAX_MS = 600_000;

/** The strictest startupTimeoutSeconds of the policies that select the namespace; undefined: wait indefinitely. */
export function startupTimeoutSeconds(policies: readonly TrainingPolicy[]): number | undefined {
  return strictest(policies, (p) => p.spec.startupTimeoutSeconds)?.value;
}

export function startupAttempts(job: TrainingJob): number {
  const n = Number(job.metadata?.annotations?.[STARTUP_ATTEMPTS_ANNOTATION]);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** 10 s after the first failed start, doubling, at most 10 minutes. */
export function startupBackoffMs(attempts: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

/** When a job backing off after a failed start may start again, if that is still ahead. */
export function backingOffUntil(job: TrainingJob, now: number): string | undefined {
  const at = job.metadata?.annotations?.[RETRY_AFTER_ANNOTATION];
  return at && Date.parse(at) > now ? at : undefined;
}

export interface StartupTimeout {
  attempts: number;
  retryAfter: string;
  /** Why, for the queue annotation and the event. */
  message: string;
}

/**
 * Whether `job`, Initializing with the status just computed, has waited longer than the timeout since
 * its worker Job started (or was resumed: the Job controller resets startTime then); ms left otherwise.
 */
export function startupDeadline(status: TrainingJobStatus, workerJobStart: string | undefined, timeoutSeconds: number | undefined, now: number): number | undefined {
  if (status.state !== 'Initializing' || timeoutSeconds === undefined || !workerJobStart) return undefined;
  return Date.parse(workerJobStart) + timeoutSeconds * 1000 - now;
}

export function startupTimeout(job: TrainingJob, status: TrainingJobStatus, timeoutSeconds: number, now: number): StartupTimeout {
  const attempts = startupAttempts(job) + 1;
  const backoff = startupBackoffMs(attempts);
  const waiting = status.conditions?.find((c) => c.type === 'Running')?.message ?? 'workers not running';
  return {
    attempts,
    retryAfter: new Date(now + backoff).toISOString(),
    message: `${STARTUP_TIMED_OUT}${timeoutSeconds}s after the start (${waiting}): GPUs released, start ${attempts} failed, next try in ${Math.round(backoff / 1000)}s`,
  };
}
