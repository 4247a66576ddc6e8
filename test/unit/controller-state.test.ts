// The TrainingJob state machine: every transition, its conditions and Events, workers, GPUs, times and restarts.
import t from 'tap';
import { nextStatus } from '../../controller/trainingjob/state.ts';
import type { StatusUpdate } from '../../controller/trainingjob/state.ts';
import { QUEUED_ANNOTATION } from '../../api/annotations.ts';
import type { TrainingJob, TrainingJobStatus } from '../../api/trainingjob-v1.ts';
import { COMPLETE, FAILED, LATER, NOW, observed, trainingJob, worker, workerJob, workers } from '../fixtures/controller-jobs.ts';
import type { Observed } from '../../controller/trainingjob/observed.ts';

const reasons = (u: StatusUpdate) => u.events.map((e) => e.reason);
const condition = (s: TrainingJobStatus, type: string) => s.conditions?.find((c) => c.type === type);
// Feed a status back in, as the next reconcile would read it.
const after = (job: TrainingJob, u: StatusUpdate): TrainingJob => ({ ...job, status: u.status });

const running4 = observed(workerJob(0, { active: 4, ready: 4, startTime: '2025-10-25T10:29:00Z' }), workers(4, 'Running'));

t.test('a new job with no worker Job yet is Pending, quietly', async (t) => {
  const u = nextStatus(trainingJob(), observed(), NOW);
  t.equal(u.status.state, 'Pending');
  t.same(u.events, []);
  t.match(condition(u.status, 'Ready'), { status: 'False', reason: 'WorkloadPending', observedGeneration: 1, lastTransitionTime: NOW.toISOString() });
  t.match(condition(u.status, 'Running'), { status: 'False' });
  t.equal(u.status.observedGeneration, 1);
  t.same(u.status.workers, { active: 0, succeeded: 0, failed: 0, pending: 4 });
  t.equal(u.status.allocatedGPUs, 0);
  t.equal(u.status.restarts, 0);
  t.equal(u.status.startTime, undefined);
});

t.test('Pending → Initializing → Running', async (t) => {
  const pending = trainingJob({}, { state: 'Pending' });
  const starting = observed(workerJob(0, { active: 4, ready: 2, startTime: '2025-10-25T10:29:00Z' }), [worker(0, 'Running'), worker(1, 'Running'), worker(2, 'Pending'), worker(3, 'Pending', { nodeName: 'gpu-node-3' })]);
  const init = nextStatus(pending, starting, NOW);
  t.equal(init.status.state, 'Initializing');
  t.same(reasons(init), ['Initializing']);
  t.match(init.events[0], { type: 'Normal', message: /2 of 4 workers running, Job resnet-workers/ });
  t.equal(init.status.startTime, '2025-10-25T10:29:00Z', 'the Job started the clock');
  t.same(init.status.workers, { active: 2, succeeded: 0, failed: 0, pending: 2 });
  t.equal(init.status.allocatedGPUs, 6, 'three pods hold nodes, two GPUs each');
  t.same(init.status.workerStatuses?.map((w) => [w.workerId, w.phase]), [[0, 'Running'], [1, 'Running'], [2, 'Pending'], [3, 'Pending']]);

  const run = nextStatus(after(pending, init), running4, LATER);
  t.equal(run.status.state, 'Running');
  t.same(reasons(run), ['Running']);
  t.match(condition(run.status, 'Ready'), { status: 'True', reason: 'WorkersRunning', lastTransitionTime: LATER.toISOString() });
  t.match(condition(run.status, 'Running'), { status: 'True' });
  t.equal(run.status.allocatedGPUs, 8);
  t.equal(run.status.startTime, '2025-10-25T10:29:00Z', 'kept');
  t.same(run.status.workers, { active: 4, succeeded: 0, failed: 0, pending: 0 });

  const again = nextStatus(after(pending, run), running4, new Date('2025-10-25T12:00:00Z'));
  t.same(again.events, [], 'no transition, no event');
  t.equal(condition(again.status, 'Ready')?.lastTransitionTime, LATER.toISOString(), 'transition time moves only with the status');
});

