// The borrowed-GPUs mark shows who borrows: users cannot drop it while the namespace is over its own quota, nor set
// it on a running job; the controller's own writes (start, preempt, drop when covered) pass.
import t from 'tap';
import { validate, type EvaluationInput } from '../../policies/evaluate.ts';
import { BORROWED_ANNOTATION, QUEUED_ANNOTATION } from '../../api/annotations.ts';
import type { TrainingJob, TrainingJobState } from '../../api/trainingjob-v1.ts';
import type { TrainingPolicy } from '../../api/trainingpolicy.ts';

const policies: TrainingPolicy[] = [{ metadata: { name: 'team-b' }, spec: { gpuQuota: 4, cohort: 'research', borrowingLimit: 4 } }];
const job = (name: string, gpus: number, annotations: Record<string, string> = {}, state: TrainingJobState = 'Running', suspend = false): TrainingJob =>
  ({ metadata: { name, namespace: 'team-b', annotations }, spec: { image: 'i:1', numWorkers: 1, gpusPerWorker: gpus, ...(suspend ? { suspend } : {}) }, status: { state } });

const borrowing = job('big', 4, { [BORROWED_ANNOTATION]: '2' });
const other = job('small', 2);

function update(oldObject: TrainingJob, object: TrainingJob, namespaceJobs: TrainingJob[] = [oldObject, other]): EvaluationInput {
  return { operation: 'UPDATE', object, oldObject, namespace: { name: 'team-b' }, policies, namespaceJobs };
}
const messages = (i: EvaluationInput): string[] => validate(i).denials.map((d) => d.message);

t.test('removing the mark while the namespace still borrows is refused, naming the numbers', async (t) => {
  t.strictSame(messages(update(borrowing, job('big', 4))), [
    `metadata.annotations[${BORROWED_ANNOTATION}]: this job still runs on GPUs borrowed from cohort research: namespace team-b uses 6 GPUs, its own quota is 4; the controller removes the mark once the quota covers them, or the cohort reclaims them`,
  ]);
  t.equal(messages(update(borrowing, job('big', 4, { [BORROWED_ANNOTATION]: '1' }))).length, 1, 'lowering it is removing part of it');
  t.equal(messages(update(borrowing, job('big', 4, { [BORROWED_ANNOTATION]: 'none' }))).length, 1, 'a value that is no count removes it too');
});

t.test('the controller\'s own writes pass', async (t) => {
  t.strictSame(messages(update(borrowing, job('big', 4), [borrowing, job('small', 2, {}, 'Completed')])), [], 'dropped once the own quota covers the namespace');
  const preempted = job('big', 4, { [QUEUED_ANNOTATION]: 'preempted by cohort research' }, 'Running', true);
  t.strictSame(messages(update(borrowing, preempted)), [], 'suspended back into the queue');
  const queued = job('big', 4, { [QUEUED_ANNOTATION]: 'waiting' }, 'Queued', true);
  const cohort = { name: 'research', members: [{ namespace: 'team-b', quota: 4, lendingLimit: 4, borrowingLimit: 4, used: 2 }, { namespace: 'team-a', quota: 8, lendingLimit: 8, used: 0 }] };
  t.strictSame(messages({ ...update(queued, borrowing), cohort }), [], 'marked when started from the queue');
  t.strictSame(messages(update(borrowing, { ...borrowing, metadata: { ...borrowing.metadata, labels: { run: '2' } } })), [], 'other edits keep it');
});

t.test('setting or raising the mark on a running job is refused', async (t) => {
  t.strictSame(messages(update(other, job('small', 2, { [BORROWED_ANNOTATION]: '2' }))), [
    `metadata.annotations[${BORROWED_ANNOTATION}]: only the controller marks a job as running on borrowed GPUs, when it starts it from the queue (was unset, now 2)`,
  ]);
  t.equal(messages(update(borrowing, job('big', 4, { [BORROWED_ANNOTATION]: '3' }))).length, 1);
});

t.test('finished or cohort-less jobs may lose the mark; a user suspend keeps it', async (t) => {
  t.strictSame(messages(update(job('big', 4, { [BORROWED_ANNOTATION]: '2' }, 'Completed'), job('big', 4, {}, 'Completed'))), []);
  t.equal(messages(update(borrowing, job('big', 4, {}, 'Running', true))).length, 1, 'suspended by its user it still counts against the quota: dropping the mark there and resuming would hide it');
  t.strictSame(messages({ ...update(borrowing, job('big', 4)), policies: [{ metadata: { name: 'team-b' }, spec: { gpuQuota: 4 } }] }), [], 'no cohort any more');
});
