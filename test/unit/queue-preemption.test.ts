// Preemption within a namespace: only lower priority, cheapest to lose first, never more than needed, none if it would not help.
import t from 'tap';
import { QUEUED_ANNOTATION } from '../../api/annotations.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import type { TrainingPolicy } from '../../api/trainingpolicy.ts';
import { preemptsWithinNamespace } from '../../api/trainingpolicy.ts';
import { chooseVictims, gpuHoursSinceCheckpoint } from '../../controller/queue/preemption.ts';
import type { QueueFacts } from '../../controller/queue/queue-place.ts';

const now = Date.parse('2026-12-06T12:00:00Z');
const hoursAgo = (h: number) => new Date(now - h * 3_600_000).toISOString();
const classes = [{ name: 'high', value: 5000 }, { name: 'mid', value: 1000 }, { name: 'low', value: 100 }];
const preempting: TrainingPolicy = { metadata: { name: 'team' }, spec: { gpuQuota: 16, overQuota: 'Queue', preemption: { withinNamespace: 'LowerPriority' } } };

function running(name: string, priorityClassName: string, gpus: number, startedHoursAgo: number, checkpointHoursAgo?: number): TrainingJob {
  return {
    metadata: { name, namespace: 'ns', resourceVersion: '7' },
    spec: { image: 'img', numWorkers: 1, gpusPerWorker: gpus, priorityClassName },
    status: { state: 'Running', startTime: hoursAgo(startedHoursAgo), ...(checkpointHoursAgo === undefined ? {} : { lastCheckpoint: `/ckpt/${name}`, lastCheckpointTime: hoursAgo(checkpointHoursAgo) }) },
  };
}
function queued(name: string, priorityClassName: string, gpus: number): TrainingJob {
  return { metadata: { name, namespace: 'ns', annotations: { [QUEUED_ANNOTATION]: 'over quota' } }, spec: { image: 'img', numWorkers: 1, gpusPerWorker: gpus, priorityClassName, suspend: true } };
}
const facts = (jobs: TrainingJob[], policies: TrainingPolicy[] = [preempting]): QueueFacts => ({ jobs, policies, classes });
const names = (v: { job: TrainingJob }[]) => v.map((x) => x.job.metadata?.name);

t.test('lowest priority first, then the fewest GPU-hours since the last checkpoint', async (t) => {
  const head = queued('urgent', 'high', 8);
  const jobs = [
    running('mid-fresh', 'mid', 8, 5, 0.1),
    running('low-old-ckpt', 'low', 4, 10, 3), // 12 GPU-hours at risk
    running('low-new-ckpt', 'low', 4, 10, 0.5), // 2 GPU-hours at risk
    head,
  ];
  t.strictSame(names(chooseVictims(head, facts(jobs), now)), ['low-new-ckpt', 'low-old-ckpt'], 'both low jobs (8 GPUs) before any mid one, the cheaper first');
  t.equal(chooseVictims(head, facts(jobs), now)[0]?.lostGpuHours, 2);
});

t.test('never more than needed: a small victim taken on the way is given back', async (t) => {
  const head = queued('urgent', 'high', 8);
  const jobs = [running('low-small', 'low', 2, 1, 0.1), running('low-big', 'low', 8, 3, 2), running('mid', 'mid', 6, 1), head];
  // 16 in use; needs 8: low-small (2) alone is not enough, low-big (8) alone is.
  t.strictSame(names(chooseVictims(head, facts(jobs), now)), ['low-big']);
});

t.test('none when it would not help, when nothing is lower, or when the policy does not allow it', async (t) => {
  const head = queued('urgent', 'mid', 16);
  const jobs = [running('low', 'low', 8, 1), running('high', 'high', 8, 1), head];
  t.strictSame(chooseVictims(head, facts(jobs), now), [], 'preempting low frees 8 of the 16 needed: nobody is preempted for nothing');
  const equal = queued('peer', 'low', 8);
  t.strictSame(chooseVictims(equal, facts([running('low', 'low', 16, 1), equal]), now), [], 'equal priority never preempts');
  const small = queued('urgent', 'high', 8);
  const full = [running('low', 'low', 16, 1), small];
  t.equal(chooseVictims(small, facts(full), now).length, 1, 'allowed: preempts');
  t.strictSame(chooseVictims(small, facts(full, [{ ...preempting, spec: { ...preempting.spec, preemption: {} } }]), now), [], 'not asked for: Never');
  t.strictSame(chooseVictims(small, facts(full, [preempting, { metadata: { name: 'strict' }, spec: { preemption: { withinNamespace: 'Never' } } }]), now), [], 'one policy says Never: Never');
  t.strictSame(chooseVictims(small, facts([running('low', 'low', 8, 1), small]), now), [], 'it fits already: no one is preempted');
  const two = [running('low-a', 'low', 8, 1), running('low-b', 'low', 8, 2), small];
  t.strictSame(names(chooseVictims(small, facts(two), now, (j) => j.metadata?.name === 'low-a')), ['low-b'], 'a job that could not be patched is spared: another is chosen');
});

t.test('GPU-hours at risk and the policy switch', async (t) => {
  t.equal(gpuHoursSinceCheckpoint(running('a', 'low', 4, 10, 2), now), 8, 'since the checkpoint');
  t.equal(gpuHoursSinceCheckpoint(running('b', 'low', 4, 3), now), 12, 'since the start without one');
  t.equal(gpuHoursSinceCheckpoint(queued('c', 'low', 4), now), 0, 'never started');
  const resumed = running('d', 'low', 4, 10);
  resumed.status!.conditions = [{ type: 'Queued', status: 'False', reason: 'Admitted', message: 'capacity available', lastTransitionTime: hoursAgo(1) }];
  t.equal(gpuHoursSinceCheckpoint(resumed, now), 4, 'since its release from the queue: time queued is no work');
  t.equal(preemptsWithinNamespace([]), false);
  t.equal(preemptsWithinNamespace([preempting]), true);
});