t.test('workers held back: the first reason in the message, its own condition reason, one Warning per new reason', async (t) => {
  const notFound = '0/3 nodes are available: persistentvolumeclaim "feature-store-snapshots" not found.';
  const unschedulable = { source: 'scheduler' as const, reason: 'Unschedulable', message: notFound };
  const pending = trainingJob({}, { state: 'Pending' });
  const held = observed(workerJob(0), [worker(0, 'Pending', { waiting: unschedulable }), worker(1, 'Pending', { waiting: { ...unschedulable, message: '0/3 nodes are available: other' } }), worker(2, 'Pending'), worker(3, 'Pending')]);
  const first = nextStatus(pending, held, NOW);
  const message = `0 of 4 workers running, Job resnet-workers: worker 0 unschedulable: ${notFound}`;
  t.equal(first.status.state, 'Initializing');
  t.match(condition(first.status, 'Ready'), { status: 'False', reason: 'WorkersUnschedulable', message });
  t.match(condition(first.status, 'Running'), { status: 'False', reason: 'WorkersUnschedulable', message });
  t.same(first.events, [
    { type: 'Normal', reason: 'Initializing', message },
    { type: 'Warning', reason: 'WorkersUnschedulable', message },
  ], 'the transition, and the reason as a Warning');

  const again = nextStatus(after(pending, first), held, LATER);
  t.same(again.events, [], 'the same reason next reconcile: no new event');
  t.same(again.status.conditions, first.status.conditions, 'nor a new status');

  // Scheduled now, but the image cannot be pulled: a new reason, a new Warning.
  const pulling = observed(workerJob(0), [worker(0, 'Running'), worker(1, 'Pending', { nodeName: 'gpu-node-1', waiting: { source: 'kubelet', reason: 'ImagePullBackOff', message: 'Back-off pulling image "ghcr.io/acme/train:1.0"' } }), worker(2, 'Running'), worker(3, 'Running')]);
  const next = nextStatus(after(pending, again), pulling, LATER);
  const pullMessage = '3 of 4 workers running, Job resnet-workers: worker 1 waiting: ImagePullBackOff: Back-off pulling image "ghcr.io/acme/train:1.0"';
  t.match(condition(next.status, 'Running'), { reason: 'WorkersWaiting', message: pullMessage });
  t.same(next.events, [{ type: 'Warning', reason: 'WorkersWaiting', message: pullMessage }]);
  t.same(nextStatus(after(pending, next), pulling, LATER).events, [], 'once');

  const resolved = nextStatus(after(pending, next), observed(workerJob(0), [worker(0, 'Running'), worker(1, 'Pending', { nodeName: 'gpu-node-1' }), worker(2, 'Running'), worker(3, 'Running')]), LATER);
  t.match(condition(resolved.status, 'Running'), { reason: 'WorkersStarting', message: '3 of 4 workers running, Job resnet-workers' }, 'back to starting once nothing holds it');
  t.same(resolved.events, []);
  const heldAgain = nextStatus(after(pending, resolved), held, LATER);
  t.same(reasons(heldAgain), ['WorkersUnschedulable'], 'the reason coming back is news again');

  const other = nextStatus(pending, observed(workerJob(0), [worker(0, 'Pending', { waiting: { source: 'scheduler', reason: 'SchedulerError', message: 'binding rejected' } })]), NOW);
  t.match(condition(other.status, 'Running'), { reason: 'WorkersUnschedulable', message: /worker 0 unschedulable: SchedulerError: binding rejected$/ }, 'a reason other than Unschedulable is named');
  const bare = nextStatus(pending, observed(workerJob(0), [worker(0, 'Pending', { waiting: { source: 'kubelet', reason: 'ErrImageNeverPull', message: '' } })]), NOW);
  t.match(condition(bare.status, 'Running'), { reason: 'WorkersWaiting', message: /worker 0 waiting: ErrImageNeverPull$/ });
});

