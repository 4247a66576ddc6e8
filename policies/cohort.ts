// Cohorts, pure: namespaces whose policies name the same cohort lend each other the quota they leave idle,
// within each one's lendingLimit and borrowingLimit. Usage decides everything (never a record of who lent what),
// so no job is counted twice and a restart or new leader computes the same pool from the same jobs.
import { BORROWED_ANNOTATION } from '../api/annotations.ts';
import type { TrainingJob } from '../api/trainingjob-v1.ts';
import { policyName, type TrainingPolicy } from '../api/trainingpolicy.ts';
import { matchingPolicies, type NamespaceInfo } from './matching-policies.ts';
import { strictest } from './policy-rules.ts';
import { violation, type Violation } from './violation.ts';

export interface CohortMember {
  namespace: string;
  /** The namespace's own GPU quota (the strictest gpuQuota selecting it). */
  quota: number;
  /** GPUs of `quota` others may borrow. */
  lendingLimit: number;
  /** GPUs it may use beyond `quota`; undefined: as many as the cohort lends. */
  borrowingLimit?: number;
  /** GPUs its jobs hold now. */
  used: number;
}

export interface CohortFacts {
  name: string;
  /** Every member, the job's own namespace included. */
  members: readonly CohortMember[];
}

export interface Membership {
  cohort: string;
  /** The policy that names the cohort. */
  policy: string;
  quota: number;
  lendingLimit: number;
  borrowingLimit?: number;
}

/** The cohort a namespace's quota belongs to, from the policies selecting it: the first (by name) naming one, with a gpuQuota somewhere. */
export function membership(policies: readonly TrainingPolicy[]): Membership | undefined {
  const named = policies.find((p) => p.spec.cohort);
  const quota = strictest(policies, (p) => p.spec.gpuQuota)?.value;
  if (!named?.spec.cohort || quota === undefined) return undefined;
  const { lendingLimit, borrowingLimit } = named.spec;
  return { cohort: named.spec.cohort, policy: policyName(named), quota, lendingLimit: Math.min(quota, lendingLimit ?? quota), ...(borrowingLimit !== undefined ? { borrowingLimit } : {}) };
}

/** The members of `cohort` among `namespaces`, each with the GPUs it uses now. */
export function cohortMembers(cohort: string, policies: readonly TrainingPolicy[], namespaces: readonly NamespaceInfo[], used: (namespace: string) => number): CohortMember[] {
  return namespaces.flatMap((ns) => {
    const m = membership(matchingPolicies(policies, ns));
    return m?.cohort === cohort ? [{ namespace: ns.name, quota: m.quota, lendingLimit: m.lendingLimit, ...(m.borrowingLimit !== undefined ? { borrowingLimit: m.borrowingLimit } : {}), used: used(ns.name) }] : [];
  });
}

export const borrowed = (m: CohortMember): number => Math.max(0, m.used - m.quota);
const lendable = (m: CohortMember): number => Math.min(m.lendingLimit, Math.max(0, m.quota - m.used));
const sum = (ms: readonly CohortMember[], f: (m: CohortMember) => number): number => ms.reduce((s, m) => s + f(m), 0);

/** GPUs members leave idle for borrowers, less what is borrowed already; negative when lenders took back their own. */
export function cohortIdle(members: readonly CohortMember[]): number {
  return sum(members, lendable) - sum(members, borrowed);
}

/** The most a member could ever borrow: its borrowing limit, or all the others would lend with nothing of theirs running. */
export function maxBorrowable(namespace: string, members: readonly CohortMember[]): number {
  const others = sum(members.filter((m) => m.namespace !== namespace), (m) => m.lendingLimit);
  const limit = members.find((m) => m.namespace === namespace)?.borrowingLimit;
  return limit === undefined ? others : Math.min(limit, others);
}

