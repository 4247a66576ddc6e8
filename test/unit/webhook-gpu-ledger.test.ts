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
