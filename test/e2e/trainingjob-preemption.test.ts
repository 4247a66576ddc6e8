// Preemption within a namespace, where the policy allows it: a higher-priority job suspends a lower one (its workers
// stop, it goes back to the queue with the reason), starts, and the preempted job resumes once the GPUs are free.
// Cohorts, on the same cluster: a namespace borrows what another leaves idle, up to its limit, and gives it back when
// the lender needs it.
import t from 'tap';
import { SchedulingV1Api } from '@kubernetes/client-node';
import { eventually } from '../harness/tap.ts';
import { controllerEnv } from '../harness/e2e.ts';
import type { TrainingJob } from '../../api/index.ts';

const namespace = 'team-p';
const { cp, kc, batch, core, custom, controller } = await controllerEnv(t, { namespace, namespaceLabels: { 'ml.example.com/team': 'team-p' }, controller: { queueRetryMs: 1000 } });
const scheduling = kc.makeApiClient(SchedulingV1Api);
for (const [name, value] of [['research-high', 5000], ['research-low', 100]] as const) {
  await scheduling.createPriorityClass({ body: { metadata: { name }, value } });
}
await custom.createClusterCustomObject({
  group: 'ml.example.com', version: 'v1', plural: 'trainingpolicies',
  body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name: 'team-p' }, spec: { namespaceSelector: { matchLabels: { 'ml.example.com/team': 'team-p' } }, gpuQuota: 8, overQuota: 'Queue', preemption: { withinNamespace: 'LowerPriority' } } },
});

const tjApi = { group: 'ml.example.com', version: 'v1', namespace, plural: 'trainingjobs' };
const getJob = async (name: string) => (await custom.getNamespacedCustomObject({ ...tjApi, name })) as TrainingJob;
const create = (name: string, runTime: string, priorityClassName: string) =>
  custom.createNamespacedCustomObject({ ...tjApi, body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, namespace }, spec: { model: 'llama', numWorkers: 4, gpusPerWorker: 2, priorityClassName, checkpoint: { enabled: false }, hyperparameters: { kwokRunTime: runTime } } } });
const stateOf = async (name: string) => (await getJob(name)).status?.state;

t.test('a higher-priority job preempts a lower one, which resumes when the GPUs are free', async (t) => {
  await create('training-low', '1h', 'research-low');
  await eventually(async () => ((await stateOf('training-low')) === 'Running' ? true : undefined), 60_000, 200);
  await create('urgent-high', '8s', 'research-high');

  // The preemption's own write (suspend and reason together), not the status, which trails it.
  const preempted = await eventually(async () => {
    const j = await getJob('training-low');
    return j.metadata?.annotations?.['ml.example.com/queued']?.startsWith('preempted by') ? j : undefined;
  }, 30_000, 200);
  t.ok(preempted, 'the lower-priority job is back in the queue');
  t.equal(preempted?.spec.suspend, true);
  t.equal(preempted?.metadata?.annotations?.['ml.example.com/queued'], 'preempted by urgent-high (priority 5000 > 100)');
  const workerJob = await batch.readNamespacedJob({ name: 'training-low-workers', namespace });
  t.equal(workerJob.spec?.suspend, true, 'its worker Job is suspended: the workers get SIGTERM and checkpoint');

  const ran = await eventually(async () => ((await stateOf('urgent-high')) === 'Completed' ? true : undefined), 90_000, 300);
  t.ok(ran, 'the higher-priority job ran to completion');
  const resumed = await eventually(async () => ((await stateOf('training-low')) === 'Running' ? true : undefined), 60_000, 300);
  t.ok(resumed, 'the preempted job started again once the GPUs were free');
  const high = await getJob('urgent-high');
  const low = await getJob('training-low');
  t.ok(Date.parse(high.status?.completionTime ?? '') <= Date.parse(low.status?.conditions?.find((c) => c.type === 'Running' && c.status === 'True')?.lastTransitionTime ?? ''), 'it resumed only after the preemptor finished');

  const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=training-low' });
  const warning = events.items.find((e) => e.reason === 'Preempted');
  t.equal(warning?.type, 'Warning');
  t.match(warning?.message, /^preempted by urgent-high \(priority 5000 > 100\): its workers report their checkpoint on SIGTERM and it resumes from it when capacity returns; at most \d+\.\d{4} GPU-hours since the start$/);
  const metrics = await (await fetch(`${controller.metricsUrl}/metrics`)).text();
  t.match(metrics, /trainingjob_preemptions_total\{namespace="team-p",reason="LowerPriority"\} 1\n/, 'counted once');
  t.match(metrics, /trainingjob_preemption_lost_gpu_hours_total\{namespace="team-p"\} \d/);
});

