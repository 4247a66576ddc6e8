// The reservation rules that keep quota race-free while job lists come from the apiserver's cache.
import t from 'tap';
import { pendingJobs, pendingTtlMs, withReservation, type Ledger } from '../../webhook/gpu-ledger.ts';
import { gpuDemand, type TrainingJob } from '../../api/index.ts';

const now = Date.parse('2026-11-23T01:00:00Z');
const at = (msAgo: number) => new Date(now - msAgo).toISOString();
const job = (name: string): TrainingJob => ({ apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, namespace: 'ns' }, spec: { image: 'x', numWorkers: 2, gpusPerWorker: 2 } });
const ledger: Ledger = {
  version: '10',
  entries: {
    listed: { gpus: 4, workers: 2, at: at(1000) },
    inflight: { gpus: 8, workers: 4, at: at(2000) },
    expired: { gpus: 8, workers: 1, at: at(pendingTtlMs + 1) },
    self: { gpus: 2, workers: 1, at: at(500) },
  },
};

t.test('pending: live reservations whose job is not listed, except the job being admitted', async (t) => {
  const pending = pendingJobs(ledger, 'ns', [job('listed')], now, 'self');
  t.same(pending.map((j) => j.metadata?.name), ['inflight']);
  t.equal(gpuDemand(pending[0]!), 8, 'counts the reserved GPUs');
});

t.test('a reservation dropped because its job is listed moves listedAt to that list', async (t) => {
  const next = withReservation(ledger, [job('listed')], '42', now, 'self', { gpus: 2, workers: 1, at: at(0) });
  t.same(Object.keys(next.entries).sort(), ['inflight', 'self'], 'expired and listed dropped, self replaced');
  t.equal(next.listedAt, '42');
});

t.test('nothing dropped because of a list: listedAt stays', async (t) => {
  const next = withReservation({ ...ledger, listedAt: '7' }, [], '99', now, 'new', { gpus: 1, workers: 1, at: at(0) });
  t.equal(next.listedAt, '7', 'only expiry dropped entries, so readers need no fresher list');
  t.ok(next.entries.listed && next.entries.inflight && next.entries.new);
});

t.test('a release from the queue counts until a list shows a version after the queued one it released', async (t) => {
  const queued = (name: string, rv: string): TrainingJob => ({ ...job(name), metadata: { name, namespace: 'ns', resourceVersion: rv, annotations: { 'ml.example.com/queued': 'over quota' } }, spec: { ...job(name).spec, suspend: true } });
  const released: Ledger = { version: '9', entries: { urgent: { gpus: 8, workers: 4, at: at(1_000), queuedVersion: '41' } } };
  t.strictSame(pendingJobs(released, 'ns', [queued('urgent', '41')], now, 'other').map((j) => j.metadata?.name), ['urgent'], 'the list predates the release: the job shows queued, its reservation holds the GPUs');
  t.strictSame(pendingJobs(released, 'ns', [{ ...job('urgent'), metadata: { name: 'urgent', namespace: 'ns', resourceVersion: '42' } }], now, 'other'), [], 'the list shows it started: the job itself counts, once');
  t.strictSame(pendingJobs(released, 'ns', [queued('urgent', '38')], now, 'other').map((j) => j.metadata?.name), ['urgent'], 'a lagging list shows an even older queued version: the reservation still holds the GPUs');
  t.strictSame(pendingJobs(released, 'ns', [{ ...job('urgent'), metadata: { name: 'urgent', namespace: 'ns', resourceVersion: '30' } }], now, 'other'), [], 'an older version from before a preemption shows it running: the job counts itself, not twice');
  t.ok(withReservation(released, [{ ...job('urgent'), metadata: { name: 'urgent', namespace: 'ns', resourceVersion: '30' } }], '35', now, 'other', { gpus: 1, workers: 1, at: at(0) }).entries.urgent, 'but that older list is no proof of the release: a writer keeps the reservation');
  t.strictSame(pendingJobs(released, 'ns', [queued('urgent', '57')], now, 'other'), [], 'queued again since the release (preempted): it holds nothing');
  t.strictSame(Object.keys(withReservation(released, [queued('urgent', '41')], '50', now, 'other', { gpus: 1, workers: 1, at: at(0) }).entries).sort(), ['other', 'urgent'], 'a writer keeps the release reservation too');
});
