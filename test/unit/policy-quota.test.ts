// GPU quota arithmetic: usage of the namespace's non-terminal jobs, the strictest of policies and ResourceQuota,
// concurrency, and Queue instead of Reject.
import t from 'tap';
import { evaluate, mutate, validate } from '../../policies/evaluate.ts';
import type { EvaluationInput } from '../../policies/evaluate.ts';
import { capacityViolations, gpusInUse, jobsHoldingCapacity } from '../../policies/quota.ts';
import { QUEUED_ANNOTATION } from '../../api/annotations.ts';
import type { TrainingJob, TrainingJobState } from '../../api/trainingjob-v1.ts';
import type { TrainingPolicy, TrainingPolicySpec } from '../../api/trainingpolicy.ts';

const policy = (name: string, spec: TrainingPolicySpec): TrainingPolicy => ({ metadata: { name }, spec });
const running = (name: string, numWorkers: number, gpusPerWorker: number, state: TrainingJobState = 'Running'): TrainingJob =>
  ({ metadata: { name, namespace: 'team-a' }, spec: { image: 'i:1', numWorkers, gpusPerWorker }, status: { state } });
const newJob = (numWorkers: number, gpusPerWorker: number): TrainingJob => ({ metadata: { name: 'new', namespace: 'team-a' }, spec: { image: 'i:1', numWorkers, gpusPerWorker } });

function input(object: TrainingJob, policies: TrainingPolicy[], namespaceJobs: TrainingJob[], extra: Partial<EvaluationInput> = {}): EvaluationInput {
  return { operation: 'CREATE', object, namespace: { name: 'team-a' }, policies, namespaceJobs, ...extra };
}

// 12 GPUs in use: 2×4 running + 1×4 initializing; finished and queued jobs hold nothing.
const jobs = [
  running('a', 2, 4),
  running('b', 1, 4, 'Initializing'),
  running('done', 8, 8, 'Completed'),
  running('broken', 8, 8, 'Failed'),
  { ...running('waiting', 4, 4, 'Queued'), metadata: { name: 'waiting', namespace: 'team-a', annotations: { [QUEUED_ANNOTATION]: 'over quota' } }, spec: { image: 'i:1', numWorkers: 4, gpusPerWorker: 4, suspend: true } },
];

t.test('usage counts non-terminal, non-queued jobs other than this one', async (t) => {
  t.equal(gpusInUse(jobsHoldingCapacity(newJob(1, 1), 'team-a', jobs)), 12);
  t.equal(gpusInUse(jobsHoldingCapacity(running('a', 2, 4), 'team-a', jobs)), 4, 'the job itself is excluded on update');
  t.equal(gpusInUse(jobsHoldingCapacity(newJob(1, 1), 'team-a', [...jobs, { ...running('elsewhere', 8, 8), metadata: { name: 'elsewhere', namespace: 'team-b' } }])), 12, 'other namespaces are ignored');
});

t.test('the message of DESIGN, exactly', async (t) => {
  const r = validate(input(newJob(4, 2), [policy('team-a', { gpuQuota: 16 })], jobs));
  t.notOk(r.allowed);
  t.strictSame(r.denials, [{
    field: 'metadata.namespace',
    message: 'namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)',
    reason: 'QuotaExceeded',
  }]);
  t.ok(validate(input(newJob(2, 2), [policy('team-a', { gpuQuota: 16 })], jobs)).allowed, 'exactly filling the quota is fine');
  t.ok(validate(input(newJob(4, 0), [policy('team-a', { gpuQuota: 0 })], jobs)).allowed, 'CPU-only jobs never hit a GPU quota');
});