t.test('equal priority never preempts: the job waits its turn', async (t) => {
  await create('peer-low', '2s', 'research-low');
  const waiting = await eventually(async () => {
    const j = await getJob('peer-low');
    return j.status?.queue ? j : undefined;
  }, 30_000, 200);
  t.equal(waiting?.status?.state, 'Queued');
  t.equal(waiting?.status?.queue?.reason, 'namespace team-p GPU quota 8: 8 in use, this job asks 8 (4 workers × 2 GPUs)');
  t.equal(await stateOf('training-low'), 'Running', 'the running job of the same priority keeps running');
});

t.test('cohorts: bad limits and conflicting cohorts are refused, naming the policy field', async (t) => {
  const refusal = async (name: string, spec: Record<string, unknown>): Promise<string> => {
    try {
      await custom.createClusterCustomObject({ group: 'ml.example.com', version: 'v1', plural: 'trainingpolicies', body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name }, spec } });
      return 'admitted';
    } catch (err) {
      return String((err as { body?: string }).body ?? err);
    }
  };
  t.match(await refusal('negative', { gpuQuota: 4, cohort: 'research', borrowingLimit: -1 }), /spec\.borrowingLimit: Invalid value: -1: spec\.borrowingLimit in body should be greater than or equal to 0/, 'the CRD schema, before our webhook');
  await custom.createClusterCustomObject({ group: 'ml.example.com', version: 'v1', plural: 'trainingpolicies', body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name: 'team-p-vision' }, spec: { namespaceSelector: { matchLabels: { 'ml.example.com/team': 'team-p' } }, cohort: 'vision' } } });
  t.match(await refusal('team-p-research', { namespaceSelector: { matchLabels: { 'ml.example.com/team': 'team-p' } }, gpuQuota: 8, cohort: 'research' }), /spec\.cohort: namespace team-p is already in cohort vision through TrainingPolicy team-p-vision; a namespace's quota belongs to one cohort/);
  await custom.deleteClusterCustomObject({ group: 'ml.example.com', version: 'v1', plural: 'trainingpolicies', name: 'team-p-vision' });
});