t.test('a wait of an earlier generation\'s pod or a running job does not count', async (t) => {
  const wait = { source: 'scheduler' as const, reason: 'Unschedulable', message: '0/3 nodes are available' };
  const running = nextStatus(trainingJob({}, { state: 'Running' }), observed(workerJob(0), [worker(0, 'Running'), worker(1, 'Pending', { waiting: wait }), worker(2, 'Running'), worker(3, 'Running')]), NOW);
  t.equal(running.status.state, 'Running', 'a replaced pod waiting to be placed does not take a running job back');
  t.same(running.events, []);
  const replaced = nextStatus(trainingJob({}, { state: 'Pending' }), observed(workerJob(0), [worker(0, 'Pending', { waiting: wait, createdAt: '2025-10-25T10:00:00Z' }), worker(0, 'Pending', { podName: 'new', createdAt: '2025-10-25T10:10:00Z' })]), NOW);
  t.match(condition(replaced.status, 'Running'), { reason: 'WorkersStarting' }, 'only the newest pod of a rank speaks for it');
});

t.test('without pods the Job counters stand in', async (t) => {
  const u = nextStatus(trainingJob({}, { state: 'Initializing' }), observed(workerJob(0, { active: 4, ready: 4 })), NOW);
  t.equal(u.status.state, 'Running');
  t.same(u.status.workers, { active: 4, succeeded: 0, failed: 0, pending: 0 });
});

t.test('startTime falls back to now when the Job has none', async (t) => {
  const u = nextStatus(trainingJob(), observed(workerJob(0), [worker(0, 'Pending')]), NOW);
  t.equal(u.status.state, 'Initializing');
  t.equal(u.status.startTime, NOW.toISOString());
});

t.test('Running stays Running while finished ranks wait for rank 0', async (t) => {
  const job = trainingJob({}, { state: 'Running' });
  const u = nextStatus(job, observed(workerJob(0, { active: 1, succeeded: 3 }), [worker(0, 'Running'), worker(1, 'Succeeded'), worker(2, 'Succeeded'), worker(3, 'Succeeded')]), NOW);
  t.equal(u.status.state, 'Running');
  t.same(u.events, []);
  t.same(u.status.workers, { active: 1, succeeded: 3, failed: 0, pending: 0 });
  t.equal(u.status.allocatedGPUs, 2);
});

t.test('Running → Completed, which is final', async (t) => {
  const job = trainingJob({}, { state: 'Running', startTime: '2025-10-25T10:29:00Z', progress: '90%', currentEpoch: 9, totalEpochs: 10 });
  const done = nextStatus(job, observed(workerJob(0, { succeeded: 4, conditions: COMPLETE, completionTime: '2025-10-25T11:40:00Z' }), workers(4, 'Succeeded')), LATER);
  t.equal(done.status.state, 'Completed');
  t.equal(done.status.currentEpoch, 10, 'every epoch, though the last scrape saw 9');
  const unscraped = nextStatus(trainingJob({ hyperparameters: { epochs: 6 } }, { state: 'Running' }), observed(workerJob(0, { succeeded: 4, conditions: COMPLETE }), workers(4, 'Succeeded')), LATER);
  t.match(unscraped.status, { currentEpoch: 6, totalEpochs: 6 }, 'finished before the first scrape: spec.hyperparameters.epochs');
  t.same(done.events, [{ type: 'Normal', reason: 'Completed', message: 'all 4 workers succeeded' }]);
  t.equal(done.status.completionTime, '2025-10-25T11:40:00Z');
  t.equal(done.status.progress, '100%');
  t.equal(done.status.allocatedGPUs, 0);
  t.same(done.status.workers, { active: 0, succeeded: 4, failed: 0, pending: 0 });
  t.match(condition(done.status, 'Completed'), { status: 'True', reason: 'TrainingSucceeded' });
  t.match(condition(done.status, 'Ready'), { status: 'True', reason: 'TrainingSucceeded' });
  t.match(condition(done.status, 'Running'), { status: 'False' });

  const bumped = after(job, done);
  bumped.metadata = { ...bumped.metadata, generation: 2 };
  const later = nextStatus(bumped, observed(workerJob(0, { conditions: FAILED })), new Date('2025-10-26T00:00:00Z'));
  t.same(later.events, []);
  t.equal(later.status.state, 'Completed');
  t.equal(later.status.observedGeneration, 2);
  t.same({ ...later.status, observedGeneration: 1 }, done.status, 'nothing else moves');
});

