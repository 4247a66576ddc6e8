// trainingjob logs' pure parts: lines split across chunks keep one prefix each; only the current restart
// generation's live pods are shown, one per rank, in rank order.
import t from 'tap';
import type { V1Pod } from '@kubernetes/client-node';
import { currentWorkers, linePrefixer } from '../../cli/logs.ts';

t.test('each line gets the prefix once, however the chunks split it', async (t) => {
  let out = '';
  const p = linePrefixer('[rank 1] ', (s) => {
    out += s;
  });
  p.push('first li');
  p.push('ne\nsecond\n\nthi');
  t.equal(out, '[rank 1] first line\n[rank 1] second\n[rank 1] \n', 'complete lines only, an empty line kept');
  p.end();
  t.equal(out, '[rank 1] first line\n[rank 1] second\n[rank 1] \n[rank 1] thi\n', 'end flushes the unterminated last line');
  p.end();
  t.equal(out, '[rank 1] first line\n[rank 1] second\n[rank 1] \n[rank 1] thi\n', 'a second end adds nothing');
});

const pod = (name: string, rank: number | undefined, restart: number, opts: { deleting?: boolean; created?: string } = {}): V1Pod => ({
  metadata: {
    name,
    labels: { 'ml.example.com/restart': String(restart), ...(rank === undefined ? {} : { 'batch.kubernetes.io/job-completion-index': String(rank) }) },
    ...(opts.deleting ? { deletionTimestamp: new Date('2026-12-06T00:00:00Z') } : {}),
    creationTimestamp: new Date(opts.created ?? '2026-12-06T00:00:00Z'),
  },
});

t.test('the newest generation, one live pod per rank, by rank', async (t) => {
  const got = currentWorkers([
    pod('g0-r0', 0, 0), pod('g0-r1', 1, 0),
    pod('g1-r1', 1, 1), pod('g1-r0-old', 0, 1, { created: '2026-12-06T00:00:01Z' }), pod('g1-r0-new', 0, 1, { created: '2026-12-06T00:00:05Z' }),
    pod('g1-r2-gone', 2, 1, { deleting: true }), pod('no-rank', undefined, 1),
  ]);
  t.same(got.map((w) => [w.rank, w.pod.metadata?.name]), [[0, 'g1-r0-new'], [1, 'g1-r1']]);
  t.same(currentWorkers([]), [], 'no pods: nothing');
});