t.test('cohorts: a namespace borrows what another leaves idle, up to its limit, and gives it back when the lender needs it', async (t) => {
  for (const ns of ['lend-a', 'borrow-b']) {
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await eventually(() => core.readNamespacedServiceAccount({ name: 'default', namespace: ns }));
    await custom.createClusterCustomObject({
      group: 'ml.example.com', version: 'v1', plural: 'trainingpolicies',
      body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name: ns }, spec: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, gpuQuota: 4, overQuota: 'Queue', cohort: 'research', ...(ns === 'borrow-b' ? { borrowingLimit: 4 } : {}) } },
    });
  }
  const api = (ns: string) => ({ group: 'ml.example.com', version: 'v1', namespace: ns, plural: 'trainingjobs' });
  const get = async (ns: string, name: string) => (await custom.getNamespacedCustomObject({ ...api(ns), name })) as TrainingJob;
  const make = (ns: string, name: string, runTime: string) =>
    custom.createNamespacedCustomObject({ ...api(ns), body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, namespace: ns }, spec: { model: 'llama', numWorkers: 2, gpusPerWorker: 2, checkpoint: { enabled: false }, hyperparameters: { kwokRunTime: runTime } } } });
  const until = (ns: string, name: string, ok: (j: TrainingJob) => boolean, ms = 60_000) => eventually(async () => { const j = await get(ns, name); return ok(j) ? j : undefined; }, ms, 200);

  await make('borrow-b', 'b-own', '1h');
  await until('borrow-b', 'b-own', (j) => j.status?.state === 'Running');
  await make('borrow-b', 'b-borrow', '1h');
  const borrowing = await until('borrow-b', 'b-borrow', (j) => j.status?.state === 'Running');
  t.equal(borrowing?.metadata?.annotations?.['ml.example.com/borrowed-gpus'], '4', 'over its own quota of 4, it started on 4 GPUs lend-a left idle');
  t.match(borrowing?.status?.conditions?.find((c) => c.type === 'Borrowing'), { status: 'True', reason: 'BorrowedFromCohort', message: "4 of its 4 GPUs are borrowed from the namespace's cohort: reclaimable when the lender needs them" });
  const unmark = await cp.kubectl(['annotate', 'trainingjob', 'b-borrow', '-n', 'borrow-b', 'ml.example.com/borrowed-gpus-']);
  t.not(unmark.code, 0, 'a user cannot hide that a job borrows');
  t.match(unmark.stderr, /metadata\.annotations\[ml\.example\.com\/borrowed-gpus\]: this job still runs on GPUs borrowed from cohort research: namespace borrow-b uses 8 GPUs, its own quota is 4/);

  await make('borrow-b', 'b-over', '1h');
  const held = await until('borrow-b', 'b-over', (j) => Boolean(j.status?.queue));
  t.equal(held?.status?.queue?.reason, 'namespace borrow-b GPU quota 4: 8 in use, this job asks 4 (2 workers × 2 GPUs) — cohort research: borrowing limit 4, 4 borrowed, this job would borrow 4 more', 'not past its borrowing limit, and it says so with the numbers');
  t.equal(held?.status?.queue?.cohortPosition, 1, 'first in the cohort\'s queue too: nothing of lend-a waits');

  await make('lend-a', 'a-own', '3s');
  const reclaimed = await until('borrow-b', 'b-borrow', (j) => j.status?.state === 'Queued', 30_000);
  t.equal(reclaimed?.metadata?.annotations?.['ml.example.com/queued'], 'preempted by cohort research, reclaiming borrowed GPUs for lend-a (4 of its 4 in use)', 'the lender took its quota back: the borrower is requeued, saying why');
  t.equal(reclaimed?.metadata?.annotations?.['ml.example.com/borrowed-gpus'], undefined);
  t.ok(await until('borrow-b', 'b-over', (j) => j.status?.queue?.cohortPosition === 2, 30_000), 'the reclaimed job, older, goes back ahead of b-over in the cohort\'s queue');
  t.equal((await get('borrow-b', 'b-own')).status?.state, 'Running', 'the job on its own quota is not touched');
  t.ok(await until('lend-a', 'a-own', (j) => j.status?.state === 'Completed', 60_000), "the lender's job ran on its own quota");
  const again = await until('borrow-b', 'b-borrow', (j) => j.status?.state === 'Running', 60_000);
  t.ok(again, 'once the lender is idle again, the reclaimed job borrows again, before the younger b-over');
  t.equal((await get('borrow-b', 'b-over')).status?.state, 'Queued');

  const events = await core.listNamespacedEvent({ namespace: 'borrow-b', fieldSelector: 'involvedObject.name=b-borrow' });
  t.ok(events.items.some((e) => e.reason === 'Borrowing' && e.type === 'Normal'), 'a Borrowing event at each start on borrowed GPUs');
  t.ok(events.items.some((e) => e.reason === 'Preempted' && e.type === 'Warning' && /^preempted by cohort research/.test(e.message ?? '')), 'a Preempted event for the reclaim');
  const metrics = await (await fetch(`${controller.metricsUrl}/metrics`)).text();
  t.match(metrics, /trainingjob_preemptions_total\{namespace="borrow-b",reason="Reclaim"\} 1\n/, 'counted once, as a reclaim');
  t.match(metrics, /trainingjob_borrowed_gpus\{namespace="borrow-b"\} 4\n/);
});
