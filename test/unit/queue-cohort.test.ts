// Cohorts: borrowing up to the limit and not past it, what holds a job back in words, reclaim of the cheapest borrowers only.
import t from 'tap';
import { BORROWED_ANNOTATION, QUEUED_ANNOTATION } from '../../api/annotations.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import type { TrainingPolicy } from '../../api/trainingpolicy.ts';
import { borrowShortfall, cohortIdle, cohortMembers, maxBorrowable, membership, type CohortFacts, type CohortMember } from '../../policies/cohort.ts';
import { capacityViolations } from '../../policies/quota.ts';
import { queuePlace, startPlan, type QueueFacts } from '../../controller/queue/queue-place.ts';
import { reclaimedFor, reclaimVictims } from '../../controller/queue/reclaim.ts';
import { evaluate } from '../../policies/evaluate.ts';

const now = Date.parse('2026-12-07T12:00:00Z');
const hoursAgo = (h: number) => new Date(now - h * 3_600_000).toISOString();
const classes = [{ name: 'high', value: 5000 }, { name: 'low', value: 100 }];
const policy = (name: string, ns: string, spec: TrainingPolicy['spec']): TrainingPolicy => ({ metadata: { name }, spec: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, overQuota: 'Queue', ...spec } });
const policies = [
  policy('team-a', 'team-a', { gpuQuota: 8, cohort: 'research', lendingLimit: 6 }),
  policy('team-b', 'team-b', { gpuQuota: 8, cohort: 'research', borrowingLimit: 4 }),
];
const namespaces = [{ name: 'team-a' }, { name: 'team-b' }, { name: 'other' }];

function running(name: string, ns: string, gpus: number, opts: { borrowed?: number; priorityClassName?: string; startedHoursAgo?: number; checkpointHoursAgo?: number } = {}): TrainingJob {
  return {
    metadata: { name, namespace: ns, resourceVersion: '3', creationTimestamp: hoursAgo(opts.startedHoursAgo ?? 1), ...(opts.borrowed ? { annotations: { [BORROWED_ANNOTATION]: String(opts.borrowed) } } : {}) },
    spec: { image: 'img', numWorkers: 1, gpusPerWorker: gpus, ...(opts.priorityClassName ? { priorityClassName: opts.priorityClassName } : {}) },
    status: { state: 'Running', startTime: hoursAgo(opts.startedHoursAgo ?? 1), ...(opts.checkpointHoursAgo === undefined ? {} : { lastCheckpointTime: hoursAgo(opts.checkpointHoursAgo) }) },
  };
}
function queued(name: string, ns: string, gpus: number): TrainingJob {
  return { metadata: { name, namespace: ns, creationTimestamp: hoursAgo(0.1), annotations: { [QUEUED_ANNOTATION]: 'over quota' } }, spec: { image: 'img', numWorkers: 1, gpusPerWorker: gpus, suspend: true } };
}
const usedBy = (jobs: TrainingJob[]) => (ns: string) => jobs.filter((j) => j.metadata?.namespace === ns && !j.spec.suspend).reduce((s, j) => s + (j.spec.gpusPerWorker ?? 0), 0);
const cohortOf = (jobs: TrainingJob[]): CohortFacts => ({ name: 'research', members: cohortMembers('research', policies, namespaces, usedBy(jobs)) });
const factsFor = (ns: string, jobs: TrainingJob[]): QueueFacts => ({ jobs: jobs.filter((j) => j.metadata?.namespace === ns), policies: policies.filter((p) => p.metadata?.name === ns), classes, cohort: cohortOf(jobs), cohortJobs: jobs });
const member = (namespace: string, quota: number, used: number, extra: Partial<CohortMember> = {}): CohortMember => ({ namespace, quota, lendingLimit: quota, used, ...extra });

t.test('membership: the cohort, the strictest quota, a lending limit never above it', async (t) => {
  t.strictSame(membership([policies[0]!]), { cohort: 'research', policy: 'team-a', quota: 8, lendingLimit: 6 });
  t.strictSame(membership([policy('p', 'x', { gpuQuota: 4, cohort: 'c', lendingLimit: 10 })]), { cohort: 'c', policy: 'p', quota: 4, lendingLimit: 4 });
  t.equal(membership([policy('p', 'x', { cohort: 'c' })]), undefined, 'no quota: nothing to pool');
  t.equal(membership([policy('p', 'x', { gpuQuota: 4 })]), undefined, 'no cohort named');
  t.strictSame(cohortMembers('research', policies, namespaces, () => 0).map((m) => m.namespace), ['team-a', 'team-b'], 'only the namespaces the cohort policies select');
});