const failedRun = (restarts: number) => observed(
  workerJob(restarts, { failed: 1, conditions: FAILED }),
  [
    worker(0, 'Failed', { exitCode: 143, reason: 'Error', terminationMessage: 'loss 0.4\n{"checkpoint":"/checkpoints/epoch-3.pt","epoch":3}' }),
    worker(1, 'Failed', { exitCode: 143, reason: 'Error' }),
    worker(2, 'Failed', { exitCode: 1, reason: 'Error', terminationMessage: 'Traceback (most recent call last):\n  File "train.py"\nRuntimeError: NCCL timeout' }),
    worker(3, 'Failed', { exitCode: 143, reason: 'Error', terminationMessage: 'checkpoint=/checkpoints/epoch-2.pt epoch=2' }),
  ],
);

t.test('Running → Restarting: a failed Job with restarts left, resuming from the newest reported checkpoint', async (t) => {
  const job = trainingJob({}, { state: 'Running', startTime: '2025-10-25T10:29:00Z' });
  const u = nextStatus(job, failedRun(0), NOW);
  t.equal(u.status.state, 'Restarting');
  t.equal(u.status.restarts, 1);
  t.equal(u.status.lastCheckpoint, '/checkpoints/epoch-3.pt', 'epoch 3 beats epoch 2');
  t.same(reasons(u), ['CheckpointReported', 'Restarting']);
  t.equal(u.events[1]?.type, 'Warning');
  t.match(u.events[1]?.message, /^worker 2 \(pod resnet-workers-2-abcde\) exited 1 \(Error\): RuntimeError: NCCL timeout; restart 1 of 3, resuming from \/checkpoints\/epoch-3.pt$/);
  t.match(condition(u.status, 'Ready'), { status: 'False', reason: 'WorkerFailed' });
  t.equal(u.status.completionTime, undefined);
  t.equal(u.status.startTime, '2025-10-25T10:29:00Z', 'a restart keeps the original start');

  const waiting = nextStatus(after(job, u), failedRun(0), LATER);
  t.equal(waiting.status.state, 'Restarting', 'the old generation is not this run');
  t.equal(waiting.status.restarts, 1, 'counted once');
  t.same(waiting.events, []);
  t.match(condition(waiting.status, 'Ready'), { reason: 'WorkerFailed', message: /resnet-workers-r1/ });
  // The reconciler writes Ready=False ReconcileFailed when a reconcile throws; the restart's own reason must survive it.
  const failedReconcile = after(job, { ...u, status: { ...u.status, conditions: u.status.conditions!.map((c) => (c.type === 'Ready' ? { ...c, reason: 'ReconcileFailed', message: 'the Kubernetes API answered 500' } : c)) } });
  t.match(condition(nextStatus(failedReconcile, failedRun(0), LATER).status, 'Ready'), { reason: 'WorkerFailed' }, 'a failed reconcile does not become the reason of the restart');

  const next = nextStatus(after(job, waiting), observed(workerJob(1, { active: 4 }), [worker(0, 'Pending')]), LATER);
  t.equal(next.status.state, 'Initializing');
  t.same(reasons(next), ['Initializing']);
  t.match(next.events[0]?.message, /Job resnet-workers-r1 \(restart 1\)/);
  t.same(next.status.workers, { active: 0, succeeded: 0, failed: 0, pending: 4 }, 'the new generation starts clean');
  t.equal(next.status.lastCheckpoint, '/checkpoints/epoch-3.pt', 'kept for the resume');
});

