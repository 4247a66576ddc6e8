// The queue of a namespace, pure: queued jobs in start order (priority, then creation), and what holds each back.
import { BORROWED_ANNOTATION, QUEUED_ANNOTATION, gpuDemand, isQueued, type QueueStatus, type TrainingJob } from '../../api/index.ts';
import type { TrainingPolicy } from '../../api/trainingpolicy.ts';
import { priorityValue, type PriorityClassInfo } from '../../policies/priority.ts';
import { capacityViolations, COHORT_WORDS, gpusInUse, jobsHoldingCapacity, NEVER_FITS, withUsage } from '../../policies/quota.ts';
import { borrowShortfall, cohortIdle, gpusToBorrow, type CohortFacts } from '../../policies/cohort.ts';
import { queueOrder } from '../../policies/queued-ahead.ts';
import { backingOffUntil, startupAttempts } from './startup.ts';

// The start order is the webhook's too (a create that fits waits behind the jobs ahead of it), so it lives in policies/.
export { queueOrder };

/** How a preempted job's queue annotation begins (controller/trainingjob/reconciler.ts writes it). */
export const PREEMPTED_BY = 'preempted by ';

/** How the queue reason of a job the webhook refused to start for a reason other than capacity begins. */
export const REFUSED_AT_START = 'refused when starting: ';

/**
 * Whether a release refusal (the webhook's words) is about capacity only: every capacity message
 * starts "namespace <name> " (policies/quota.ts); anything else, or a job larger than the limit itself, preempting or waiting cannot fix.
 */
export function capacityRefusal(words: string): boolean {
  const parts = /^\d+ problems: /.test(words) ? words.replace(/^\d+ problems: /, '').split('; ') : [words];
  return parts.every((p) => p.startsWith('namespace ') && !p.endsWith(NEVER_FITS));
}

/** The first in line's reason when no limit we know of holds it: it is about to ask to start. */
export const CAPACITY_FREE = 'capacity is free: asking to start';

const ASKING_ON_THEM = ': asking to start on them';

/** Whether a queue reason says the job is about to ask to start (on its own quota or borrowed GPUs): nothing we know of holds it. */
export function asksToStart(reason: string): boolean {
  return reason.endsWith(CAPACITY_FREE) || reason.endsWith(ASKING_ON_THEM);
}

export interface QueueFacts {
  /** Every TrainingJob of the namespace (queued, running and finished). */
  jobs: readonly TrainingJob[];
  /** The policies that select the namespace. */
  policies: readonly TrainingPolicy[];
  classes: readonly PriorityClassInfo[];
  /** The namespace's cohort, with every member's usage, when a selecting policy names one. */
  cohort?: CohortFacts;
  /** Every job of the cohort's members (this namespace's included). */
  cohortJobs?: readonly TrainingJob[];
  /** The policies selecting a member namespace: its own limits (maxConcurrentJobs) can hold its job where the cohort would not. */
  memberPolicies?: (namespace: string) => readonly TrainingPolicy[];
  /** Jobs the webhook refused to start for capacity this view does not see (a ResourceQuota, say): in the cohort's order they hold nobody back. */
  refusedForCapacity?: (job: TrainingJob) => boolean;
}

/** The limits `job` would pass now, in the webhook's words, or undefined when it would fit. */
export function capacityShortfall(job: TrainingJob, facts: QueueFacts): string | undefined {
  const namespace = job.metadata?.namespace ?? '';
  const over = capacityViolations(job, namespace, facts.policies, facts.jobs, [], facts.cohort);
  return over.length ? over.map((v) => v.message).join('; ') : undefined;
}

/**
 * How `job` could start now: on its own quota (borrow 0), on `borrow` GPUs its cohort leaves idle, or not,
 * with the limits that hold it back in words (the cohort's numbers included). Idle cohort GPUs go in the cohort's
 * order: a member's first in line that is ahead of `job` there and could borrow them now takes them first.
 */
/** Start on own quota plus `borrow` idle cohort GPUs, or why not yet. */
export type StartPlan = { borrow: number } | { shortfall: string };