t.test('borrowing up to the borrowing limit and not past it', async (t) => {
  const members = [member('team-a', 8, 0, { lendingLimit: 6 }), member('team-b', 8, 8, { borrowingLimit: 4 })];
  const cohort = { name: 'research', members };
  t.equal(cohortIdle(members), 6, 'team-a lends at most 6 of its idle 8');
  t.equal(borrowShortfall('team-b', 4, cohort), undefined, '4 more fits the limit of 4');
  t.equal(borrowShortfall('team-b', 6, cohort), 'cohort research: borrowing limit 4, 0 borrowed, this job would borrow 6 more');
  const borrowing = { name: 'research', members: [members[0]!, { ...members[1]!, used: 12 }] };
  t.equal(borrowShortfall('team-b', 2, borrowing), 'cohort research: borrowing limit 4, 4 borrowed, this job would borrow 2 more', 'the limit counts what is borrowed already');
  const lenderBusy = { name: 'research', members: [member('team-a', 8, 6, { lendingLimit: 6 }), member('team-b', 8, 8)] };
  t.equal(borrowShortfall('team-b', 4, lenderBusy), 'cohort research: 2 idle, this job would borrow 4', 'only what the lender leaves idle');
  t.equal(maxBorrowable('team-b', members), 4, 'the borrowing limit caps what could ever be borrowed');
  t.equal(maxBorrowable('team-a', members), 8, 'no borrowing limit: all the others could lend');
});

t.test('the webhook refuses what the namespace and its cohort could never give, and admits a borrowing start only within the cohort', async (t) => {
  const cohort = { name: 'research', members: [member('team-a', 8, 0, { lendingLimit: 6 }), member('team-b', 8, 0, { borrowingLimit: 4 })] };
  const job = (gpus: number, borrowed?: number): TrainingJob => ({ metadata: { name: 'j', namespace: 'team-b', ...(borrowed ? { annotations: { [BORROWED_ANNOTATION]: String(borrowed) } } : {}) }, spec: { image: 'img', numWorkers: 2, gpusPerWorker: gpus / 2 } });
  const never = capacityViolations(job(14), 'team-b', [policies[1]!], [], [], cohort);
  t.equal(never[0]?.message, 'namespace team-b GPU quota 8 and at most 4 borrowed from cohort research: this job asks 14 (2 workers × 7 GPUs), more than the limit allows even with nothing else running');
  t.equal(never[0]?.queueable, false);
  const full = [running('own', 'team-b', 8)];
  t.equal(capacityViolations(job(4), 'team-b', [policies[1]!], full, [], cohort)[0]?.queueable, true, 'over its own quota: queued, not refused');
  t.strictSame(capacityViolations(job(4, 4), 'team-b', [policies[1]!], full, [], cohort), [], 'started by the leader on 4 borrowed GPUs: within the cohort');
  const lenderBusy = { ...cohort, members: [{ ...cohort.members[0]!, used: 8 }, cohort.members[1]!] };
  t.match(capacityViolations(job(4, 4), 'team-b', [policies[1]!], full, [], lenderBusy)[0]?.message, /GPU quota 8: 8 in use, this job asks 4 \(2 workers × 2 GPUs\) — cohort research: 0 idle, this job would borrow 4$/);
});

t.test('a create cannot claim borrowed GPUs: only the leader starts a job on them', async (t) => {
  const job: TrainingJob = { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: 'sneaky', namespace: 'team-b', annotations: { [BORROWED_ANNOTATION]: '4' } }, spec: { image: 'img', numWorkers: 1, gpusPerWorker: 4 } };
  const r = evaluate({ operation: 'CREATE', object: job, namespace: { name: 'team-b' }, policies, namespaceJobs: [running('own', 'team-b', 8)] });
  t.equal(r.object.metadata?.annotations?.[BORROWED_ANNOTATION], undefined, 'the claim is removed');
  t.ok(r.object.spec.suspend, 'and the job waits in the queue like any other over its quota');
});