t.test('failures past backoffLimit → Failed with BackoffLimitExceeded', async (t) => {
  const job = trainingJob({}, { state: 'Running', restarts: 3, lastCheckpoint: '/checkpoints/epoch-1.pt' });
  const u = nextStatus(job, failedRun(3), NOW);
  t.equal(u.status.state, 'Failed');
  t.equal(u.status.restarts, 3);
  t.same(reasons(u), ['CheckpointReported', 'BackoffLimitExceeded']);
  t.equal(u.events[1]?.type, 'Warning');
  t.match(u.events[1]?.message, /failed after 3 restarts \(backoffLimit 3\)$/);
  t.match(condition(u.status, 'Failed'), { status: 'True', reason: 'BackoffLimitExceeded' });
  t.match(condition(u.status, 'Ready'), { status: 'False', reason: 'BackoffLimitExceeded' });
  t.equal(u.status.completionTime, NOW.toISOString());
  t.equal(u.status.allocatedGPUs, 0);
  t.equal(u.status.workers?.failed, 1, 'the rank that crashed; the three the Job stopped (143) did not fail');

  const none = nextStatus(trainingJob({ backoffLimit: 0 }, { state: 'Running' }), failedRun(0), NOW);
  t.equal(none.status.state, 'Failed', 'backoffLimit 0 never restarts');
});

t.test('an evicted worker is not a failure: the Job replaces it and the run goes on', async (t) => {
  const job = trainingJob({}, { state: 'Running', restarts: 0 });
  const seen = observed(workerJob(0, { active: 4, ready: 3 }), [
    worker(0, 'Running'), worker(1, 'Failed', { disrupted: true, reason: 'Evicted', createdAt: '2025-10-25T10:00:00Z' }),
    worker(1, 'Pending', { podName: 'resnet-workers-1-zzzzz', createdAt: '2025-10-25T10:31:00Z' }), worker(2, 'Running'), worker(3, 'Running'),
  ]);
  const u = nextStatus(job, seen, NOW);
  t.equal(u.status.state, 'Running');
  t.same(u.events, []);
  t.equal(u.status.restarts, 0);
  t.same(u.status.workers, { active: 3, succeeded: 0, failed: 0, pending: 1 });
  t.same(u.status.workerStatuses?.[1], { workerId: 1, podName: 'resnet-workers-1-zzzzz', phase: 'Pending', restartCount: 0 }, 'the replacement stands for rank 1');
});

t.test('Running → Suspended → Resumed', async (t) => {
  const job = trainingJob({ suspend: true }, { state: 'Running', startTime: '2025-10-25T10:29:00Z' });
  const u = nextStatus(job, observed(workerJob(0, { suspended: true })), NOW);
  t.equal(u.status.state, 'Suspended');
  t.same(reasons(u), ['Suspended']);
  t.match(condition(u.status, 'Suspended'), { status: 'True', reason: 'Suspended' });
  t.equal(u.status.allocatedGPUs, 0);
  t.same(u.status.workers, { active: 0, succeeded: 0, failed: 0, pending: 4 });

  const resumedJob = { ...after(job, u), spec: { ...job.spec, suspend: false } };
  const r = nextStatus(resumedJob, observed(workerJob(0), [worker(0, 'Pending')]), LATER);
  t.equal(r.status.state, 'Initializing');
  t.same(reasons(r), ['Resumed', 'Initializing']);
  t.match(condition(r.status, 'Suspended'), { status: 'False', reason: 'Resumed', lastTransitionTime: LATER.toISOString() });
});

