// Checkpoint reports of worker pods deleted before a reconcile saw them: kept per worker Job, forgotten once written down.
import t from 'tap';
import type { V1Pod } from '@kubernetes/client-node';
import { departedReports } from '../../controller/trainingjob/departed-reports.ts';
import { nextStatus } from '../../controller/trainingjob/state.ts';
import { NOW, observed, trainingJob } from '../fixtures/controller-jobs.ts';
import { QUEUED_ANNOTATION } from '../../api/annotations.ts';

function pod(name: string, index: string, jobName: string, message?: string, namespace = 'ml'): V1Pod {
  return {
    metadata: { name, namespace, labels: { 'batch.kubernetes.io/job-name': jobName }, annotations: { 'batch.kubernetes.io/job-completion-index': index }, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: `uid-${jobName}`, controller: true }] },
    spec: { containers: [] },
    status: { phase: 'Failed', containerStatuses: [{ name: 'worker', image: '', imageID: '', ready: false, restartCount: 0, state: message === undefined ? {} : { terminated: { exitCode: 143, message } } }] },
  };
}

t.test('a deleted worker\'s report is kept for its worker Job, the newest epoch wins, and it is forgotten once written', async (t) => {
  let now = 0;
  const memory = departedReports(() => now);
  memory.remember(pod('w-0', '0', 'resnet-workers', '{"checkpoint":"/c/e2.pt","epoch":2}'), 'resnet-workers');
  memory.remember(pod('w-1', '1', 'resnet-workers', 'loss 0.3\ncheckpoint=/c/e3.pt epoch=3'), 'resnet-workers');
  memory.remember(pod('w-2', '2', 'resnet-workers', 'Segmentation fault'), 'resnet-workers');
  memory.remember(pod('w-3', '3', 'resnet-workers'), 'resnet-workers');
  memory.remember(pod('o-0', '0', 'other-workers', 'checkpoint=/o/e1.pt'), 'other-workers');
  memory.remember(pod('n-0', '0', 'resnet-workers', 'checkpoint=/n/e9.pt', 'other-ns'), 'resnet-workers');
  memory.remember(pod('x-0', '0', 'resnet-workers', 'checkpoint=/x.pt'), undefined);
  t.equal(memory.size(), 4, 'only pods with a report, of a worker Job');
  const kept = memory.of('ml', 'resnet-workers');
  t.same(kept.map((r) => [r.pod, r.rank, r.report, r.jobUid]), [['w-0', 0, { checkpoint: '/c/e2.pt', epoch: 2 }, 'uid-resnet-workers'], ['w-1', 1, { checkpoint: '/c/e3.pt', epoch: 3 }, 'uid-resnet-workers']], 'with the uid of the Job that owned the pod');
  t.same(memory.of('ml', 'nobody'), []);

  // A queued job whose worker Job and pods are gone: the report still becomes its checkpoint.
  const queued = trainingJob({ metadata: { annotations: { [QUEUED_ANNOTATION]: 'preempted by x' } }, spec: { suspend: true } } as never, { state: 'Running', lastCheckpoint: '/c/e1.pt' });
  const u = nextStatus(queued, { ...observed(), departed: kept }, NOW);
  t.equal(u.status.lastCheckpoint, '/c/e3.pt', 'epoch 3 of a pod already deleted');
  t.match(u.events.find((e) => e.reason === 'CheckpointReported'), { message: 'checkpoint /c/e3.pt (epoch 3)' });
  t.equal(nextStatus(queued, observed(), NOW).status.lastCheckpoint, '/c/e1.pt', 'without the memory, the older one stays');

  // The same pod name reporting again later (a newer report) is not forgotten by a write of the older one.
  memory.remember(pod('w-1', '1', 'resnet-workers', 'checkpoint=/c/e4.pt epoch=4'), 'resnet-workers');
  memory.forget('ml', 'resnet-workers', kept);
  t.same(memory.of('ml', 'resnet-workers').map((r) => r.report.checkpoint), ['/c/e4.pt'], 'w-0 forgotten, w-1\'s newer report kept');
  t.equal(memory.size(), 3);

  now = 10 * 60_000;
  t.same(memory.of('ml', 'other-workers'), [], 'gone after ten minutes');
  memory.remember(pod('y-0', '0', 'y-workers', 'checkpoint=/y.pt'), 'y-workers');
  t.equal(memory.size(), 1, 'expired entries are swept');
});
