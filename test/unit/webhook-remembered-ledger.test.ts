// A replica reserves from the ledger it last read or wrote, without reading first; the conditional
// write still catches another replica's reservation, and refusals are decided on a fresh read. The
// mutating step reserves named jobs; the validating step reserves generateName ones.
import t from 'tap';
import type { TrainingJob, TrainingPolicy } from '../../api/index.ts';
import type { AdmissionRequest } from '../../webhook/admission-review.ts';
import { mutateTrainingJob, validateTrainingJob, type AdmitDeps } from '../../webhook/admit.ts';
import type { ClusterFacts } from '../../webhook/cluster-facts.ts';
import type { Ledger, LedgerStore } from '../../webhook/gpu-ledger.ts';
import { rememberingLedgerStore } from '../../webhook/ledger-store.ts';

/** One stored ledger with compare-and-swap on its version, as the ConfigMap behaves; counts requests. */
function storedLedger(): { store: LedgerStore; calls: string[] } {
  let stored: Ledger = { entries: {}, version: undefined };
  let rv = 0;
  const calls: string[] = [];
  const store: LedgerStore = {
    read: async () => (calls.push('read'), structuredClone(stored)),
    write: async (_ns, next, version) => {
      calls.push('write');
      if (version !== stored.version) return undefined;
      stored = { entries: structuredClone(next.entries), version: String(++rv), ...(next.listedAt ? { listedAt: next.listedAt } : {}) };
      return structuredClone(stored);
    },
  };
  return { store, calls };
}

const policy: TrainingPolicy = { apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name: 'q' }, spec: { gpuQuota: 4, overQuota: 'Reject' } };
// No job is ever listed: the reservations alone hold the quota.
const facts: ClusterFacts = {
  namespace: async (name) => ({ name, labels: {} }),
  policies: async () => [policy],
  jobs: async () => ({ items: [], resourceVersion: '1' }),
  resourceQuotas: async () => [],
  priorityClasses: async () => [],
    namespaces: async () => [],
  nodes: async () => [],
};
const deps = (ledger: LedgerStore): AdmitDeps => ({ facts, ledger, clock: { now: () => Date.parse('2026-11-23T01:00:00Z') } });
const create = (name: string): AdmissionRequest => ({
  uid: `uid-${name}`,
  kind: { group: 'ml.example.com', version: 'v1', kind: 'TrainingJob' },
  namespace: 'team',
  operation: 'CREATE',
  object: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, namespace: 'team' }, spec: { image: 'pytorch/pytorch:2.3.1', numWorkers: 1, gpusPerWorker: 2 } } satisfies TrainingJob,
});

t.test('one replica: after its first write, a create costs one conditional write and no read', async (t) => {
  const { store, calls } = storedLedger();
  const d = deps(rememberingLedgerStore(store));
  for (const name of ['a', 'b']) {
    calls.length = 0;
    t.ok((await mutateTrainingJob(d, create(name))).allowed, `${name} admitted`);
    t.same(calls, name === 'a' ? ['read', 'write'] : ['write'], `${name}: the ledger requests of the whole create`);
  }
  t.same(Object.keys((await store.read('team')).entries).sort(), ['a', 'b'], 'the mutating step reserved both');
});

t.test('a dry run is decided on a fresh read and writes nothing', async (t) => {
  const { store, calls } = storedLedger();
  const d = deps(rememberingLedgerStore(store));
  t.ok((await mutateTrainingJob(d, create('a'))).allowed);
  calls.length = 0;
  t.ok((await mutateTrainingJob(d, { ...create('b'), dryRun: true })).allowed);
  t.same(calls, ['read']);
});

t.test('a generateName create: the mutating step reserves nothing, the validating step reserves under the generated name', async (t) => {
  const { store, calls } = storedLedger();
  const d = deps(rememberingLedgerStore(store));
  const unnamed = create('');
  const object = unnamed.object as TrainingJob;
  const mutated = await mutateTrainingJob(d, { ...unnamed, object: { ...object, metadata: { namespace: 'team', generateName: 'sweep-' } } });
  t.ok(mutated.allowed);
  t.same(calls, ['read'], 'read for the decision, no write without a ledger key');
  calls.length = 0;
  t.ok((await validateTrainingJob(d, { ...unnamed, object: { ...object, metadata: { namespace: 'team', name: 'sweep-x7k2p', generateName: 'sweep-' } } })).allowed);
  t.same(calls, ['write']);
  t.same(Object.keys((await store.read('team')).entries), ['sweep-x7k2p']);
});

t.test('where a policy queues, a Queue decision from a remembered ledger is made again on a fresh read', async (t) => {
  const { store, calls } = storedLedger();
  const queueing: TrainingPolicy = { ...policy, spec: { ...policy.spec, overQuota: 'Queue' } };
  const d: AdmitDeps = { ...deps(rememberingLedgerStore(store)), facts: { ...facts, policies: async () => [queueing] } };
  for (const name of ['a', 'b']) t.ok((await mutateTrainingJob(d, create(name))).allowed);
  calls.length = 0;
  const third = await mutateTrainingJob(d, create('c'));
  t.same(calls, ['read'], 'a fresh read, and no reservation for a queued job');
  t.ok(third.allowed, 'admitted suspended');
  t.match(third.warnings?.[0], /queued until capacity frees up/);
});

t.test('a refusal by the mutating step from a remembered ledger is checked on a fresh read first', async (t) => {
  const { store, calls } = storedLedger();
  const d = deps(rememberingLedgerStore(store));
  for (const name of ['x', 'y']) t.ok((await mutateTrainingJob(d, create(name))).allowed);
  const fresh = await store.read('team');
  t.ok(await store.write('team', { entries: {} }, fresh.version), 'another replica freed the quota');
  calls.length = 0;
  t.ok((await mutateTrainingJob(d, create('z'))).allowed);
  t.same(calls, ['read', 'write']);
});

t.test('two replicas: a stale remembered ledger loses the write, and the fresh read sees the other reservations', async (t) => {
  const { store, calls } = storedLedger();
  const one = deps(rememberingLedgerStore(store));
  const two = deps(rememberingLedgerStore(store));
  t.ok((await mutateTrainingJob(one, create('a'))).allowed, 'replica one reserved a');
  t.ok((await mutateTrainingJob(two, create('b'))).allowed, 'replica two reserved b after it');
  calls.length = 0;
  const verdict = await mutateTrainingJob(one, create('mine'));
  t.notOk(verdict.allowed, 'quota 4 is held by a and b');
  t.match(verdict.denials?.[0]?.message, /GPU quota 4: 4 in use, this job asks 2/);
  t.same(calls, ['write', 'read'], 'the write at the stale version failed; the decision was made again on a fresh read');
});

t.test('the validating step alone: a refusal from a remembered ledger is checked on a fresh read first', async (t) => {
  const { store, calls } = storedLedger();
  const remembering = rememberingLedgerStore(store);
  const d = deps(remembering);
  for (const name of ['x', 'y']) t.ok((await validateTrainingJob(d, create(name))).allowed);
  // Another replica freed the quota (its reservations expired or their jobs went away) after our last write.
  const fresh = await store.read('team');
  t.ok(await store.write('team', { entries: {} }, fresh.version));
  calls.length = 0;
  t.ok((await validateTrainingJob(d, create('z'))).allowed, 'admitted: the refusal the remembered ledger suggested was not trusted');
  t.same(calls, ['read', 'write']);
});
