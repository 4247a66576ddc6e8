// Best-effort order, pure: where a policy sets backfillSeconds, a job behind a first in line that cannot start (its quota,
// its cohort or the nodes hold it, and preempting would not help) starts in its place, while the first has waited less than
// that; then the queue holds for it: nobody passes it any more, and it starts as soon as the running jobs leave it room.
import { CONDITION_QUEUED } from '../../api/conditions.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import { preemptsWithinNamespace, type TrainingPolicy } from '../../api/trainingpolicy.ts';
import { priorityValue } from '../../policies/priority.ts';
import { strictest } from '../../policies/policy-rules.ts';
import { chooseVictims } from './preemption.ts';
import { nextToStart, queueOrder, startPlan, type QueueFacts, type StartChoice } from './queue-place.ts';
import { backingOffUntil } from './startup.ts';

// Jobs looked at behind the first in line: each costs a capacity check, and a reconcile of every queued job makes one.
const SCAN = 64;

/** The strictest (shortest) backfillSeconds of the policies selecting the namespace; undefined: strict order. */
export function backfillSeconds(policies: readonly TrainingPolicy[]): number | undefined {
  return strictest(policies, (p) => p.spec.backfillSeconds)?.value;
}

/** Since when `job` waits in the queue (ms): its Queued condition's last transition, else its creation. */
export function queuedSince(job: TrainingJob): number {
  const queued = job.status?.conditions?.find((c) => c.type === CONDITION_QUEUED && c.status === 'True');
  return Date.parse(String(queued?.lastTransitionTime ?? job.metadata?.creationTimestamp ?? '')) || 0;
}

/**
 * The job that asks to start now, and how: the first in line, or, within its backfill window, the first job behind it
 * that could start now where the first cannot. `noRoom`: why a job's workers do not all fit the nodes' free GPUs, in
 * words, or undefined when they fit (or the policy does not check). Undefined when nothing waits.
 */
export function startingJob(facts: QueueFacts, now: number, aside: (job: TrainingJob) => boolean = () => false, noRoom: (job: TrainingJob) => string | undefined = () => undefined): StartChoice | undefined {
  const head = nextToStart(facts, now, aside);
  if (!head) return undefined;
  const plan = startPlan(head, facts, now, aside);
  const window = backfillSeconds(facts.policies);
  // Refused by the webhook for capacity this view does not see (a ResourceQuota): it cannot start either.
  // Only a head its quota and cohort would let start can be held by the nodes.
  const held = 'borrow' in plan ? noRoom(head) : undefined;
  if (window === undefined || ('borrow' in plan && !held && !facts.refusedForCapacity?.(head))) return { job: head, plan };
  // The first in line's window alone: a job passed now becomes first in line later, and from then on its own (by then
  // likely over) window holds the queue for it, so every wait stays bounded.
  const until = queuedSince(head) + window * 1000;
  // Past the window the queue holds for it; and a first in line that can preempt its way in starts that way, not behind jobs it would stop.
  if (now >= until || chooseVictims(head, facts, now).length > 0) return { job: head, plan };
  // A job the first in line may preempt never passes it: it would be stopped again as soon as the first could use its GPUs.
  const floor = preemptsWithinNamespace(facts.policies) ? priorityValue(head, facts.classes) : -Infinity;
  let looked = 0;
  for (const k of queueOrder(facts.jobs, facts.classes)) {
    if (k.metadata?.name === head.metadata?.name || backingOffUntil(k, now) || aside(k)) continue;
    if (priorityValue(k, facts.classes) < floor) break;
    if (looked++ >= SCAN) break;
    const p = startPlan(k, facts, now, aside);
    if ('borrow' in p && !noRoom(k) && !facts.refusedForCapacity?.(k)) return { job: k, plan: p, backfill: { behind: head, until, ...(held ? { held } : {}) } };
  }
  return { job: head, plan };
}
