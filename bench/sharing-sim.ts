// A trace-driven day of GPU sharing, decided by the product's own pure queue core (controller/queue/, policies/)
// on a simulated clock: arrivals are admitted as the webhook admits them, queued jobs start as the leader starts them
// (priority, then age; own quota, then the cohort's idle GPUs; only where every worker fits a node), and victims are
// chosen as the leader chooses them (preemption within a namespace, reclaim within a cohort). No apiserver: this
// measures the decisions, not the plumbing.
import { BORROWED_ANNOTATION, QUEUED_ANNOTATION, gpuDemand, type TrainingJob, type TrainingPolicy } from '../api/index.ts';
import { cohortMembers } from '../policies/cohort.ts';
import { capacityViolations, gpusInUse, jobsHoldingCapacity } from '../policies/quota.ts';
import { matchingPolicies } from '../policies/matching-policies.ts';
import { queueAheadMessage } from '../policies/queued-ahead.ts';
import type { PriorityClassInfo } from '../policies/priority.ts';
import type { QueueFacts } from '../controller/queue/queue-place.ts';
import { startingJob } from '../controller/queue/backfill.ts';
import { chooseVictims, type Victim } from '../controller/queue/preemption.ts';
import { reclaimVictims } from '../controller/queue/reclaim.ts';
import { seededRandom } from './stats.ts';

export interface TraceJob {
  name: string;
  namespace: string;
  arrival: number; // s
  workers: number;
  gpusPerWorker: number;
  work: number; // s of training
  checkpointEvery: number; // s of training between checkpoints
  priorityClassName: 'high' | 'low';
}

export interface Scenario {
  nodes: number;
  gpusPerNode: number;
  teams: string[];
  quota: number;
  /** Team → cohort; none: static quotas. */
  cohorts?: Record<string, string>;
  /** Every team's policy sets backfillSeconds; none: strict order. */
  backfillSeconds?: number;
}

export interface Outcome {
  utilisation: number;
  waits: Record<'high' | 'low', number[]>;
  maxWait: number;
  preemptions: Record<string, number>;
  lostGpuHours: number;
  decisions: number;
  decisionMs: number;
  unfinished: number;
}

export const CLASSES: PriorityClassInfo[] = [{ name: 'high', value: 1000 }, { name: 'low', value: 100 }];
const EPOCH = Date.parse('2026-12-07T00:00:00Z');
const iso = (s: number): string => new Date(EPOCH + s * 1000).toISOString();

/**
 * A day of jobs: each team's arrivals follow its own daily cycle (the two teams of a cohort are out of phase, as
 * teams in different time zones or with different release cycles are), offered load `load` × the cluster on average.
 */
export function dayTrace(s: Scenario, load: number, seed: number): TraceJob[] {
  const rnd = seededRandom(seed);
  const day = 86_400;
  const pick = <T,>(xs: readonly (readonly [T, number])[]): T => { let r = rnd(); for (const [x, p] of xs) { if ((r -= p) < 0) return x; } return xs[xs.length - 1]![0]; };
  const sizes = { workers: [[1, 0.4], [2, 0.3], [4, 0.3]] as const, gpus: [[1, 0.3], [2, 0.3], [4, 0.2], [8, 0.2]] as const };
  const meanGpus = 2.2 * 3.3;
  const meanWork = 600 * Math.exp(0.8 ** 2 / 2); // lognormal, median 10 min
  const perTeamRate = (load * s.nodes * s.gpusPerNode) / (meanGpus * meanWork) / s.teams.length;
  const jobs: TraceJob[] = [];
  s.teams.forEach((team, i) => {
    const phase = (i * Math.PI) + (i >= 2 ? Math.PI / 2 : 0);
    // Thinning: candidate arrivals at the peak rate, kept with the cycle's probability.
    const peak = perTeamRate * 1.9;
    for (let t = -Math.log(1 - rnd()) / peak; t < day; t += -Math.log(1 - rnd()) / peak) {
      if (rnd() > (1 + 0.9 * Math.sin((2 * Math.PI * t) / day + phase)) / 1.9) continue;
      const normal = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
      jobs.push({
        name: `${team}-${jobs.length}`, namespace: team, arrival: Math.round(t),
        workers: pick(sizes.workers), gpusPerWorker: pick(sizes.gpus),
        work: Math.max(60, Math.min(6 * 3600, Math.round(600 * Math.exp(0.8 * normal)))),
        checkpointEvery: pick([[300, 0.25], [600, 0.25], [1200, 0.25], [1800, 0.25]] as const),
        priorityClassName: rnd() < 0.2 ? 'high' : 'low',
      });
    }
  });
  return jobs.sort((a, b) => a.arrival - b.arrival);
}

interface Live {
  trace: TraceJob;
  job: TrainingJob;
  /** Training done up to the last checkpoint, s. */
  saved: number;
  runStart?: number;
  placed?: number[]; // node index per worker
  firstStart?: number;
  done?: number;
}