/** Why `namespace` cannot take `demand` more GPUs from its quota and the cohort now, in words with the numbers; undefined when it can. */
export function borrowShortfall(namespace: string, demand: number, cohort: CohortFacts): string | undefined {
  const me = cohort.members.find((m) => m.namespace === namespace);
  if (!me) return `namespace ${namespace} is not in cohort ${cohort.name}`;
  const after = cohort.members.map((m) => (m === me ? { ...m, used: m.used + demand } : m));
  const mine = after.find((m) => m.namespace === namespace)!;
  const wants = borrowed(mine) - borrowed(me);
  if (me.borrowingLimit !== undefined && borrowed(mine) > me.borrowingLimit) {
    return `cohort ${cohort.name}: borrowing limit ${me.borrowingLimit}, ${borrowed(me)} borrowed, this job would borrow ${wants} more`;
  }
  if (cohortIdle(after) < 0) return `cohort ${cohort.name}: ${Math.max(0, cohortIdle(cohort.members))} idle, this job would borrow ${wants}`;
  return undefined;
}

/** GPUs `job` would borrow were it to start now (0 when its own quota has room). */
export function gpusToBorrow(namespace: string, demand: number, cohort: CohortFacts): number {
  const me = cohort.members.find((m) => m.namespace === namespace);
  return me ? borrowed({ ...me, used: me.used + demand }) - borrowed(me) : 0;
}

/** Whether a job runs on borrowed GPUs, as the controller marked it when it started it. */
export function borrowedGpus(job: TrainingJob): number {
  const n = Number(job.metadata?.annotations?.[BORROWED_ANNOTATION]);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/**
 * A namespace's quota belongs to one cohort: `policy` naming a cohort that another policy, selecting one of the same
 * namespaces, names differently is a conflict, named with the namespace and the other policy. Cohorts are flat (no
 * parent cohorts), so they cannot form cycles.
 */
export function cohortConflicts(policy: TrainingPolicy, others: readonly TrainingPolicy[], namespaces: readonly NamespaceInfo[]): Violation[] {
  const mine = policy.spec.cohort;
  if (!mine) return [];
  const rivals = others.filter((p) => policyName(p) !== policyName(policy) && p.spec.cohort && p.spec.cohort !== mine);
  for (const ns of namespaces) {
    if (matchingPolicies([policy], ns).length === 0) continue;
    const rival = matchingPolicies(rivals, ns)[0];
    if (rival) return [violation('spec.cohort', `namespace ${ns.name} is already in cohort ${rival.spec.cohort} through TrainingPolicy ${policyName(rival)}; a namespace's quota belongs to one cohort`, 'CohortConflict')];
  }
  return [];
}

/**
 * Policies written apart can still put one namespace into two cohorts once its labels change: the words for a warning,
 * naming both; undefined when they agree. `policies`: those selecting the namespace, by name (membership takes the first).
 */
export function cohortConflict(policies: readonly TrainingPolicy[], namespace: string): string | undefined {
  const naming = policies.filter((p) => p.spec.cohort);
  const first = naming[0];
  const other = naming.find((p) => p.spec.cohort !== first?.spec.cohort);
  // Without a quota to pool no cohort applies, so there is nothing to choose between.
  if (!first || !other || !membership(policies)) return undefined;
  return `namespace ${namespace} is in cohort ${first.spec.cohort} through TrainingPolicy ${policyName(first)} and in cohort ${other.spec.cohort} through TrainingPolicy ${policyName(other)}; a namespace's quota belongs to one cohort, so ${first.spec.cohort} (of the first policy by name) applies until one of them changes`;
}

/** Limits that only mean something in a cohort, and a lending limit above the quota it lends from. */
export function cohortLimitViolations(policy: TrainingPolicy): Violation[] {
  const { cohort, borrowingLimit, lendingLimit, gpuQuota } = policy.spec;
  const out: Violation[] = [];
  if (!cohort) {
    if (borrowingLimit !== undefined) out.push(violation('spec.borrowingLimit', 'needs spec.cohort: GPUs are borrowed from a cohort', 'FieldValueForbidden'));
    if (lendingLimit !== undefined) out.push(violation('spec.lendingLimit', 'needs spec.cohort: GPUs are lent to a cohort', 'FieldValueForbidden'));
  }
  if (lendingLimit !== undefined && gpuQuota !== undefined && lendingLimit > gpuQuota) out.push(violation('spec.lendingLimit', `${lendingLimit} is more than spec.gpuQuota ${gpuQuota}: a namespace lends only from its own quota`, 'FieldValueInvalid'));
  return out;
}
