// The admission decisions: gather facts, run the pure policy engine, and reserve capacity in the
// GPU ledger. Thin on purpose: every rule lives in policies/.
import { API_VERSION_V1, GROUP, TRAININGJOB_KIND, TRAININGPOLICY_KIND, V1, gpuDemand, isQueued, type TrainingJob, type TrainingPolicy } from '../api/index.ts';
import { capacityApplies, capacityLimited, evaluate, matchingPolicies, validate, validateTrainingPolicy, type EvaluationInput, type NamespaceInfo } from '../policies/index.ts';
import { borrowedGpus, cohortMembers, membership, type CohortFacts } from '../policies/cohort.ts';
import { gpusInUse, jobsHoldingCapacity } from '../policies/quota.ts';
import type { AdmissionRequest, Verdict } from './admission-review.ts';
import type { ClusterFacts, JobList } from './cluster-facts.ts';
import { pendingJobs, withReservation, type Ledger, type LedgerStore } from './gpu-ledger.ts';
import type { KeyedLock } from './keyed-lock.ts';
import { newestVersion } from '../kube/index.ts';
import type { PersistedJobs } from './persisted-jobs.ts';
import { type Clock } from '../clock/clock.ts';

export interface AdmitDeps {
  facts: ClusterFacts;
  ledger: LedgerStore;
  /** Injected so reservation expiry is testable. */
  clock: Pick<Clock, 'now'>;
  /** Called on each lost optimistic-concurrency race, for metrics. */
  onConflict?: () => void;
  maxAttempts?: number;
  /** Jobs this replica has watched being persisted; without it, only lists retire reservations. */
  persisted?: PersistedJobs;
  /** Serializes reservations per namespace within this replica, so its own requests do not race each other. */
  lock?: KeyedLock;
  /** Uncached reads for TrainingPolicy reviews: a policy written a moment ago must count in the next one's cohort check. */
  policyFacts?: Pick<ClusterFacts, 'policies' | 'namespaces'>;
}

function wrongKind(req: AdmissionRequest, expected: string): Verdict | undefined {
  const k = req.kind;
  if (k.group === GROUP && k.kind === expected && k.version === V1) return undefined;
  return { allowed: false, code: 400, reason: 'BadRequest', denials: [{ field: 'request.kind', reason: 'WrongKind', message: `this webhook handles ${GROUP}/${V1} ${expected}, not ${k.group || 'core'}/${k.version} ${k.kind}` }] };
}

/**
 * The job as the engine sees it: namespace filled from the request (the apiserver sets it after
 * admission), managedFields left out (no rule reads them and no default touches them, and they were
 * most of what the engine cloned and diffed per review).
 */
function jobOf(req: AdmissionRequest, obj: unknown): TrainingJob | undefined {
  if (obj === undefined || obj === null) return undefined;
  const job = obj as TrainingJob;
  const namespace = req.namespace ?? job.metadata?.namespace ?? '';
  const { managedFields: _managedFields, ...metadata } = job.metadata ?? {};
  return { ...job, apiVersion: job.apiVersion ?? API_VERSION_V1, metadata: { ...metadata, namespace } };
}

const NO_RESERVATIONS: Ledger = { entries: {}, version: undefined };

// Facts reads are cached for a couple of seconds, so asking twice per admission costs nothing.
async function limited(deps: AdmitDeps, job: TrainingJob): Promise<boolean> {
  const name = job.metadata?.namespace ?? '';
  const [namespace, policies, resourceQuotas] = await Promise.all([deps.facts.namespace(name), deps.facts.policies(), deps.facts.resourceQuotas(name)]);
  return capacityLimited({ namespace, policies, resourceQuotas });
}

// Seen persisted at or before the list's version: then the list has the job, or it is gone since. A job seen
// after the list was taken is in neither, so its reservation must still count.
function persistedBy(deps: AdmitDeps, namespace: string, listedRv: string | undefined): (name: string) => boolean {
  return (name) => {
    const at = deps.persisted?.seenAt(namespace, name);
    return at !== undefined && listedRv !== undefined && newestVersion([listedRv, at]) === listedRv;
  };
}