/**
 * `checkpointBlind`: the leader never learns when jobs checkpointed, so victims go by priority, then the fewest
 * GPU-hours since their start (the most recently started first, as Kueue orders them); the work lost is still what
 * each victim had done since its real last checkpoint.
 */
export function simulate(s: Scenario, trace: readonly TraceJob[], opts: { checkpointBlind?: boolean } = {}): Outcome {
  const free = Array.from({ length: s.nodes }, () => s.gpusPerNode);
  const policies: TrainingPolicy[] = s.teams.map((team) => ({
    metadata: { name: team },
    spec: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': team } }, gpuQuota: s.quota, overQuota: 'Queue', preemption: { withinNamespace: 'LowerPriority' }, ...(s.cohorts?.[team] ? { cohort: s.cohorts[team] } : {}), ...(s.backfillSeconds ? { backfillSeconds: s.backfillSeconds } : {}) },
  }));
  const namespaces = s.teams.map((name) => ({ name }));
  const live: Live[] = [];
  const active = new Set<Live>();
  const out: Outcome = { utilisation: 0, waits: { high: [], low: [] }, maxWait: 0, preemptions: {}, lostGpuHours: 0, decisions: 0, decisionMs: 0, unfinished: 0 };
  let now = 0;
  let busyGpuSeconds = 0;
  const day = 86_400;

  const jobsOf = (ns: string): TrainingJob[] => [...active].filter((l) => l.trace.namespace === ns).map((l) => l.job);
  const facts = (ns: string): QueueFacts => {
    const mine = matchingPolicies(policies, { name: ns });
    const cohort = mine[0]?.spec.cohort;
    if (!cohort) return { jobs: jobsOf(ns), policies: mine, classes: CLASSES };
    const members = cohortMembers(cohort, policies, namespaces, (n) => gpusInUse(jobsHoldingCapacity(undefined, n, jobsOf(n))));
    return { jobs: jobsOf(ns), policies: mine, classes: CLASSES, cohort: { name: cohort, members }, cohortJobs: members.flatMap((m) => jobsOf(m.namespace)), memberPolicies: (n) => matchingPolicies(policies, { name: n }) };
  };
  const byJob = new Map<TrainingJob, Live>();

  /** First fit of every worker, or undefined when one does not fit (nothing is taken then). */
  const place = (l: Live): number[] | undefined => {
    const taken: number[] = [];
    const left = [...free];
    for (let w = 0; w < l.trace.workers; w++) {
      const n = left.findIndex((g) => g >= l.trace.gpusPerWorker);
      if (n < 0) return undefined;
      left[n]! -= l.trace.gpusPerWorker;
      taken.push(n);
    }
    return taken;
  };
  const run = (l: Live, nodes: number[]): void => {
    for (const n of nodes) free[n]! -= l.trace.gpusPerWorker;
    l.placed = nodes;
    l.runStart = now;
    l.firstStart ??= now;
    l.job.status = { ...l.job.status, state: 'Running', startTime: iso(now) };
  };
  const release = (l: Live): void => {
    for (const n of l.placed ?? []) free[n]! += l.trace.gpusPerWorker;
    l.placed = undefined;
  };
  /** Admitted to hold quota: not queued (its workers may still wait for room on the nodes). */
  const admit = (l: Live, borrow: number): void => {
    const annotations = { ...l.job.metadata?.annotations };
    delete annotations[QUEUED_ANNOTATION];
    if (borrow > 0) annotations[BORROWED_ANNOTATION] = String(borrow);
    else delete annotations[BORROWED_ANNOTATION];
    l.job = { ...l.job, metadata: { ...l.job.metadata, annotations }, spec: { ...l.job.spec, suspend: false }, status: { ...l.job.status, state: 'Pending', conditions: [{ type: 'Queued', status: 'False', reason: 'Admitted', message: '', lastTransitionTime: iso(now) }] } };
    byJob.set(l.job, l);
  };
  const preempt = (v: Victim, reason: string): void => {
    const l = byJob.get(v.job)!;
    if (l.runStart !== undefined) {
      const trained = l.saved + (now - l.runStart);
      const saved = Math.floor(trained / l.trace.checkpointEvery) * l.trace.checkpointEvery;
      out.lostGpuHours += ((trained - Math.max(saved, l.saved)) * gpuDemand(l.job)) / 3600;
      l.saved = Math.max(saved, l.saved);
    }
    release(l);
    l.runStart = undefined;
    out.preemptions[reason] = (out.preemptions[reason] ?? 0) + 1;
    l.job = { ...l.job, metadata: { ...l.job.metadata, annotations: { [QUEUED_ANNOTATION]: `preempted (${reason})` } }, spec: { ...l.job.spec, suspend: true }, status: { state: 'Queued', conditions: [{ type: 'Queued', status: 'True', reason: 'Preempted', message: '', lastTransitionTime: iso(now) }] } };
    byJob.set(l.job, l);
  };
  // Running jobs' last checkpoint, as the controller dates it from the epoch count.
  const stampCheckpoints = (): void => {
    if (opts.checkpointBlind) return;
    for (const l of active) {
      if (l.runStart === undefined) continue;
      const trained = l.saved + (now - l.runStart);
      const last = Math.floor(trained / l.trace.checkpointEvery) * l.trace.checkpointEvery;
      if (last > l.saved) l.job.status = { ...l.job.status, lastCheckpointTime: iso(l.runStart + (last - l.saved)) };
    }
  };

  const pass = (): void => {
    const t0 = performance.now();
    stampCheckpoints();
    for (let changed = true, rounds = 0; changed && rounds < 200; rounds++) {
      changed = false;
      // Admitted jobs whose workers wait for room land first, oldest first (kube-scheduler's queue).
      for (const l of [...active].filter((x) => !x.job.spec.suspend && !x.placed).sort((a, b) => a.trace.arrival - b.trace.arrival)) {
        const nodes = place(l);
        if (nodes) { run(l, nodes); changed = true; }
      }
      for (const ns of s.teams) {
        const f = facts(ns);
        // With backfillSeconds, a job behind a first in line that cannot start (quota, cohort or nodes) may go first.
        const choice = startingJob(f, EPOCH + now * 1000, undefined, (j) => (place(byJob.get(j)!) === undefined ? 'no node has room for every worker' : undefined));
        if (!choice) continue;
        out.decisions++;
        const { job: head, plan } = choice;
        const l = byJob.get(head)!;
        if ('borrow' in plan) {
          const nodes = place(l);
          if (!nodes) continue; // all or nothing: not until every worker fits
          admit(l, plan.borrow);
          run(l, nodes);
          changed = true;
          continue;
        }
        const victims = chooseVictims(head, f, EPOCH + now * 1000);
        for (const v of victims) preempt(v, 'LowerPriority');
        if (victims.length) changed = true;
      }
      for (const cohort of new Set(Object.values(s.cohorts ?? {}))) {
        const team = s.teams.find((t) => s.cohorts?.[t] === cohort)!;
        const f = facts(team);
        const victims = f.cohort ? reclaimVictims(f.cohort, f.cohortJobs ?? [], CLASSES, EPOCH + now * 1000) : [];
        for (const v of victims) preempt(v, 'Reclaim');
        if (victims.length) changed = true;
      }
    }
    out.decisionMs += performance.now() - t0;
  };

  const arrivals = [...trace];
  for (;;) {
    const running = [...active].filter((l) => l.runStart !== undefined);
    const nextEnd = Math.min(...running.map((l) => l.runStart! + (l.trace.work - l.saved)));
    const nextArrival = arrivals[0]?.arrival ?? Infinity;
    const next = Math.min(nextEnd, nextArrival);
    if (next === Infinity) break;
    const busy = s.nodes * s.gpusPerNode - free.reduce((a, b) => a + b, 0);
    busyGpuSeconds += busy * Math.max(0, Math.min(next, day) - Math.min(now, day));
    now = next;
    for (const l of running) {
      if (l.runStart! + (l.trace.work - l.saved) > now) continue;
      release(l);
      l.runStart = undefined;
      l.done = now;
      active.delete(l);
    }
    while (arrivals[0] && arrivals[0].arrival <= now) {
      const t = arrivals.shift()!;
      const job: TrainingJob = { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: t.name, namespace: t.namespace, creationTimestamp: iso(t.arrival) }, spec: { image: 'trainer', numWorkers: t.workers, gpusPerWorker: t.gpusPerWorker, priorityClassName: t.priorityClassName } };
      const l: Live = { trace: t, job, saved: 0 };
      live.push(l);
      active.add(l);
      byJob.set(job, l);
      // The webhook: within its own quota and with no queued job ahead of it, it is admitted at once; else queued.
      const t0 = performance.now();
      const mine = matchingPolicies(policies, { name: t.namespace });
      const over = capacityViolations(job, t.namespace, mine, jobsOf(t.namespace), []).map((v) => v.message);
      const behind = over.length ? undefined : queueAheadMessage(job, t.namespace, mine, jobsOf(t.namespace), CLASSES);
      out.decisionMs += performance.now() - t0;
      out.decisions++;
      if (over.length === 0 && !behind) admit(l, 0);
      else {
        l.job = { ...job, metadata: { ...job.metadata, annotations: { [QUEUED_ANNOTATION]: behind ?? over[0]! } }, spec: { ...job.spec, suspend: true }, status: { state: 'Queued', conditions: [{ type: 'Queued', status: 'True', reason: 'QuotaExceeded', message: '', lastTransitionTime: iso(now) }] } };
        byJob.set(l.job, l);
      }
    }
    pass();
  }
  out.utilisation = busyGpuSeconds / (s.nodes * s.gpusPerNode * day);
  for (const l of live) {
    const wait = (l.firstStart ?? now) - l.trace.arrival;
    out.waits[l.trace.priorityClassName].push(wait);
    out.maxWait = Math.max(out.maxWait, wait);
    if (l.done === undefined) out.unfinished++;
  }
  return out;
}
