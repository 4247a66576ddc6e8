// All or nothing: the startup deadline, the backoff, and the words a failed start leaves on the job.
import t from 'tap';
import type { TrainingJob, TrainingJobStatus } from '../../api/trainingjob-v1.ts';
import { backingOffUntil, startupAttempts, startupBackoffMs, startupDeadline, startupTimeout, startupTimeoutSeconds } from '../../controller/queue/startup.ts';

const now = Date.parse('2026-12-06T12:00:00Z');
const initializing: TrainingJobStatus = { state: 'Initializing', conditions: [{ type: 'Running', status: 'False', reason: 'WorkersUnschedulable', message: '0 of 2 workers running, Job a-workers: worker 0 unschedulable: 0/2 nodes are available: 2 Insufficient nvidia.com/gpu.', lastTransitionTime: '2026-12-06T11:59:00Z' }] };
const job = (annotations: Record<string, string> = {}): TrainingJob => ({ metadata: { name: 'a', namespace: 'ns', annotations }, spec: { image: 'img' } });

t.test('the deadline runs from the worker Job start, only while Initializing and only with a timeout', async (t) => {
  t.equal(startupDeadline(initializing, '2026-12-06T11:59:30Z', 60, now), 30_000, '30 s left');
  t.equal(startupDeadline(initializing, '2026-12-06T11:58:00Z', 60, now), -60_000, 'a minute past');
  t.equal(startupDeadline({ ...initializing, state: 'Running' }, '2026-12-06T11:58:00Z', 60, now), undefined, 'running: none');
  t.equal(startupDeadline(initializing, '2026-12-06T11:58:00Z', undefined, now), undefined, 'no policy sets one: wait indefinitely');
  t.equal(startupDeadline(initializing, undefined, 60, now), undefined, 'the Job has not started');
  t.equal(startupTimeoutSeconds([{ spec: { startupTimeoutSeconds: 600 } }, { spec: { startupTimeoutSeconds: 300 } }, { spec: {} }]), 300, 'the strictest policy');
});

t.test('backoff doubles from 10 s up to 10 minutes; the failure says why with the scheduler\'s words', async (t) => {
  t.strictSame([1, 2, 3, 7, 20].map(startupBackoffMs), [10_000, 20_000, 40_000, 600_000, 600_000]);
  const first = startupTimeout(job(), initializing, 60, now);
  t.strictSame(first, {
    attempts: 1,
    retryAfter: '2026-12-06T12:00:10.000Z',
    message: 'not every worker was running 60s after the start (0 of 2 workers running, Job a-workers: worker 0 unschedulable: 0/2 nodes are available: 2 Insufficient nvidia.com/gpu.): GPUs released, start 1 failed, next try in 10s',
  });
  t.equal(startupTimeout(job({ 'ml.example.com/startup-attempts': '3' }), initializing, 60, now).attempts, 4);
  t.equal(startupAttempts(job({ 'ml.example.com/startup-attempts': 'garbage' })), 0, 'an unreadable count starts over');
  t.equal(backingOffUntil(job({ 'ml.example.com/retry-after': '2026-12-06T12:00:10.000Z' }), now), '2026-12-06T12:00:10.000Z');
  t.equal(backingOffUntil(job({ 'ml.example.com/retry-after': '2026-12-06T11:00:10.000Z' }), now), undefined, 'past: no longer');
});