t.test('the queue: borrow when the cohort has room, else say which limit holds the job, with the numbers', async (t) => {
  const head = queued('next', 'team-b', 4);
  const jobs = [running('own', 'team-b', 8), head];
  t.strictSame(startPlan(head, factsFor('team-b', jobs), now), { borrow: 4 });
  t.equal(queuePlace(head, factsFor('team-b', jobs), now)?.reason, '4 GPUs idle in cohort research: asking to start on them');
  const busy = [...jobs, running('a1', 'team-a', 6)];
  t.equal(queuePlace(head, factsFor('team-b', busy), now)?.reason, 'namespace team-b GPU quota 8: 8 in use, this job asks 4 (1 worker × 4 GPUs) — cohort research: 2 idle, this job would borrow 4');
  const atLimit = [...jobs, running('b2', 'team-b', 4, { borrowed: 4 })];
  t.equal(queuePlace(head, factsFor('team-b', atLimit), now)?.reason, 'namespace team-b GPU quota 8: 12 in use, this job asks 4 (1 worker × 4 GPUs) — cohort research: borrowing limit 4, 4 borrowed, this job would borrow 4 more');
  const roomOwn = [running('own', 'team-b', 2), head];
  t.strictSame(startPlan(head, factsFor('team-b', roomOwn), now), { borrow: 0 }, 'its own quota first');
  const part = [running('own', 'team-b', 6), head];
  t.strictSame(startPlan(head, factsFor('team-b', part), now), { borrow: 2 }, 'partly on its own quota, partly borrowed');
});

t.test('reclaim: only when lenders take back their own, cheapest borrowers first, no more than it takes', async (t) => {
  const jobs = [
    running('own', 'team-b', 8),
    running('b-fresh-ckpt', 'team-b', 2, { borrowed: 2, startedHoursAgo: 3, checkpointHoursAgo: 0.1 }),
    running('b-old-ckpt', 'team-b', 2, { borrowed: 2, startedHoursAgo: 3, checkpointHoursAgo: 2 }),
  ];
  t.strictSame(reclaimVictims(cohortOf(jobs), jobs, classes, now), [], 'the cohort lends what team-a leaves idle: nobody is reclaimed');
  const lenderBack = [...jobs, running('a-own', 'team-a', 4)];
  // team-a uses 4 of 8 and lends at most 6, so 4 idle: 4 borrowed is fine.
  t.strictSame(reclaimVictims(cohortOf(lenderBack), lenderBack, classes, now), []);
  const lenderNeeds = [...jobs, running('a-own', 'team-a', 6)];
  // 2 idle, 4 borrowed: one 2-GPU borrower goes, the one with less work since its checkpoint.
  const victims = reclaimVictims(cohortOf(lenderNeeds), lenderNeeds, classes, now);
  t.strictSame(victims.map((v) => v.job.metadata?.name), ['b-fresh-ckpt']);
  t.equal(Number(victims[0]?.lostGpuHours.toFixed(2)), 0.2, '2 GPUs × 0.1 h since its checkpoint');
  const all = [...jobs, running('a-own', 'team-a', 8)];
  t.strictSame(reclaimVictims(cohortOf(all), all, classes, now).map((v) => v.job.metadata?.name).sort(), ['b-fresh-ckpt', 'b-old-ckpt'], 'all borrowed GPUs back when the lender uses its whole quota');
  t.equal(reclaimedFor(cohortOf(all)), 'cohort research, reclaiming borrowed GPUs for team-a (8 of its 8 in use)');
  const deleting = { ...jobs[1]!, metadata: { ...jobs[1]!.metadata, deletionTimestamp: hoursAgo(0) } };
  const beingDeleted = [jobs[0]!, deleting, jobs[2]!, running('a-own', 'team-a', 6)];
  t.strictSame(reclaimVictims(cohortOf(beingDeleted), beingDeleted, classes, now), [], 'a borrower being deleted gives its GPUs back on its own: nobody is stopped in its stead');
  const stuck = { ...jobs[1]!, metadata: { ...jobs[1]!.metadata, deletionTimestamp: hoursAgo(1) } };
  t.strictSame(reclaimVictims(cohortOf([jobs[0]!, stuck, jobs[2]!, running('a-own', 'team-a', 6)]), [jobs[0]!, stuck, jobs[2]!, running('a-own', 'team-a', 6)], classes, now).map((v) => v.job.metadata?.name), ['b-old-ckpt'], 'a deletion held up for an hour may still run its workers: another borrower goes');
  const prio = [running('own', 'team-b', 8, { priorityClassName: 'high' }), running('b-high', 'team-b', 2, { borrowed: 2, priorityClassName: 'high', checkpointHoursAgo: 0 }), running('b-low', 'team-b', 2, { borrowed: 2, priorityClassName: 'low', checkpointHoursAgo: 0.9 }), running('a-own', 'team-a', 6)];
  t.strictSame(reclaimVictims(cohortOf(prio), prio, classes, now).map((v) => v.job.metadata?.name), ['b-low'], 'lower priority goes first, whatever it loses');
  t.strictSame(reclaimVictims(cohortOf(prio), prio, classes, now, (j) => j.metadata?.name === 'b-low').map((v) => v.job.metadata?.name), ['b-high'], 'a job whose suspension was refused is spared: the next cheapest goes');
  const unmarked = [running('own', 'team-b', 8, { checkpointHoursAgo: 0.9 }), running('b-unmarked', 'team-b', 2, { checkpointHoursAgo: 0.01 }), running('a-own', 'team-a', 8)];
  t.strictSame(reclaimVictims(cohortOf(unmarked), unmarked, classes, now).map((v) => v.job.metadata?.name), ['b-unmarked'], 'usage says who borrows: a job without the mark is reclaimable too');
});