t.test('the strictest of all matching policies and the ResourceQuota wins', async (t) => {
  const policies = [policy('big', { gpuQuota: 64 }), policy('small', { gpuQuota: 18 })];
  t.strictSame(validate(input(newJob(4, 2), policies, jobs)).denials.map((d) => d.message), [
    'namespace team-a GPU quota 18: 12 in use, this job asks 8 (4 workers × 2 GPUs)',
  ]);
  const resourceQuotas = [{ name: 'gpu-quota', hard: { 'requests.nvidia.com/gpu': '15' }, used: { 'requests.nvidia.com/gpu': '10' } }];
  t.strictSame(validate(input(newJob(1, 8), policies, jobs, { resourceQuotas })).denials.map((d) => d.message), [
    'namespace team-a ResourceQuota gpu-quota requests.nvidia.com/gpu 15: 10 in use, this job asks 8 (1 worker × 8 GPUs)',
  ]);
  t.ok(validate(input(newJob(1, 5), [], [], { resourceQuotas })).allowed, '5 fits in 15 − 10');
  t.ok(validate(input(newJob(1, 8), [], [], { resourceQuotas: [{ name: 'cpu-only', hard: { 'requests.cpu': '10' } }] })).allowed, 'ResourceQuotas without GPUs are ignored');
});

t.test('concurrent jobs', async (t) => {
  const r = validate(input(newJob(1, 0), [policy('team-a', { maxConcurrentJobs: 2 })], jobs));
  t.strictSame(r.denials, [{ field: 'metadata.namespace', message: 'namespace team-a concurrent job limit 2: 2 active, this job would make 3 (TrainingPolicy team-a)', reason: 'TooManyJobs' }]);
});

t.test('overQuota Queue admits the job suspended and marked', async (t) => {
  const policies = [policy('team-b', { gpuQuota: 16, overQuota: 'Queue' })];
  const r = evaluate(input(newJob(4, 2), policies, jobs));
  t.ok(r.allowed);
  t.strictSame(r.denials, []);
  t.strictSame(r.queue, { reason: 'QuotaExceeded', message: 'namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)' });
  t.equal(r.object.spec.suspend, true);
  t.equal(r.object.metadata?.annotations?.[QUEUED_ANNOTATION], 'namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)');
  t.ok(r.patch.some((op) => op.path === '/spec/suspend' && op.value === true));
  t.ok(r.patch.some((op) => op.path === '/metadata/annotations'));
  t.match(r.warnings, [/^queued until capacity frees up: namespace team-a GPU quota 16/]);
});

