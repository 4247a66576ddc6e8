// Best-effort order (backfillSeconds): a job behind a first in line that cannot start goes first, within the first's
// window, never where the first could preempt its way in, and each says so in its queue reason.
import t from 'tap';
import { QUEUED_ANNOTATION } from '../../api/annotations.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import type { TrainingPolicy } from '../../api/trainingpolicy.ts';
import { backfillSeconds, queuedSince, startingJob } from '../../controller/queue/backfill.ts';
import { asksToStart, queuePlace, type QueueFacts } from '../../controller/queue/queue-place.ts';

const classes = [{ name: 'high', value: 5000 }, { name: 'low', value: 100 }];
const policy = (spec: TrainingPolicy['spec'] = {}): TrainingPolicy => ({ metadata: { name: 'team-a' }, spec: { gpuQuota: 16, overQuota: 'Queue', backfillSeconds: 1800, ...spec } });

function job(name: string, minute: string, spec: Partial<TrainingJob['spec']> = {}, queued = true): TrainingJob {
  return {
    metadata: { name, namespace: 'team-a', creationTimestamp: `2026-12-06T10:${minute}:00Z`, ...(queued ? { annotations: { [QUEUED_ANNOTATION]: 'over quota' } } : {}) },
    spec: { image: 'img', numWorkers: 1, gpusPerWorker: 4, ...(queued ? { suspend: true } : {}), ...spec },
    ...(queued ? {} : { status: { state: 'Running' as const, startTime: '2026-12-06T10:00:00Z' } }),
  };
}

const running = job('running', '00', { numWorkers: 3 }, false); // 12 of 16 GPUs held
const big = job('big', '01', { numWorkers: 2 }); // 8 GPUs: does not fit the 4 free
const small = job('small', '02'); // 4 GPUs: fits
const later = job('later', '03');
const at = (hhmm: string): number => Date.parse(`2026-12-06T${hhmm}:00Z`);
const facts = (jobs: TrainingJob[], p = policy()): QueueFacts => ({ jobs: [running, ...jobs], policies: [p], classes });

t.test('strict order without backfillSeconds: the first in line waits, and so does everyone behind it', async (t) => {
  const f = facts([big, small], policy({ backfillSeconds: undefined }));
  t.equal(backfillSeconds(f.policies), undefined);
  t.equal(startingJob(f, at('10:05'))?.job.metadata?.name, 'big');
  t.equal(startingJob(f, at('10:05'))?.backfill, undefined);
});

t.test('within the window, the first job behind that fits starts first; past it, the queue holds for the first in line', async (t) => {
  const f = facts([big, small, later]);
  const choice = startingJob(f, at('10:05'));
  t.equal(choice?.job.metadata?.name, 'small');
  t.same(choice?.plan, { borrow: 0 });
  t.equal(choice?.backfill?.behind.metadata?.name, 'big');
  t.equal(choice?.backfill?.until, at('10:31'), 'big was created 10:01; 1800 s later');
  t.equal(startingJob(f, at('10:31'))?.job.metadata?.name, 'big', 'the window is over: nobody passes it any more');
  t.equal(startingJob(f, at('10:05'), (j) => j.metadata?.name === 'small')?.job.metadata?.name, 'later', 'one that is aside is passed over too');

  const small3 = queuePlace(small, f, at('10:05'), undefined, undefined, choice);
  t.equal(small3?.position, 2);
  t.equal(small3?.reason, 'backfilling: the first in line, big (priority 0, 8 GPUs), cannot start yet, and until 2026-12-06T10:31:00.000Z jobs behind it that fit start first; capacity is free: asking to start');
  t.ok(asksToStart(small3?.reason ?? ''), 'it asks to start: the webhook\'s refusal would become its reason');
  t.equal(queuePlace(big, f, at('10:05'), undefined, undefined, choice)?.reason, 'namespace team-a GPU quota 16: 12 in use, this job asks 8 (2 workers × 4 GPUs); until 2026-12-06T10:31:00.000Z jobs behind it that fit start first (next: small)');
  t.match(queuePlace(later, f, at('10:05'), undefined, undefined, choice)?.reason, /^2 jobs ahead; next to start: small \(priority 0, 4 GPUs\)/);
});

