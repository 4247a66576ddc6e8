// restartDecision: backoffLimit boundaries, disruptions not counted, where a restart resumes from.
import t from 'tap';
import { firstFailure, PEER_LOST_EXIT_CODE, restartDecision } from '../../controller/trainingjob/restart-decision.ts';
import { FAILED, observed, trainingJob, worker, workerJob } from '../fixtures/controller-jobs.ts';

const failed = (restarts: number, pods = [worker(1, 'Failed', { exitCode: 1, reason: 'Error', terminationMessage: '{"checkpoint":"s3://ckpt/resnet/epoch-4","epoch":4}' })]) =>
  observed(workerJob(restarts, { failed: 1, conditions: FAILED }), pods);

t.test('a Job that has not failed is never restarted', async (t) => {
  t.match(restartDecision(trainingJob(), observed()), { restart: false, reason: 'NotFailed' });
  t.match(restartDecision(trainingJob(), observed(workerJob(0, { active: 4 }), [worker(0, 'Failed', { exitCode: 42 })])), { restart: false, reason: 'NotFailed' }, 'a rank retried in place is the Job\'s business');
});

t.test('restarts below backoffLimit restart; at the limit the job fails', async (t) => {
  for (const [limit, restarts, restart] of [[3, 0, true], [3, 2, true], [3, 3, false], [3, 4, false], [1, 0, true], [1, 1, false], [0, 0, false], [10, 9, true], [10, 10, false]] as const) {
    const d = restartDecision(trainingJob({ backoffLimit: limit }, { restarts }), failed(restarts));
    t.equal(d.restart, restart, `backoffLimit ${limit}, ${restarts} restarts so far`);
    t.equal(d.reason, restart ? 'WorkerFailed' : 'BackoffLimitExceeded');
  }
  t.equal(restartDecision(trainingJob({ backoffLimit: undefined }, { restarts: 2 }), failed(2)).restart, true, 'the default backoffLimit is 3');
  t.equal(restartDecision(trainingJob({ backoffLimit: undefined }, { restarts: 3 }), failed(3)).restart, false);
});

t.test('a Job failed only by disruptions restarts even at the limit', async (t) => {
  const evicted = failed(3, [worker(0, 'Failed', { disrupted: true, reason: 'Evicted' }), worker(1, 'Failed', { disrupted: true })]);
  const d = restartDecision(trainingJob({ backoffLimit: 3 }, { restarts: 3 }), evicted);
  t.match(d, { restart: true, reason: 'WorkersDisrupted', message: /not counted/ });
  const mixed = failed(3, [worker(0, 'Failed', { disrupted: true }), worker(1, 'Failed', { exitCode: 2 })]);
  t.match(restartDecision(trainingJob({ backoffLimit: 3 }, { restarts: 3 }), mixed), { restart: false, reason: 'BackoffLimitExceeded' }, 'one real failure is enough to count');
});

t.test('peers that fail after a rank was evicted are its consequence: not counted', async (t) => {
  const at = (s: number) => `2026-12-06T05:00:${String(s).padStart(2, '0')}Z`;
  const peerLost = failed(3, [
    worker(0, 'Failed', { exitCode: 1, reason: 'Error', finishedAt: at(11), terminationMessage: '{"checkpoint":"/checkpoints/epoch-2.pt","epoch":2}' }),
    worker(1, 'Failed', { exitCode: 143, disrupted: true, reason: 'Evicted', finishedAt: at(10) }),
  ]);
  const d = restartDecision(trainingJob({ backoffLimit: 3 }, { restarts: 3 }), peerLost);
  t.match(d, { restart: true, reason: 'WorkersDisrupted', resumeFrom: '/checkpoints/epoch-2.pt' }, 'restarted at the limit, from the checkpoint');
  t.match(d.message, /^worker 0 \(pod [^)]+\) exited 1 \(Error\).* after worker 1 \(pod [^)]+\) was disrupted; not counted, resuming from \/checkpoints\/epoch-2\.pt$/);
  const sameSecond = failed(0, [worker(0, 'Failed', { exitCode: 1, finishedAt: at(10) }), worker(1, 'Failed', { disrupted: true, finishedAt: at(10) })]);
  t.equal(restartDecision(trainingJob(), sameSecond).reason, 'WorkersDisrupted', 'the same second (timestamps are whole seconds) is after');
  const before = failed(3, [worker(0, 'Failed', { exitCode: 1, finishedAt: at(9) }), worker(1, 'Failed', { disrupted: true, finishedAt: at(10) })]);
  t.match(restartDecision(trainingJob({ backoffLimit: 3 }, { restarts: 3 }), before), { restart: false, reason: 'BackoffLimitExceeded' }, 'a failure before the eviction counts');
  const unknown = failed(3, [worker(0, 'Failed', { exitCode: 1 }), worker(1, 'Failed', { disrupted: true, finishedAt: at(10) })]);
  t.match(restartDecision(trainingJob({ backoffLimit: 3 }, { restarts: 3 }), unknown), { restart: false }, 'a failure without a time counts');
});