export function startPlan(job: TrainingJob, facts: QueueFacts, now: number, aside: (job: TrainingJob) => boolean = () => false): StartPlan {
  const own = capacityShortfall(job, facts);
  if (!own) return { borrow: 0 };
  if (!facts.cohort) return { shortfall: own };
  const namespace = job.metadata?.namespace ?? '';
  const cohort = withUsage(facts.cohort, namespace, gpusInUse(jobsHoldingCapacity(job, namespace, facts.jobs)));
  const borrow = gpusToBorrow(namespace, gpuDemand(job), cohort);
  if (borrow <= 0) return { shortfall: own };
  const short = capacityShortfall(marked(job, borrow), facts);
  if (short) return { shortfall: short };
  const ahead = startsAhead(job, facts, cohort, now, aside);
  if (!ahead.first || !borrowShortfall(namespace, gpuDemand(job), ahead.pool)) return { borrow };
  const who = `${ahead.first.metadata?.namespace}/${ahead.first.metadata?.name} (priority ${priorityValue(ahead.first, facts.classes)}, ${gpuDemand(ahead.first)} GPUs)`;
  return { shortfall: `${own}${COHORT_WORDS}cohort ${facts.cohort.name}: ${cohortIdle(cohort.members)} idle, first in the cohort's line for them: ${who}` };
}

/** `job` as asking to start on `borrow` GPUs of its cohort: what the webhook checks against the cohort. */
const marked = (job: TrainingJob, borrow: number): TrainingJob => ({ ...job, metadata: { ...job.metadata, annotations: { ...job.metadata?.annotations, [BORROWED_ANNOTATION]: String(borrow) } } });

/**
 * The cohort as it will be once the other members' first in line ahead of `job` in the cohort's order have started,
 * each where it could start now (on its quota or borrowed GPUs), and the first of them to take idle GPUs. Only a first
 * in line can start, and one that could not start anyway (too large for what is idle, its namespace at maxConcurrentJobs, refused by
 * the webhook) holds nobody back.
 */
function startsAhead(job: TrainingJob, facts: QueueFacts, cohort: CohortFacts, now: number, aside: (job: TrainingJob) => boolean): { pool: CohortFacts; first?: TrainingJob } {
  let pool = cohort;
  let first: TrainingJob | undefined;
  const namespace = job.metadata?.namespace;
  const seen = new Set<string>();
  for (const k of queueOrder(facts.cohortJobs ?? [], facts.classes)) {
    if (k.metadata?.namespace === namespace && k.metadata?.name === job.metadata?.name) break;
    const ns = k.metadata?.namespace ?? '';
    if (ns === namespace || seen.has(ns) || backingOffUntil(k, now) || aside(k)) continue;
    seen.add(ns);
    // Still its namespace's next to start, so the jobs behind it cannot start either: the whole member holds nobody back.
    if (facts.refusedForCapacity?.(k)) continue;
    const member = pool.members.find((m) => m.namespace === ns);
    if (!member || !couldStart(k, pool, facts)) continue;
    const idle = cohortIdle(pool.members);
    pool = withUsage(pool, ns, member.used + gpuDemand(k));
    if (cohortIdle(pool.members) < idle) first ??= k;
  }
  return { pool, first };
}

/** Whether another member's first in line `k` could start now: on its own quota (taking lent GPUs back), or within what is idle and its limits. */
function couldStart(k: TrainingJob, pool: CohortFacts, facts: QueueFacts): boolean {
  const ns = k.metadata?.namespace ?? '';
  const borrow = gpusToBorrow(ns, gpuDemand(k), pool);
  if (borrow > 0 && borrowShortfall(ns, gpuDemand(k), pool)) return false;
  if (!facts.memberPolicies) return true;
  const theirs: QueueFacts = { jobs: (facts.cohortJobs ?? []).filter((j) => j.metadata?.namespace === ns), policies: facts.memberPolicies(ns), classes: facts.classes, cohort: pool };
  return !capacityShortfall(borrow > 0 ? marked(k, borrow) : k, theirs);
}

