// Termination-message checkpoint reports: both spellings, last line wins, garbage tolerated.
import t from 'tap';
import { formatCheckpointReport, latestCheckpoint, parseCheckpointReport } from '../../controller/trainingjob/checkpoint-report.ts';

t.test('JSON line and key=value line', async (t) => {
  t.same(parseCheckpointReport('{"checkpoint":"s3://ckpt/run/epoch-3","epoch":3}'), { checkpoint: 's3://ckpt/run/epoch-3', epoch: 3 });
  t.same(parseCheckpointReport('checkpoint=/checkpoints/epoch-3.pt epoch=3'), { checkpoint: '/checkpoints/epoch-3.pt', epoch: 3 });
  t.same(parseCheckpointReport('checkpoint=gs://b/p'), { checkpoint: 'gs://b/p' });
  t.same(parseCheckpointReport('INFO saved checkpoint=/c/e7.pt epoch=7 in 3.2s'), { checkpoint: '/c/e7.pt', epoch: 7 }, 'a log line works too');
});

t.test('the last valid line wins, other lines are ignored', async (t) => {
  const log = [
    'epoch 1 loss=0.9',
    '{"checkpoint":"/c/e1.pt","epoch":1}',
    'Traceback (most recent call last):',
    'checkpoint=/c/e2.pt epoch=2',
    'RuntimeError: CUDA out of memory',
    '{"not json',
    '',
  ].join('\n');
  t.same(parseCheckpointReport(log), { checkpoint: '/c/e2.pt', epoch: 2 });
  t.same(parseCheckpointReport('checkpoint=/c/e1\r\ncheckpoint=/c/e2\r\n'), { checkpoint: '/c/e2' });
});

t.test('garbage yields nothing', async (t) => {
  for (const bad of [undefined, '', 'Segmentation fault', '{}', '[]', 'null', '{"checkpoint":3}', '{"checkpoint":""}', 'checkpoint=', 'checkpoint = x',
    `{"checkpoint":"${'a'.repeat(2000)}"}`, '{"checkpoint":"has space"}', '{"checkpoint":"tab\\there"}', '{"checkpoint":"bell\\u0007"}', '\u0000\u0001\u0002']) {
    t.equal(parseCheckpointReport(bad), undefined, JSON.stringify(bad)?.slice(0, 40) ?? 'undefined');
  }
});

t.test('a bad epoch is dropped, the checkpoint kept', async (t) => {
  t.same(parseCheckpointReport('{"checkpoint":"/c/x","epoch":-1}'), { checkpoint: '/c/x' });
  t.same(parseCheckpointReport('{"checkpoint":"/c/x","epoch":1.5}'), { checkpoint: '/c/x' });
  t.same(parseCheckpointReport('{"checkpoint":"/c/x","epoch":"3"}'), { checkpoint: '/c/x', epoch: 3 });
  t.same(parseCheckpointReport('checkpoint=/c/x epoch=three'), { checkpoint: '/c/x' });
});

t.test('huge messages: only the tail is read', async (t) => {
  const huge = `${'checkpoint=/c/early\n'.repeat(1)}${'x'.repeat(5_000_000)}\ncheckpoint=/c/late epoch=9`;
  t.same(parseCheckpointReport(huge), { checkpoint: '/c/late', epoch: 9 });
  t.equal(parseCheckpointReport(`checkpoint=/c/early\n${'y'.repeat(100_000)}`), undefined, 'a report buried before the tail is not found');
});

t.test('format round-trips', async (t) => {
  for (const r of [{ checkpoint: 's3://a/b', epoch: 0 }, { checkpoint: '/c/d' }]) t.same(parseCheckpointReport(formatCheckpointReport(r)), r);
});

t.test('latestCheckpoint: highest epoch, then lowest rank', async (t) => {
  t.equal(latestCheckpoint([]), undefined);
  t.same(latestCheckpoint([{ rank: 0, report: { checkpoint: 'a', epoch: 2 } }, { rank: 3, report: { checkpoint: 'b', epoch: 5 } }]), { checkpoint: 'b', epoch: 5 });
  t.same(latestCheckpoint([{ rank: 2, report: { checkpoint: 'a' } }, { rank: 0, report: { checkpoint: 'b' } }]), { checkpoint: 'b' });
  t.same(latestCheckpoint([{ rank: 1, report: { checkpoint: 'a' } }, { rank: 0, report: { checkpoint: 'b', epoch: 0 } }]), { checkpoint: 'b', epoch: 0 }, 'any epoch beats none');
});
