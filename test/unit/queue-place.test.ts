// The namespace queue: start order by priority then creation, and each queued job's place and reason with the numbers.
import t from 'tap';
import { QUEUED_ANNOTATION } from '../../api/annotations.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import type { TrainingPolicy } from '../../api/trainingpolicy.ts';
import { CAPACITY_FREE, capacityRefusal, nextToStart, queueOrder, queuePlace, type QueueFacts } from '../../controller/queue/queue-place.ts';
import { webhookWords } from '../../controller/trainingjob/reconciler.ts';

const classes = [{ name: 'high', value: 5000 }, { name: 'low', value: 100 }, { name: 'standard', value: 1000, globalDefault: true }];
const policy: TrainingPolicy = { metadata: { name: 'team-a' }, spec: { gpuQuota: 16, overQuota: 'Queue' } };

function job(name: string, created: string, spec: Partial<TrainingJob['spec']> = {}, queued = true): TrainingJob {
  return {
    metadata: { name, namespace: 'team-a', creationTimestamp: `2026-12-06T10:${created}:00Z`, ...(queued ? { annotations: { [QUEUED_ANNOTATION]: 'over quota' } } : {}) },
    spec: { image: 'img', numWorkers: 4, gpusPerWorker: 2, ...(queued ? { suspend: true } : {}), ...spec },
    ...(queued ? {} : { status: { state: 'Running' as const } }),
  };
}

const running = job('running', '00', { numWorkers: 6 }, false); // 12 GPUs held
const NOW = Date.parse('2026-12-06T11:00:00Z');
const facts = (jobs: TrainingJob[]): QueueFacts => ({ jobs: [running, ...jobs], policies: [policy], classes });

t.test('start order: priority first, then creation, then name; running jobs are not in it', async (t) => {
  const order = queueOrder(facts([
    job('old-low', '01', { priorityClassName: 'low' }),
    job('new-high', '05', { priorityClassName: 'high' }),
    job('defaulted', '02'), // the global default: 1000
    job('b-same', '03', { priorityClassName: 'standard' }),
    job('a-same', '03', { priorityClassName: 'standard' }),
  ]).jobs, classes);
  t.strictSame(order.map((j) => j.metadata?.name), ['new-high', 'defaulted', 'a-same', 'b-same', 'old-low']);
  t.strictSame(queueOrder([job('x', '01', { priorityClassName: 'gone' }), job('y', '02')], []).map((j) => j.metadata?.name), ['x', 'y'], 'unknown classes and no default: 0 for all, creation order');
});

t.test('the first in line says which limit holds it, with the numbers', async (t) => {
  const place = queuePlace(job('next', '01'), facts([job('next', '01'), job('later', '02')]), NOW);
  t.strictSame(place, { position: 1, priority: 1000, reason: 'namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)' });
});

t.test('a job further back names the one it waits behind, and its own shortfall', async (t) => {
  const queue = [job('big', '01', { numWorkers: 4 }), job('small', '02', { numWorkers: 1 }), job('third', '03')];
  t.strictSame(queuePlace(queue[1]!, facts(queue), NOW), {
    position: 2, priority: 1000,
    reason: '1 job ahead; next to start: big (priority 1000, 8 GPUs)',
  }, 'it would fit (2 of 4 free) but waits its turn');
  t.equal(queuePlace(queue[2]!, facts(queue), NOW)?.reason, '2 jobs ahead; next to start: big (priority 1000, 8 GPUs); namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)');
});

t.test('room free: the first in line is about to start; not queued: no place', async (t) => {
  const free: QueueFacts = { jobs: [job('next', '01')], policies: [policy], classes };
  t.equal(queuePlace(job('next', '01'), free, NOW)?.reason, CAPACITY_FREE);
  t.equal(queuePlace(running, facts([]), NOW), undefined);
});

t.test("the webhook's words without the apiserver's wrapping", async (t) => {
  t.equal(webhookWords('admission webhook "validate.trainingjob.ml.example.com" denied the request: metadata.namespace: namespace team-a ResourceQuota gpus requests.nvidia.com/gpu 8: 8 in use, this job asks 8'), 'metadata.namespace: namespace team-a ResourceQuota gpus requests.nvidia.com/gpu 8: 8 in use, this job asks 8');
  t.equal(webhookWords('connection refused'), 'connection refused');
});

t.test('a preempted job says so while it waits', async (t) => {
  const preempted = job('victim', '01');
  preempted.metadata!.annotations = { [QUEUED_ANNOTATION]: 'preempted by urgent (priority 5000 > 1000)' };
  t.equal(queuePlace(preempted, facts([preempted]), NOW)?.reason, 'preempted by urgent (priority 5000 > 1000); namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)');
});

t.test('a job backing off after a failed start keeps its place but lets the next one start', async (t) => {
  const failed = job('failed', '01');
  failed.metadata!.annotations = { ...failed.metadata!.annotations, 'ml.example.com/startup-attempts': '2', 'ml.example.com/retry-after': '2026-12-06T11:00:20.000Z' };
  const behind = job('behind', '02', { numWorkers: 1 });
  const all = facts([failed, behind]);
  t.equal(nextToStart(all, NOW)?.metadata?.name, 'behind', 'the one behind asks to start');
  t.strictSame(queuePlace(failed, all, NOW), { position: 1, priority: 1000, reason: 'backing off after 2 failed starts until 2026-12-06T11:00:20.000Z; namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)' });
  t.equal(queuePlace(behind, all, NOW)?.reason, CAPACITY_FREE, '2 GPUs fit in the 4 left: it starts');
  t.equal(nextToStart(all, Date.parse('2026-12-06T11:00:21Z'))?.metadata?.name, 'failed', 'after its backoff it is first again');
});

t.test('capacity refusals and a job standing aside', async (t) => {
  t.ok(capacityRefusal('namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)'));
  t.ok(capacityRefusal('2 problems: namespace team-a GPU quota 16: 12 in use, this job asks 8; namespace team-a concurrent job limit 4: 4 active, this job would make 5'));
  t.notOk(capacityRefusal('metadata.labels.team: required label is missing (TrainingPolicy team-a)'));
  t.notOk(capacityRefusal('namespace team-a GPU quota 4: this job asks 8 (4 workers × 2 GPUs), more than the limit allows even with nothing else running'), 'a job larger than the limit itself: waiting cannot help');
  t.notOk(capacityRefusal('2 problems: namespace team-a GPU quota 16: 12 in use; metadata.labels.team: required label is missing'), 'a mix is not capacity alone');
  const first = job('first', '01');
  const second = job('second', '02', { numWorkers: 1 });
  const all = facts([first, second]);
  const aside = (j: TrainingJob) => j.metadata?.name === 'first';
  t.equal(nextToStart(all, NOW, aside)?.metadata?.name, 'second');
  t.equal(queuePlace(second, all, NOW, aside)?.reason, CAPACITY_FREE, 'the one behind is next while the first stands aside');
});