/** `job`'s place among every queued job of its cohort (1 is the first to borrow what members leave idle), when it has one. */
export function cohortPosition(job: TrainingJob, facts: QueueFacts): number | undefined {
  if (!facts.cohortJobs) return undefined;
  const i = queueOrder(facts.cohortJobs, facts.classes).findIndex((k) => k.metadata?.namespace === job.metadata?.namespace && k.metadata?.name === job.metadata?.name);
  return i < 0 ? undefined : i + 1;
}

/** The job that asks to start next: the first in line not backing off after a failed start, nor `aside` (refused for another reason). */
export function nextToStart(facts: QueueFacts, now: number, aside: (job: TrainingJob) => boolean = () => false): TrainingJob | undefined {
  return queueOrder(facts.jobs, facts.classes).find((j) => !backingOffUntil(j, now) && !aside(j));
}

/** The job that asks to start now and its plan; `backfill` when it starts ahead of a first in line that cannot (controller/queue/backfill.ts). */
export interface StartChoice {
  job: TrainingJob;
  plan: StartPlan;
  /** `held`: why the nodes hold the first in line back, in words, when they do. */
  backfill?: { behind: TrainingJob; until: number; held?: string };
}

/**
 * Where `job` stands in its namespace's queue and why it waits, or undefined when it is not queued.
 * Only the next to start asks to, so a job further back names the one it waits behind as well.
 * `plan`: the job's startPlan, when the caller has it already (it sorts the cohort's order); `starting`: who asks to
 * start now, when backfill may pick another than the first in line.
 */
export function queuePlace(job: TrainingJob, facts: QueueFacts, now: number, aside: (job: TrainingJob) => boolean = () => false, plan: StartPlan = startPlan(job, facts, now, aside), starting?: StartChoice): QueueStatus | undefined {
  if (!isQueued(job)) return undefined;
  const order = queueOrder(facts.jobs, facts.classes);
  const index = order.findIndex((j) => j.metadata?.name === job.metadata?.name);
  if (index < 0) return undefined;
  const priority = priorityValue(job, facts.classes);
  const next = starting?.job ?? order.find((j) => !backingOffUntil(j, now) && !aside(j));
  const until = backingOffUntil(job, now);
  // A preempted job keeps saying so while it waits: the why of its wait starts there.
  const note = job.metadata?.annotations?.[QUEUED_ANNOTATION];
  const shortfall = 'shortfall' in plan ? plan.shortfall : undefined;
  const own = note?.startsWith(PREEMPTED_BY) ? [note, shortfall].filter(Boolean).join('; ') : shortfall;
  const position = index + 1;
  const inCohort = cohortPosition(job, facts);
  const at = { position, ...(inCohort !== undefined ? { cohortPosition: inCohort } : {}), priority };
  if (until) return { ...at, reason: [`backing off after ${startupAttempts(job)} failed ${startupAttempts(job) === 1 ? 'start' : 'starts'} until ${until}`, own].filter(Boolean).join('; ') };
  const free = 'borrow' in plan && plan.borrow > 0 ? `${plan.borrow} GPUs idle in cohort ${facts.cohort?.name}${ASKING_ON_THEM}` : CAPACITY_FREE;
  const backfill = starting?.backfill;
  if (next?.metadata?.name === job.metadata?.name) {
    if (!backfill) return { ...at, reason: own ?? free };
    const first = backfill.behind;
    return { ...at, reason: `backfilling: the first in line, ${first.metadata?.name} (priority ${priorityValue(first, facts.classes)}, ${gpuDemand(first)} GPUs), cannot start yet, and until ${new Date(backfill.until).toISOString()} jobs behind it that fit start first; ${free}` };
  }
  // The first in line, while a job behind it starts: its own reason, and how long it lets others go first.
  if (backfill && backfill.behind.metadata?.name === job.metadata?.name) return { ...at, reason: `${own ?? backfill.held ?? 'cannot start yet'}; until ${new Date(backfill.until).toISOString()} jobs behind it that fit start first (next: ${next?.metadata?.name})` };
  const ahead = `${index} ${index === 1 ? 'job' : 'jobs'} ahead; next to start: ${next?.metadata?.name} (priority ${next ? priorityValue(next, facts.classes) : 0}, ${next ? gpuDemand(next) : 0} GPUs)`;
  return { ...at, reason: own ? `${ahead}; ${own}` : ahead };
}