/** Engine input for `object`: the jobs listed (not older than the ledger says) plus stand-ins for reserved ones not listed yet. */
async function engineInput(deps: AdmitDeps, req: AdmissionRequest, object: TrainingJob, ledger: Ledger, self: string): Promise<{ input: EvaluationInput; jobs: JobList }> {
  const namespace = object.metadata?.namespace ?? '';
  const seenAt = (name: string) => deps.persisted?.seenAt(namespace, name);
  // Fresh enough to show every job whose reservation was retired, by the ledger's writers or by our own watch.
  const notOlderThan = newestVersion([ledger.listedAt, ...Object.keys(ledger.entries).map(seenAt)]);
  const [ns, policies, jobs, resourceQuotas, priorityClasses, nodes] = await Promise.all([deps.facts.namespace(namespace), deps.facts.policies(), deps.facts.jobs(namespace, notOlderThan), deps.facts.resourceQuotas(namespace), deps.facts.priorityClasses(), deps.facts.nodes()]);
  const pending = pendingJobs(ledger, namespace, jobs.items, deps.clock.now(), self, persistedBy(deps, namespace, jobs.resourceVersion));
  const oldObject = jobOf(req, req.oldObject);
  const cohort = await cohortOf(deps, policies, ns, borrowedGpus(object) > 0 && req.operation === 'UPDATE' && oldObject !== undefined && isQueued(oldObject));
  const input: EvaluationInput = { operation: req.operation, dryRun: Boolean(req.dryRun), object, oldObject, namespace: ns, policies, namespaceJobs: [...jobs.items, ...pending], resourceQuotas, priorityClasses, nodes, ...(cohort ? { cohort } : {}) };
  return { input, jobs };
}

/**
 * The namespace's cohort, when a selecting policy names one. Its members' usage is listed only for a job the
 * controller starts on borrowed GPUs (`usage`); the limits alone tell what could ever fit.
 */
async function cohortOf(deps: AdmitDeps, policies: readonly TrainingPolicy[], ns: NamespaceInfo, usage: boolean): Promise<CohortFacts | undefined> {
  const mine = membership(matchingPolicies(policies, ns));
  if (!mine) return undefined;
  const namespaces = await deps.facts.namespaces();
  const used = new Map<string, number>();
  if (usage) {
    const members = cohortMembers(mine.cohort, policies, namespaces, () => 0);
    await Promise.all(members.map(async (m) => used.set(m.namespace, gpusInUse(jobsHoldingCapacity(undefined, m.namespace, await withReserved(deps, m.namespace, m.namespace !== ns.name))))));
  }
  return { name: mine.cohort, members: cohortMembers(mine.cohort, policies, namespaces, (n) => used.get(n) ?? 0) };
}

/**
 * A member's jobs, with stand-ins for the ones its admissions reserved and the list does not show yet (`reserved`: the own
 * namespace's are counted by the engine). Ledger first, then the jobs, as in `admit`: a lender's job admitted after this
 * read is listed, or was reserved before it. Across namespaces this narrows the race, reclaim settles what is left.
 */
async function withReserved(deps: AdmitDeps, namespace: string, reserved: boolean): Promise<TrainingJob[]> {
  const ledger = reserved ? await deps.ledger.read(namespace) : NO_RESERVATIONS;
  const jobs = await deps.facts.jobs(namespace, ledger.listedAt);
  return [...jobs.items, ...pendingJobs(ledger, namespace, jobs.items, deps.clock.now(), '', persistedBy(deps, namespace, jobs.resourceVersion))];
}

// The ledger key: the job's name, or the request uid while a generateName job has none yet.
const selfKey = (req: AdmissionRequest, job: TrainingJob): string => job.metadata?.name || `uid-${req.uid}`;

/** The TrainingJob a create or update writes, or the answer when there is nothing to evaluate. */
function writtenJob(req: AdmissionRequest): { job: TrainingJob } | { answer: Verdict } {
  const bad = wrongKind(req, TRAININGJOB_KIND);
  if (bad) return { answer: bad };
  const job = req.operation === 'CREATE' || req.operation === 'UPDATE' ? jobOf(req, req.object) : undefined;
  return job ? { job } : { answer: { allowed: true } };
}

/** What one admission step makes of its input: the verdict, and the job it would admit. */
type Decide = (input: EvaluationInput) => { verdict: Verdict; job: TrainingJob };

// Defaults, then every rule on the defaulted job: CRD schema checks run only after the mutating
// phase, so range and type errors are refused here, all at once and in our words.
const mutating: Decide = (input) => {
  const result = evaluate(input);
  if (!result.allowed) return { verdict: { allowed: false, denials: result.denials }, job: result.object };
  return { verdict: { allowed: true, patch: result.patch, warnings: result.warnings }, job: result.object };
};

const validating: Decide = (input) => ({ verdict: validate(input), job: input.object });

/**
 * The mutating step decides and, for a job with a name, reserves its GPUs: one webhook call per
 * create. A generateName job has no name (the ledger key) until after the mutating phase, so the
 * validating step, registered for exactly those creates, reserves it.
 */