t.test('idle cohort GPUs go in the cohort\'s order: another team\'s urgent job first, unless it could not use them', async (t) => {
  const trio = [
    policy('lender', 'lender', { gpuQuota: 8, cohort: 'vision' }),
    policy('team-x', 'team-x', { gpuQuota: 4, cohort: 'vision' }),
    policy('team-y', 'team-y', { gpuQuota: 4, cohort: 'vision' }),
  ];
  const spaces = [{ name: 'lender' }, { name: 'team-x' }, { name: 'team-y' }];
  const waiting = (name: string, ns: string, gpus: number, priorityClassName: string, hours: number, annotations: Record<string, string> = {}): TrainingJob => ({ ...queued(name, ns, gpus), metadata: { name, namespace: ns, creationTimestamp: hoursAgo(hours), annotations: { [QUEUED_ANNOTATION]: 'over quota', ...annotations } }, spec: { image: 'img', numWorkers: 1, gpusPerWorker: gpus, suspend: true, priorityClassName } });
  const facts = (ns: string, jobs: TrainingJob[]): QueueFacts => ({ jobs: jobs.filter((j) => j.metadata?.namespace === ns), policies: trio.filter((p) => p.metadata?.name === ns), classes, cohort: { name: 'vision', members: cohortMembers('vision', trio, spaces, usedBy(jobs)) }, cohortJobs: jobs });
  const base = [running('x-own', 'team-x', 4), running('y-own', 'team-y', 4), running('l-own', 'lender', 2)];
  const xLow = waiting('x-low', 'team-x', 4, 'low', 2);
  const yHigh = waiting('y-high', 'team-y', 4, 'high', 1);
  const jobs = [...base, xLow, yHigh];
  t.strictSame(startPlan(yHigh, facts('team-y', jobs), now), { borrow: 4 }, 'the urgent job borrows 4 of the 6 idle');
  t.strictSame(startPlan(xLow, facts('team-x', jobs), now), { shortfall: 'namespace team-x GPU quota 4: 4 in use, this job asks 4 (1 worker × 4 GPUs) — cohort vision: 6 idle, first in the cohort\'s line for them: team-y/y-high (priority 5000, 4 GPUs)' }, 'the older low-priority job of another team waits for it, and says for whom');
  t.match(queuePlace(xLow, facts('team-x', jobs), now), { position: 1, cohortPosition: 2, priority: 100 }, 'first in its namespace, second in the cohort');
  t.match(queuePlace(yHigh, facts('team-y', jobs), now), { position: 1, cohortPosition: 1 });
  const roomForBoth = [running('x-own', 'team-x', 4), running('y-own', 'team-y', 4), xLow, yHigh];
  t.strictSame(startPlan(xLow, facts('team-x', roomForBoth), now), { borrow: 4 }, '8 idle: room for both, nobody waits');
  const backingOff = waiting('y-high', 'team-y', 4, 'high', 1, { 'ml.example.com/retry-after': new Date(now + 60_000).toISOString() });
  t.strictSame(startPlan(xLow, facts('team-x', [...base, xLow, backingOff]), now), { borrow: 4 }, 'a job backing off after a failed start holds nobody back');
  const tooBig = waiting('y-high', 'team-y', 8, 'high', 1);
  t.strictSame(startPlan(xLow, facts('team-x', [...base, xLow, tooBig]), now), { borrow: 4 }, 'nor one that could not borrow what is idle');
  t.strictSame(startPlan(xLow, facts('team-x', jobs), now, (j) => j.metadata?.name === 'y-high'), { borrow: 4 }, 'nor one standing aside after a refusal');
  const lenderNext = [...base, xLow, waiting('l-next', 'lender', 4, 'high', 1)];
  t.match(startPlan(xLow, facts('team-x', lenderNext), now), { shortfall: /cohort vision: 6 idle, first in the cohort's line for them: lender\/l-next/ }, 'a lender about to take its own back is ahead too: borrowing now would only be reclaimed');
  const capped = trio.map((p) => (p.metadata?.name === 'team-y' ? { ...p, spec: { ...p.spec, maxConcurrentJobs: 1 } } : p));
  const withMembers = (ns: string, js: TrainingJob[], ps = capped): QueueFacts => ({ ...facts(ns, js), memberPolicies: (n) => ps.filter((p) => p.metadata?.name === n) });
  t.strictSame(startPlan(xLow, withMembers('team-x', jobs), now), { borrow: 4 }, 'nor one its own namespace holds back (team-y runs its 1 concurrent job)');
  t.match(startPlan(xLow, withMembers('team-x', jobs, trio), now), { shortfall: /first in the cohort's line for them: team-y\/y-high/ }, 'without that limit it is ahead again');
  t.strictSame(startPlan(xLow, { ...facts('team-x', jobs), refusedForCapacity: (j) => j.metadata?.name === 'y-high' }, now), { borrow: 4 }, 'nor one the webhook refused for capacity this view does not see (a ResourceQuota)');
  const twoInY = [...jobs, waiting('y-second', 'team-y', 4, 'high', 0.5)];
  t.strictSame(startPlan(xLow, { ...facts('team-x', twoInY), refusedForCapacity: (j) => j.metadata?.name === 'y-high' }, now), { borrow: 4 }, 'nor the job behind it: the refused one is still its namespace\'s next to start');
  const lendsNothing = trio.map((p) => (p.metadata?.name === 'team-y' ? { ...p, spec: { ...p.spec, lendingLimit: 0 } } : p));
  const ownStart = [running('x-own', 'team-x', 4), running('l-own', 'lender', 2), xLow, waiting('y-own-next', 'team-y', 4, 'high', 1), waiting('l-next', 'lender', 4, 'high', 0.5)];
  const lendFacts = (ns: string, js: TrainingJob[]): QueueFacts => ({ jobs: js.filter((j) => j.metadata?.namespace === ns), policies: lendsNothing.filter((p) => p.metadata?.name === ns), classes, cohort: { name: 'vision', members: cohortMembers('vision', lendsNothing, spaces, usedBy(js)) }, cohortJobs: js });
  t.match(startPlan(xLow, lendFacts('team-x', ownStart), now), { shortfall: /6 idle, first in the cohort's line for them: lender\/l-next/ }, 'the one named takes idle GPUs: not a job starting on a quota that lends nothing');
});

t.test('a namespace relabelled into a second cohort: creates warn, naming both policies, and the first by name applies', async (t) => {
  const both = [policies[1]!, policy('team-b-vision', 'team-b', { gpuQuota: 8, cohort: 'vision' })];
  const job: TrainingJob = { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: 'j', namespace: 'team-b' }, spec: { image: 'img', numWorkers: 1, gpusPerWorker: 1 } };
  const r = evaluate({ operation: 'CREATE', object: job, namespace: { name: 'team-b' }, policies: both, namespaceJobs: [] });
  t.ok(r.allowed);
  t.ok(r.warnings.includes("namespace team-b is in cohort research through TrainingPolicy team-b and in cohort vision through TrainingPolicy team-b-vision; a namespace's quota belongs to one cohort, so research (of the first policy by name) applies until one of them changes"), 'the warning names both', { warnings: r.warnings });
  t.equal(membership(both)?.cohort, 'research');
  const agreeing = evaluate({ operation: 'CREATE', object: job, namespace: { name: 'team-b' }, policies: [policies[1]!, policy('team-b-more', 'team-b', { cohort: 'research' })], namespaceJobs: [] });
  t.notOk(agreeing.warnings.some((w) => w.includes('one cohort')), 'two policies naming the same cohort agree');
  const noQuota = [policy('x-research', 'team-b', { cohort: 'research' }), policy('y-vision', 'team-b', { cohort: 'vision' })];
  t.notOk(evaluate({ operation: 'CREATE', object: job, namespace: { name: 'team-b' }, policies: noQuota, namespaceJobs: [] }).warnings.some((w) => w.includes('one cohort')), 'no quota to pool: no cohort applies, nothing to warn about');
});