t.test('a rank that exits PEER_LOST_EXIT_CODE is a consequence; the evicted pod may already be gone', async (t) => {
  const evictedGone = failed(0, [worker(0, 'Failed', { exitCode: PEER_LOST_EXIT_CODE, reason: 'Error', terminationMessage: '{"checkpoint":"/checkpoints/epoch-3.pt","epoch":3}' }), worker(1, 'Running')]);
  const d = restartDecision(trainingJob({ backoffLimit: 0 }), evictedGone);
  t.match(d, { restart: true, reason: 'WorkersDisrupted', resumeFrom: '/checkpoints/epoch-3.pt' }, 'restarted with backoffLimit 0');
  t.match(d.message, /exited 75 \(Error\).*: a peer left \(evicted, preempted or its node lost\); not counted/);
  const resumedThere = observed(workerJob(2, { failed: 1, conditions: FAILED, resumedFrom: '/checkpoints/epoch-3.pt' }), [worker(0, 'Failed', { exitCode: PEER_LOST_EXIT_CODE, terminationMessage: '{"checkpoint":"/checkpoints/epoch-3.pt","epoch":3}' })]);
  t.match(restartDecision(trainingJob({ backoffLimit: 2 }, { restarts: 2 }), resumedThere), { restart: false, reason: 'BackoffLimitExceeded' }, 'no checkpoint past the one it resumed from: a peer-lost exit counts (no endless restarts)');
  const crashed = failed(0, [worker(0, 'Failed', { exitCode: PEER_LOST_EXIT_CODE, finishedAt: '2026-12-06T05:00:11Z' }), worker(1, 'Failed', { exitCode: 137, reason: 'Error', finishedAt: '2026-12-06T05:00:10Z' })]);
  const c = restartDecision(trainingJob({ backoffLimit: 3 }), crashed);
  t.match(c, { restart: true, reason: 'WorkerFailed' }, 'a peer that crashed (still in view) counts');
  t.match(c.message, /^worker 1 \(pod [^)]+\) exited 137/, 'and is named as the cause');
});

t.test('a Job that failed while suspended is not counted: the suspend stopped its pods', async (t) => {
  const stopped = observed(workerJob(3, { suspended: true, failed: 2, conditions: FAILED }), [
    worker(0, 'Failed', { exitCode: PEER_LOST_EXIT_CODE, terminationMessage: '{"checkpoint":"/checkpoints/epoch-2.pt","epoch":2}' }),
    worker(1, 'Failed', { exitCode: 143 }),
  ]);
  const d = restartDecision(trainingJob({ backoffLimit: 3 }, { restarts: 3 }), stopped);
  t.match(d, { restart: true, reason: 'WorkersDisrupted', resumeFrom: '/checkpoints/epoch-2.pt' }, 'restarted at the limit, from the checkpoint');
  t.match(d.message, /^worker 0 \(pod [^)]+\) exited 75 while spec\.suspend stopped the workers; not counted, resuming from \/checkpoints\/epoch-2\.pt$/);
  const crashed = observed(workerJob(3, { suspended: true, failed: 1, conditions: FAILED }), [worker(0, 'Failed', { exitCode: 1, reason: 'Error' }), worker(1, 'Failed', { exitCode: 143 })]);
  t.match(restartDecision(trainingJob({ backoffLimit: 3 }, { restarts: 3 }), crashed), { restart: false, reason: 'BackoffLimitExceeded' }, 'a crash just before the suspend still counts');
});