t.test('a create that fits waits its turn behind queued jobs of at least its priority; a more urgent one does not', async (t) => {
  const policies = [policy('team-b', { gpuQuota: 16, overQuota: 'Queue' })];
  const classes = [{ name: 'high', value: 5000 }, { name: 'low', value: 100 }, { name: 'standard', value: 1000, globalDefault: true }];
  const queued = (name: string, minute: string, priorityClassName?: string): TrainingJob => ({
    metadata: { name, namespace: 'team-a', creationTimestamp: `2026-12-07T10:${minute}:00Z`, annotations: { [QUEUED_ANNOTATION]: 'over quota' } },
    spec: { image: 'i:1', numWorkers: 4, gpusPerWorker: 2, suspend: true, ...(priorityClassName ? { priorityClassName } : {}) },
  });
  const waiting = [...jobs.filter((j) => j.metadata?.name !== 'waiting'), queued('big-low', '01', 'low'), queued('big', '02')];
  const small = newJob(1, 2); // fits: 12 of 16 in use
  const r = evaluate(input(small, policies, waiting, { priorityClasses: classes }));
  t.ok(r.allowed);
  t.strictSame(r.queue, { reason: 'QuotaExceeded', message: 'namespace team-a queue: 1 job ahead of this one, first in line big (priority 1000, 8 GPUs)' }, 'behind big (same priority, older), not behind big-low');
  t.equal(r.object.spec.suspend, true);
  t.match(r.warnings, [/^queued behind the jobs ahead of it: namespace team-a queue: 1 job ahead/]);
  t.equal(evaluate(input({ ...small, spec: { ...small.spec, suspend: true } }, policies, waiting, { priorityClasses: classes })).queue, undefined, 'a job created suspended stays its author\'s: not queued');
  t.equal(evaluate(input({ ...small, spec: { ...small.spec, gpusPerWorker: 0 } }, policies, waiting, { priorityClasses: classes })).queue, undefined, 'a job without GPUs takes nothing from them');
  const low = evaluate(input({ ...small, spec: { ...small.spec, priorityClassName: 'low' } }, policies, waiting, { priorityClasses: classes }));
  t.match(low.queue?.message, /2 jobs ahead of this one, first in line big \(/);
  const urgent = evaluate(input({ ...small, spec: { ...small.spec, priorityClassName: 'high' } }, policies, waiting, { priorityClasses: classes }));
  t.equal(urgent.queue, undefined, 'a more urgent job is ahead of them all: admitted at once');
  t.notOk(urgent.object.spec.suspend);
  const rejecting = evaluate(input(small, [policy('team-b', { gpuQuota: 16 })], waiting, { priorityClasses: classes }));
  t.equal(rejecting.queue, undefined, 'where no policy queues, nothing waits in line');
});

t.test('a Reject limit among the exceeded ones denies', async (t) => {
  const policies = [policy('queue', { gpuQuota: 16, overQuota: 'Queue' }), policy('strict', { maxConcurrentJobs: 1 })];
  const r = evaluate(input(newJob(4, 2), policies, jobs));
  t.notOk(r.allowed);
  t.equal(r.queue, undefined);
  t.strictSame(r.denials.map((d) => d.reason), ['QuotaExceeded', 'TooManyJobs']);
});

t.test('releasing a queued job is checked again; other updates are not', async (t) => {
  const policies = [policy('team-b', { gpuQuota: 16, overQuota: 'Queue' })];
  const queued: TrainingJob = { metadata: { name: 'new', namespace: 'team-a', annotations: { [QUEUED_ANNOTATION]: 'x' } }, spec: { image: 'i:1', numWorkers: 4, gpusPerWorker: 2, suspend: true } };
  const released: TrainingJob = { metadata: { name: 'new', namespace: 'team-a' }, spec: { ...queued.spec, suspend: false } };
  const r = evaluate(input(released, policies, jobs, { operation: 'UPDATE', oldObject: queued }));
  t.notOk(r.allowed, 'the controller keeps it queued until the quota has room');
  t.equal(r.queue, undefined, 'only creation queues');
  t.ok(evaluate(input(released, policies, jobs.slice(1), { operation: 'UPDATE', oldObject: queued })).allowed, 'room after a job finished');
  const runningJob = running('a', 2, 4);
  t.ok(validate(input({ ...runningJob, spec: { ...runningJob.spec, ttlSecondsAfterFinished: 30 } }, [policy('tight', { gpuQuota: 1 })], jobs, { operation: 'UPDATE', oldObject: runningJob })).allowed, 'a running job is never re-checked');
});

t.test('an annotation without suspend does not skip the quota', async (t) => {
  const sneaky: TrainingJob = { metadata: { name: 'new', namespace: 'team-a', annotations: { [QUEUED_ANNOTATION]: 'x' } }, spec: { image: 'i:1', numWorkers: 4, gpusPerWorker: 2 } };
  t.notOk(validate(input(sneaky, [policy('team-a', { gpuQuota: 16 })], jobs)).allowed);
});

t.test('mutate alone marks the queue, validate alone then lets the queued job in', async (t) => {
  const policies = [policy('team-b', { gpuQuota: 16, overQuota: 'Queue' })];
  const m = mutate(input(newJob(4, 2), policies, jobs));
  t.ok(m.queue);
  t.ok(validate(input(m.object, policies, jobs)).allowed);
  t.strictSame(capacityViolations(newJob(2, 2), 'team-a', policies, jobs, []), []);
});