export async function mutateTrainingJob(deps: AdmitDeps, req: AdmissionRequest): Promise<Verdict> {
  const written = writtenJob(req);
  if ('answer' in written) return written.answer;
  const { job } = written;
  if (job.metadata?.name) return serialized(deps, job, () => admit(deps, req, job, mutating));
  // Reservations still in flight count for the Queue decision; nothing is written here.
  const ledger = (await limited(deps, job)) ? await deps.ledger.read(job.metadata?.namespace ?? '') : NO_RESERVATIONS;
  return mutating((await engineInput(deps, req, job, ledger, selfKey(req, job))).input).verdict;
}

export async function validateTrainingJob(deps: AdmitDeps, req: AdmissionRequest): Promise<Verdict> {
  const written = writtenJob(req);
  if ('answer' in written) return written.answer;
  const { job } = written;
  return serialized(deps, job, () => admit(deps, req, job, validating));
}

const serialized = (deps: AdmitDeps, job: TrainingJob, work: () => Promise<Verdict>): Promise<Verdict> => (deps.lock ? deps.lock.run(job.metadata?.namespace ?? '', work) : work());

/** Decides on `job` and, when it takes capacity, commits the decision with a conditional ledger write. */
async function admit(deps: AdmitDeps, req: AdmissionRequest, job: TrainingJob, decide: Decide): Promise<Verdict> {
  const namespace = job.metadata?.namespace ?? '';
  const self = selfKey(req, job);
  // No quota or job cap here: nothing to reserve, and the rules need no ledger.
  if (!(await limited(deps, job))) return decide((await engineInput(deps, req, job, NO_RESERVATIONS, self)).input).verdict;
  const attempts = deps.maxAttempts ?? 20;
  // The ledger this replica last read or wrote saves a read.
  let remembered = deps.ledger.remembered?.(namespace);
  for (let attempt = 1; attempt <= attempts; ) {
    // Ledger first, then the jobs: a job persisted after this read was reserved after it too,
    // so either we count its reservation, or our conditional write below fails and we look again.
    const ledger = remembered ?? (await deps.ledger.read(namespace));
    const fromMemory = remembered !== undefined;
    remembered = undefined;
    const now = deps.clock.now();
    const { input, jobs } = await engineInput(deps, req, job, ledger, self);
    const { verdict, job: admitted } = decide(input);
    if (!verdict.allowed || req.dryRun || !capacityApplies(input, admitted)) {
      // Only a conditional write may rely on a remembered ledger: refusals, queueing and dry runs are decided on a fresh read.
      if (fromMemory && capacityApplies(input, job)) continue;
      return verdict;
    }
    // A release names the queued version it releases: a list still showing that version predates the release.
    const queuedVersion = req.operation === 'UPDATE' ? input.oldObject?.metadata?.resourceVersion : undefined;
    const reservation = { gpus: gpuDemand(admitted), workers: admitted.spec?.numWorkers ?? 1, at: new Date(now).toISOString(), ...(queuedVersion ? { queuedVersion } : {}) };
    const next = withReservation(ledger, jobs.items, jobs.resourceVersion, now, self, reservation, persistedBy(deps, namespace, jobs.resourceVersion));
    if (await deps.ledger.write(namespace, next, ledger.version)) return verdict;
    // A stale remembered ledger is no race lost: read afresh at once.
    if (fromMemory) continue;
    deps.onConflict?.();
    // Jitter, so replicas that collided do not collide again in lockstep.
    await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
    attempt++;
  }
  return { allowed: false, code: 429, reason: 'TooManyRequests', denials: [{ field: 'metadata.namespace', reason: 'QuotaContention', message: `namespace ${namespace}: could not reserve GPU quota after ${attempts} attempts (many concurrent creates); retry` }] };
}

export async function validateTrainingPolicyRequest(req: AdmissionRequest, facts?: Pick<ClusterFacts, 'priorityClasses' | 'policies' | 'namespaces'>): Promise<Verdict> {
  const bad = wrongKind(req, TRAININGPOLICY_KIND);
  if (bad) return bad;
  if ((req.operation !== 'CREATE' && req.operation !== 'UPDATE') || !req.object) return { allowed: true };
  const policy = req.object as TrainingPolicy;
  const old = req.oldObject as TrainingPolicy | undefined;
  // Only a new or changed default is checked, so deleting a class never blocks unrelated policy edits.
  const name = policy.spec?.defaults?.priorityClassName;
  const check = facts && name !== undefined && name !== old?.spec?.defaults?.priorityClassName;
  // Likewise only a policy naming a cohort, or changing which namespaces it selects, reads the others.
  const cohortChanged = policy.spec?.cohort && (policy.spec.cohort !== old?.spec?.cohort || JSON.stringify(policy.spec.namespaceSelector) !== JSON.stringify(old?.spec?.namespaceSelector));
  const cluster = facts && cohortChanged ? { policies: await facts.policies(), namespaces: await facts.namespaces() } : undefined;
  return validateTrainingPolicy(policy, check ? await facts.priorityClasses() : undefined, cluster);
}