t.test('a failure wins over suspend, completion wins over everything', async (t) => {
  const suspended = trainingJob({ suspend: true }, { state: 'Running' });
  t.equal(nextStatus(suspended, failedRun(0), NOW).status.state, 'Restarting');
  t.equal(nextStatus(suspended, observed(workerJob(0, { conditions: COMPLETE })), NOW).status.state, 'Completed');
});

t.test('Queued while over quota, Dequeued when released', async (t) => {
  const queued = trainingJob({ suspend: true }, undefined, { [QUEUED_ANNOTATION]: 'namespace team-a GPU quota 16: 12 in use, this job asks 8' });
  const q = nextStatus(queued, observed(workerJob(0, { suspended: true })), NOW);
  t.equal(q.status.state, 'Queued');
  t.same(reasons(q), ['Queued']);
  t.match(q.events[0]?.message, /GPU quota 16/);
  t.match(condition(q.status, 'Queued'), { status: 'True', reason: 'QuotaExceeded' });
  t.match(condition(q.status, 'Ready'), { status: 'False', reason: 'QuotaExceeded' });
  t.equal(q.status.startTime, undefined, 'waiting in the queue is not running');

  const released: TrainingJob = { ...after(queued, q), metadata: { ...queued.metadata, annotations: {} }, spec: { ...queued.spec, suspend: false } };
  const r = nextStatus(released, observed(workerJob(0), [worker(0, 'Pending')]), LATER);
  t.equal(r.status.state, 'Initializing');
  t.same(reasons(r), ['Dequeued', 'Initializing']);
  t.match(condition(r.status, 'Queued'), { status: 'False', reason: 'Admitted' });

  t.equal(r.status.queue, undefined, 'no queue place once started');

  const annotationOnly = trainingJob({}, undefined, { [QUEUED_ANNOTATION]: 'x' });
  t.equal(nextStatus(annotationOnly, observed(), NOW).status.state, 'Pending', 'the annotation alone does not queue');
});

t.test('progress from rank 0 metrics, and an unreachable endpoint as a condition', async (t) => {
  const job = trainingJob({}, { state: 'Running', metrics: { loss: 0.9 } });
  const ok: Observed = { ...running4, progress: { reachable: true, progress: { currentEpoch: 9, totalEpochs: 20, progress: 45, metrics: { accuracy: 0.87, throughput: 1250 } } } };
  const u = nextStatus(job, ok, NOW);
  t.equal(u.status.progress, '45%');
  t.equal(u.status.currentEpoch, 9);
  t.equal(u.status.totalEpochs, 20);
  t.same(u.status.metrics, { loss: 0.9, accuracy: 0.87, throughput: 1250 });
  t.match(condition(u.status, 'ProgressAvailable'), { status: 'True', reason: 'MetricsRead' });
  const down = nextStatus(after(job, u), { ...running4, progress: { reachable: false, message: 'connect ECONNREFUSED 10.0.0.5:8000' } }, LATER);
  t.equal(down.status.state, 'Running');
  t.equal(down.status.progress, '45%', 'the last known progress stays');
  t.match(condition(down.status, 'ProgressAvailable'), { status: 'False', reason: 'MetricsUnreachable', message: /ECONNREFUSED/ });
  t.same(down.events, []);
});

t.test('a checkpoint reported by a retried rank is recorded while running', async (t) => {
  const job = trainingJob({}, { state: 'Running', lastCheckpoint: '/checkpoints/epoch-1.pt' });
  const seen = observed(workerJob(0, { active: 4 }), [...workers(3, 'Running'), worker(3, 'Running', { restartCount: 1, exitCode: 42, terminationMessage: 'checkpoint=/checkpoints/epoch-2.pt epoch=2' })]);
  const u = nextStatus(job, seen, NOW);
  t.equal(u.status.lastCheckpoint, '/checkpoints/epoch-2.pt');
  t.same(u.events, [{ type: 'Normal', reason: 'CheckpointReported', message: 'checkpoint /checkpoints/epoch-2.pt (epoch 2)' }]);
  t.equal(u.status.workerStatuses?.[3]?.restartCount, 1);
  t.same(nextStatus(after(job, u), seen, LATER).events, [], 'reported once');
});