t.test('a rank stopped with SIGTERM (143: deleted or suspended) is not a failure of its own', async (t) => {
  const deleted = failed(0, [worker(0, 'Failed', { exitCode: PEER_LOST_EXIT_CODE, terminationMessage: '{"checkpoint":"/checkpoints/epoch-3.pt","epoch":3}' }), worker(1, 'Failed', { exitCode: 143 })]);
  t.match(restartDecision(trainingJob({ backoffLimit: 0 }), deleted), { restart: true, reason: 'WorkersDisrupted' }, 'its peer\'s peer-lost exit after progress: not counted');
});

t.test('resume from the newest reported checkpoint, else the last one recorded, else from scratch', async (t) => {
  t.equal(restartDecision(trainingJob({}, { restarts: 0, lastCheckpoint: 's3://ckpt/resnet/epoch-2' }), failed(0)).resumeFrom, 's3://ckpt/resnet/epoch-4');
  const silent = failed(0, [worker(1, 'Failed', { exitCode: 1, terminationMessage: 'Segmentation fault' })]);
  t.equal(restartDecision(trainingJob({}, { lastCheckpoint: 's3://ckpt/resnet/epoch-2' }), silent).resumeFrom, 's3://ckpt/resnet/epoch-2');
  const fresh = restartDecision(trainingJob(), silent);
  t.equal(fresh.resumeFrom, undefined);
  t.match(fresh.message, /starting over: no checkpoint reported$/);
  t.equal(restartDecision(trainingJob({ checkpoint: { enabled: false } }, { lastCheckpoint: 's3://x' }), failed(0)).resumeFrom, undefined, 'checkpointing off: nothing to resume');
});

t.test('the message names the failing rank, or falls back to the Job condition', async (t) => {
  t.match(restartDecision(trainingJob(), failed(0)).message, /^worker 1 \(pod resnet-workers-1-abcde\) exited 1 \(Error\); restart 1 of 3, resuming from s3:\/\/ckpt\/resnet\/epoch-4$/, 'a checkpoint line is where to resume, not the cause');
  const both = failed(0, [worker(1, 'Failed', { exitCode: 1, reason: 'Error', terminationMessage: 'ValueError: bad batch\n{"checkpoint":"s3://ckpt/resnet/epoch-4","epoch":4}' })]);
  t.match(restartDecision(trainingJob(), both).message, /exited 1 \(Error\): ValueError: bad batch; restart 1 of 3, resuming from s3:\/\/ckpt\/resnet\/epoch-4$/, 'the error line beside it is');
  t.match(restartDecision(trainingJob(), observed(workerJob(0, { conditions: FAILED }))).message, /^PodFailurePolicy: Container worker for pod/);
  const long = 'x'.repeat(500);
  const cut = restartDecision(trainingJob(), failed(0, [worker(0, 'Failed', { terminationMessage: long })])).message;
  t.match(cut, /: x{200}…; restart 1 of 3/, 'long messages are cut at 200 characters');
});

t.test('firstFailure prefers the rank that was not stopped by the Job, then the earliest', async (t) => {
  const pods = [
    worker(0, 'Failed', { exitCode: 143, finishedAt: '2025-10-25T10:00:01Z' }),
    worker(1, 'Failed', { exitCode: 1, finishedAt: '2025-10-25T10:00:05Z' }),
    worker(2, 'Failed', { exitCode: 3, finishedAt: '2025-10-25T10:00:02Z' }),
    worker(3, 'Failed', { exitCode: 9, disrupted: true, finishedAt: '2025-10-25T09:00:00Z' }),
  ];
  t.equal(firstFailure(pods)?.index, 2);
  t.equal(firstFailure([worker(0, 'Running')]), undefined);
});
