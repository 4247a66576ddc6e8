// `trainingjob queue` output: start order per namespace, the priority, the leader's reason, and a summary.
import t from 'tap';
import { QUEUED_ANNOTATION } from '../../api/annotations.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import { classesFromStatus, formatQueue } from '../../cli/queue.ts';

const now = Date.parse('2026-12-06T12:00:00Z');
const classes = [{ name: 'high', value: 5000 }];
const job = (namespace: string, name: string, minutesAgo: number, spec: Partial<TrainingJob['spec']> = {}, reason?: string): TrainingJob => ({
  metadata: { name, namespace, creationTimestamp: new Date(now - minutesAgo * 60_000).toISOString(), annotations: { [QUEUED_ANNOTATION]: 'over quota' } },
  spec: { image: 'img', numWorkers: 2, gpusPerWorker: 4, suspend: true, ...spec },
  ...(reason ? { status: { state: 'Queued' as const, queue: { position: 1, priority: 0, reason } } } : {}),
});

t.test('queued jobs in start order with their reasons', async (t) => {
  const running: TrainingJob = { metadata: { name: 'running', namespace: 'team-a' }, spec: { image: 'img' }, status: { state: 'Running' } };
  const out = formatQueue([
    job('team-b', 'b-old', 90, {}, 'namespace team-b GPU quota 8: 8 in use, this job asks 8 (2 workers × 4 GPUs)'),
    running,
    job('team-a', 'a-new-high', 1, { priorityClassName: 'high' }, 'namespace team-a GPU quota 16: 12 in use, this job asks 8 (2 workers × 4 GPUs)'),
    job('team-a', 'a-old', 200),
  ], classes, now);
  t.equal(out, [
    'NAMESPACE  POSITION  NAME        PRIORITY     GPUS  WAITING  REASON',
    'team-a     1         a-new-high  high (5000)  8     60s      namespace team-a GPU quota 16: 12 in use, this job asks 8 (2 workers × 4 GPUs)',
    'team-a     2         a-old       0            8     3h       not placed by the controller yet',
    'team-b     1         b-old       0            8     90m      namespace team-b GPU quota 8: 8 in use, this job asks 8 (2 workers × 4 GPUs)',
    '',
    '3 queued (team-a: 2 jobs, 16 GPUs; team-b: 1 job, 8 GPUs)',
  ].join('\n'));
  t.equal(formatQueue([running], classes, now), 'no queued TrainingJobs');
});

t.test("without the right to list PriorityClasses, the values the controller wrote stand in", async (t) => {
  const withStatus = job('team-a', 'a', 1, { priorityClassName: 'high' }, 'r');
  withStatus.status!.queue!.priority = 5000;
  t.strictSame(classesFromStatus([withStatus, job('team-a', 'b', 2, { priorityClassName: 'unplaced' })]), [{ name: 'high', value: 5000 }]);
});

t.test('running jobs on borrowed GPUs are listed after the queue: what a lender would reclaim', async (t) => {
  const borrowing: TrainingJob = { metadata: { name: 'b-borrow', namespace: 'team-b', annotations: { 'ml.example.com/borrowed-gpus': '4' } }, spec: { image: 'img', numWorkers: 2, gpusPerWorker: 4 }, status: { state: 'Running' } };
  const finished: TrainingJob = { ...borrowing, metadata: { ...borrowing.metadata, name: 'done' }, status: { state: 'Completed' } };
  t.equal(formatQueue([borrowing, finished], classes, now), 'no queued TrainingJobs\nrunning on GPUs borrowed from their cohort (reclaimable): team-b/b-borrow 4 GPUs');
  t.match(formatQueue([job('team-b', 'next', 1), borrowing], classes, now), /\n1 queued \(team-b: 1 job, 8 GPUs\)\nrunning on GPUs borrowed from their cohort \(reclaimable\): team-b\/b-borrow 4 GPUs$/);
});

t.test('in a cohort, the place among every member\'s queued jobs too', async (t) => {
  const inCohort = job('team-b', 'b-next', 5, {}, 'namespace team-b GPU quota 8: 8 in use, this job asks 8 (2 workers × 4 GPUs) — cohort research: 8 idle, first in the cohort\'s line for them: team-a/a-urgent (priority 5000, 8 GPUs)');
  inCohort.status!.queue!.cohortPosition = 2;
  const [header, row] = formatQueue([inCohort], classes, now).split('\n');
  t.equal(header, 'NAMESPACE  POSITION         NAME    PRIORITY  GPUS  WAITING  REASON');
  t.match(row, /^team-b {5}1 \(2 in cohort\) {2}b-next {2}0 {9}8 {5}5m {7}namespace team-b GPU quota 8: .* first in the cohort's line for them: team-a\/a-urgent \(priority 5000, 8 GPUs\)$/);
});