t.test('nextStatus does not touch its input', async (t) => {
  const job = trainingJob({}, { state: 'Running', conditions: [] });
  const before = structuredClone(job);
  nextStatus(job, failedRun(0), NOW);
  t.same(job, before);
});

t.test("the leader's queue place is the Queued reason and status.queue", async (t) => {
  const queued = trainingJob({ suspend: true }, undefined, { [QUEUED_ANNOTATION]: 'namespace team-a GPU quota 16: 12 in use, this job asks 8' });
  const place = { position: 2, priority: 1000, reason: '1 job ahead; next to start: llama (priority 5000, 8 GPUs); namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)' };
  const q = nextStatus(queued, observed(undefined, [], { queue: place }), NOW);
  t.strictSame(q.status.queue, place);
  t.equal(condition(q.status, 'Queued')?.message, `queued at position 2: ${place.reason}`);
  const moved = nextStatus(after(queued, q), observed(undefined, [], { queue: { ...place, position: 1, reason: 'namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)' } }), LATER);
  t.equal(moved.status.queue?.position, 1, 'the place follows the queue');
  const cohort = nextStatus(queued, observed(undefined, [], { queue: { ...place, cohortPosition: 5 } }), NOW);
  t.equal(condition(cohort.status, 'Queued')?.message, `queued at position 2 (5 in its cohort): ${place.reason}`, 'in a cohort, the place among every member\'s queued jobs too');
  t.same(reasons(moved), [], 'a new place is no new event');
  const suspended = nextStatus({ ...after(queued, moved), metadata: { ...queued.metadata, annotations: {} } }, observed(), LATER);
  t.equal(suspended.status.state, 'Suspended');
  t.equal(suspended.status.queue, undefined, 'a job out of the queue has no place in it');
});

t.test('the epoch count crossing a checkpoint boundary dates the last checkpoint (preemption weighs the work since)', async (t) => {
  const job = trainingJob({ checkpoint: { enabled: true, frequency: 2 } }, { state: 'Running', currentEpoch: 3 });
  const at = (epoch: number): Observed => ({ ...running4, progress: { reachable: true, progress: { currentEpoch: epoch, totalEpochs: 10, metrics: {} } } });
  const same = nextStatus(job, at(3), NOW);
  t.equal(same.status.lastCheckpointTime, undefined, 'no boundary crossed');
  const crossed = nextStatus(job, at(4), NOW);
  t.equal(crossed.status.lastCheckpointTime, NOW.toISOString(), 'epoch 4 with frequency 2: a checkpoint was just written');
  const next = nextStatus(after(job, crossed), at(5), LATER);
  t.equal(next.status.lastCheckpointTime, NOW.toISOString(), 'epoch 5: the time stays');
  const off = nextStatus(trainingJob({ checkpoint: { enabled: false } }, { state: 'Running', currentEpoch: 3 }), at(4), NOW);
  t.equal(off.status.lastCheckpointTime, undefined, 'checkpoints off: none');
});

t.test('the Queued reason says why the job is in the queue', async (t) => {
  const cases: [string, string][] = [['namespace team-a GPU quota 16: 12 in use', 'QuotaExceeded'], ['preempted by urgent (priority 5000 > 100)', 'Preempted'], ['not every worker was running 60s after the start (…): GPUs released, start 1 failed, next try in 10s', 'StartupTimeout']];
  for (const [annotation, reason] of cases) {
    const u = nextStatus(trainingJob({ suspend: true }, undefined, { [QUEUED_ANNOTATION]: annotation }), observed(), NOW);
    t.equal(condition(u.status, 'Queued')?.reason, reason, reason);
  }
});
