// Prometheus text from rank 0 → epoch, progress and metrics; comments, labels, NaN, missing metrics, huge input.
import t from 'tap';
import { formatProgress, parseTrainingProgress } from '../../controller/trainingjob/progress.ts';

const exposition = `# HELP training_epoch Current epoch.
# TYPE training_epoch gauge
training_epoch 9
# HELP training_total_epochs Epochs to train.
# TYPE training_total_epochs gauge
training_total_epochs 20
training_loss{rank="0",split="train"} 0.234 1698230000000
training_accuracy 8.76e-1
training_samples_per_second 1250.5
python_gc_objects_collected_total{generation="0"} 42
`;

t.test('all five metrics', async (t) => {
  t.same(parseTrainingProgress(exposition), { currentEpoch: 9, totalEpochs: 20, progress: 45, metrics: { loss: 0.234, accuracy: 0.876, throughput: 1250.5 } });
});

t.test('missing metrics are left out; no total means no percentage', async (t) => {
  t.same(parseTrainingProgress('training_epoch 3\n'), { currentEpoch: 3, metrics: {} });
  t.same(parseTrainingProgress(''), { metrics: {} });
  t.same(parseTrainingProgress('training_total_epochs 0\ntraining_epoch 1'), { currentEpoch: 1, metrics: {} }, 'zero total epochs is unknown');
});

t.test('NaN, Inf and malformed values are ignored; the first good sample wins', async (t) => {
  const text = [
    'training_loss NaN', 'training_loss +Inf', 'training_loss 0x10', 'training_loss', 'training_loss 0.5', 'training_loss 0.1',
    'training_accuracy{rank="0"', 'training_accuracy{note="a } b \\" c"} 0.75',
    'training_epoch -2', 'training_epoch 4.7', 'training_total_epochs 10',
  ].join('\n');
  t.same(parseTrainingProgress(text), { currentEpoch: 4, totalEpochs: 10, progress: 40, metrics: { loss: 0.5, accuracy: 0.75 } });
});

t.test('progress is a percentage, capped at 100', async (t) => {
  t.equal(parseTrainingProgress('training_epoch 1\ntraining_total_epochs 3').progress, 33.33);
  t.equal(parseTrainingProgress('training_epoch 30\ntraining_total_epochs 3').progress, 100);
  t.equal(formatProgress(33.33), '33%');
  t.equal(formatProgress(99.9), '99%', 'never 100% early');
  t.equal(formatProgress(150), '100%');
  t.equal(formatProgress(-1), '0%');
});

t.test('similar names, comments and OpenMetrics EOF are not confused', async (t) => {
  const text = '# training_epoch 99\ntraining_epoch_seconds 5\ntraining_epochs 7\n  training_epoch   2  \n# EOF\n';
  t.same(parseTrainingProgress(text), { currentEpoch: 2, metrics: {} });
});

t.test('huge input is cut off at the cap', async (t) => {
  const noise = '# padding\n'.repeat(200_000);
  t.same(parseTrainingProgress(`${noise}training_epoch 5\n`), { metrics: {} }, 'past 1 MiB nothing is read');
  t.same(parseTrainingProgress(`training_epoch 5\n${noise}`), { currentEpoch: 5, metrics: {} });
  t.same(parseTrainingProgress('training_epoch 5\ntraining_loss 1', 17), { currentEpoch: 5, metrics: {} }, 'custom cap');
  const started = performance.now();
  parseTrainingProgress(`training_loss{${'a="b",'.repeat(500_000)}} 1\n`.repeat(3));
  t.ok(performance.now() - started < 2000, 'a pathological label set stays fast');
});