t.test('a requeued first in line counts its wait from its Queued condition', async (t) => {
  const requeued: TrainingJob = { ...big, status: { state: 'Queued', conditions: [{ type: 'Queued', status: 'True', reason: 'Preempted', message: '', lastTransitionTime: '2026-12-06T10:20:00Z' }] } };
  t.equal(queuedSince(requeued), at('10:20'));
  t.equal(startingJob(facts([requeued, small]), at('10:40'))?.job.metadata?.name, 'small', 'within 30 minutes of 10:20');
});

t.test('nodes: a first in line whose workers do not fit the nodes lets a job that fits go first', async (t) => {
  const roomy = facts([job('wide', '01'), small]);
  t.equal(startingJob(roomy, at('10:05'))?.job.metadata?.name, 'wide', 'both fit the quota: the first goes');
  const noRoom = 'no node has 4 free GPUs for worker 0';
  const choice = startingJob(roomy, at('10:05'), undefined, (j) => (j.metadata?.name === 'wide' ? noRoom : undefined));
  t.equal(choice?.job.metadata?.name, 'small', 'wide fits no node');
  t.equal(startingJob(roomy, at('10:05'), undefined, () => noRoom)?.job.metadata?.name, 'wide', 'nothing fits the nodes: the first in line stays first');
  // "Why is my job still pending?" on the first in line names the nodes, not only that it cannot start.
  const wide = roomy.jobs.find((j) => j.metadata?.name === 'wide')!;
  t.equal(queuePlace(wide, roomy, at('10:05'), undefined, undefined, choice)?.reason, `${noRoom}; until 2026-12-06T10:31:00.000Z jobs behind it that fit start first (next: small)`);
});

t.test('a first in line that can preempt lower-priority jobs starts that way, and nobody passes it', async (t) => {
  const lowRunning = job('low-running', '00', { numWorkers: 3, priorityClassName: 'low' }, false);
  const urgent = job('urgent', '04', { numWorkers: 2, priorityClassName: 'high' });
  const f: QueueFacts = { jobs: [lowRunning, urgent, small], policies: [policy({ preemption: { withinNamespace: 'LowerPriority' } })], classes };
  t.equal(startingJob(f, at('10:05'))?.job.metadata?.name, 'urgent');
  t.equal(startingJob(f, at('10:05'))?.backfill, undefined);
});

t.test('a first in line the webhook refused for capacity this view does not see (a ResourceQuota) is passed too', async (t) => {
  const roomy = facts([job('wide', '01'), small]);
  t.equal(startingJob({ ...roomy, refusedForCapacity: (j) => j.metadata?.name === 'wide' }, at('10:05'))?.job.metadata?.name, 'small');
  t.equal(startingJob({ ...roomy, refusedForCapacity: () => true }, at('10:05'))?.job.metadata?.name, 'wide', 'nobody it could pass may start either');
});

t.test('the first in line\'s window alone decides: a job passed gets its own once it is first in line', async (t) => {
  const second = job('second', '21', { numWorkers: 2 }); // 8 GPUs: cannot start either
  const tiny = job('tiny', '22'); // 4 GPUs: fits
  const requeued = { ...second, status: { state: 'Queued' as const, conditions: [{ type: 'Queued', status: 'True' as const, reason: 'Preempted', message: '', lastTransitionTime: '2026-12-06T10:05:00Z' }] } };
  const withBig = facts([{ ...big, metadata: { ...big.metadata, creationTimestamp: '2026-12-06T10:20:00Z' } }, requeued, tiny]);
  t.equal(startingJob(withBig, at('10:40'))?.job.metadata?.name, 'tiny', 'big has waited 20 of its 30 minutes');
  t.equal(startingJob(facts([requeued, tiny]), at('10:40'))?.job.metadata?.name, 'second', 'once second is first in line, its window (over at 10:35) holds the queue for it');
});

t.test('the shortest window of the selecting policies applies', async (t) => {
  t.equal(backfillSeconds([policy({ backfillSeconds: 600 }), policy(), policy({ backfillSeconds: undefined })]), 600);
});
