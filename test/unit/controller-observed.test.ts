// Summaries of live Jobs and Pods: dates, indexes, disruptions, generations, termination messages.
import t from 'tap';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { currentWorkers, isDisrupted, observeWorkerJob, observeWorkers, WAIT_MESSAGE_MAX, workerWait } from '../../controller/trainingjob/observed.ts';

t.test('observeWorkerJob reads counts, conditions and times from typed or raw objects', async (t) => {
  const job: V1Job = {
    metadata: { name: 'resnet-workers' },
    spec: { suspend: true, template: {} },
    status: { active: 3, ready: 2, succeeded: 1, startTime: new Date('2025-10-25T10:00:00Z'), conditions: [{ type: 'Suspended', status: 'True', reason: 'JobSuspended' }] },
  };
  t.same(observeWorkerJob(job), {
    name: 'resnet-workers', suspended: true, active: 3, ready: 2, succeeded: 1, failed: 0,
    conditions: [{ type: 'Suspended', status: 'True', reason: 'JobSuspended' }], startTime: '2025-10-25T10:00:00.000Z',
  });
  const raw = { metadata: { name: 'x' }, status: { completionTime: '2025-10-25T11:00:00Z' } } as unknown as V1Job;
  t.match(observeWorkerJob(raw), { name: 'x', suspended: false, active: 0, completionTime: '2025-10-25T11:00:00Z' });
});

function pod(name: string, index: string | undefined, jobName: string, status: V1Pod['status'], created = '2025-10-25T10:00:00Z'): V1Pod {
  return {
    metadata: {
      name,
      creationTimestamp: new Date(created),
      labels: { 'batch.kubernetes.io/job-name': jobName },
      ...(index !== undefined ? { annotations: { 'batch.kubernetes.io/job-completion-index': index } } : {}),
    },
    spec: { nodeName: 'gpu-1', containers: [] },
    status,
  };
}

t.test('observeWorkers keeps this generation\'s indexed pods and reads the worker container', async (t) => {
  const pods: V1Pod[] = [
    pod('a-1', '1', 'resnet-workers', { phase: 'Running', containerStatuses: [{ name: 'sidecar', image: '', imageID: '', ready: true, restartCount: 9 }, { name: 'worker', image: '', imageID: '', ready: true, restartCount: 1, lastState: { terminated: { exitCode: 42, message: ' checkpoint=/c/e1 \n', finishedAt: new Date('2025-10-25T10:05:00Z') } } }] }),
    pod('a-0', '0', 'resnet-workers', { phase: 'Failed', reason: 'Evicted' }),
    pod('old-0', '0', 'resnet-workers-r1', { phase: 'Running' }),
    pod('no-index', undefined, 'resnet-workers', { phase: 'Running' }),
    pod('bad-index', 'x', 'resnet-workers', { phase: 'Running' }),
  ];
  const seen = observeWorkers(pods, 'resnet-workers');
  t.same(seen.map((w) => w.podName), ['a-0', 'a-1']);
  t.match(seen[0], { index: 0, phase: 'Failed', disrupted: true, reason: 'Evicted', restartCount: 0, ready: false });
  t.match(seen[1], { index: 1, phase: 'Running', restartCount: 1, ready: true, exitCode: 42, terminationMessage: 'checkpoint=/c/e1', finishedAt: '2025-10-25T10:05:00.000Z', nodeName: 'gpu-1' });
  const byOwner: V1Pod = { metadata: { name: 'o-0', annotations: { 'batch.kubernetes.io/job-completion-index': '0' }, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: 'u' }] }, status: {} };
  t.match(observeWorkers([byOwner], 'j'), [{ podName: 'o-0', phase: 'Pending' }]);
});

t.test('isDisrupted: the DisruptionTarget condition or an eviction reason', async (t) => {
  t.ok(isDisrupted({ status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }] } }));
  t.notOk(isDisrupted({ status: { conditions: [{ type: 'DisruptionTarget', status: 'False' }] } }));
  t.ok(isDisrupted({ status: { reason: 'Evicted' } }));
  t.notOk(isDisrupted({ status: { phase: 'Failed' } }));
});

t.test('currentWorkers: the newest pod stands for its rank', async (t) => {
  const w = (index: number, podName: string, createdAt: string) => ({ index, podName, phase: 'Running', restartCount: 0, ready: true, disrupted: false, createdAt });
  t.same(currentWorkers([w(1, 'old', '2025-10-25T10:00:00Z'), w(0, 'zero', '2025-10-25T10:00:00Z'), w(1, 'new', '2025-10-25T10:30:00Z')]).map((x) => x.podName), ['zero', 'new']);
});

t.test('observeWorkerJob reads the checkpoint the generation was started from', async (t) => {
  const job = { metadata: { name: 'm-workers-r1' }, spec: { template: { spec: { containers: [{ name: 'worker', image: 'i', env: [{ name: 'RANK', value: '0' }, { name: 'RESUME_FROM_CHECKPOINT', value: '/checkpoints/epoch-2.pt' }] }] } } } };
  t.equal(observeWorkerJob(job as never).resumedFrom, '/checkpoints/epoch-2.pt');
  t.equal(observeWorkerJob({ metadata: { name: 'fresh' } }).resumedFrom, undefined, 'a first generation resumed from nothing');
});

t.test('workerWait: why a Pending pod does not start, in the scheduler\'s or the kubelet\'s words', async (t) => {
  const unschedulable = 'Unschedulable';
  const notFound = '0/3 nodes are available: persistentvolumeclaim "feature-store-snapshots" not found. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.';
  const held = pod('w-0', '0', 'j', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: unschedulable, message: notFound }] });
  t.same(workerWait(held), { source: 'scheduler', reason: unschedulable, message: notFound });
  t.match(observeWorkers([held], 'j'), [{ index: 0, phase: 'Pending', waiting: { source: 'scheduler', message: notFound } }]);

  const waiting = (reason: string, message?: string): V1Pod => pod('w-1', '1', 'j', {
    phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }],
    containerStatuses: [{ name: 'worker', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, ...(message ? { message } : {}) } } }],
  });
  t.same(workerWait(waiting('ImagePullBackOff', 'Back-off pulling image "registry.example.com/ml/xgboost:2.0.3"')), { source: 'kubelet', reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.example.com/ml/xgboost:2.0.3"' });
  t.same(workerWait(waiting('ErrImageNeverPull')), { source: 'kubelet', reason: 'ErrImageNeverPull', message: '' }, 'a reason without a message');
  t.equal(workerWait(waiting('ContainerCreating')), undefined, 'on its way: not a reason to wait');
  t.equal(workerWait(waiting('PodInitializing')), undefined);
  const init = pod('w-2', '2', 'j', { phase: 'Pending', initContainerStatuses: [{ name: 'fetch', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "s3" not found' } } }] });
  t.match(workerWait(init), { source: 'kubelet', reason: 'CreateContainerConfigError' }, 'an init container holds the pod back too');

  t.equal(workerWait(pod('w-3', '3', 'j', { phase: 'Pending' })), undefined, 'not yet looked at by the scheduler');
  t.equal(workerWait(pod('w-4', '4', 'j', { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'False', reason: unschedulable }] })), undefined, 'only Pending pods wait');
  t.notOk('waiting' in observeWorkers([pod('w-5', '5', 'j', { phase: 'Running' })], 'j')[0]!, 'no key at all for a worker that does not wait');
  const long = workerWait(pod('w-6', '6', 'j', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: unschedulable, message: 'x'.repeat(5000) }] }));
  t.equal(long?.message.length, WAIT_MESSAGE_MAX, 'a long message is capped');
  t.ok(long?.message.endsWith('…'));
});
