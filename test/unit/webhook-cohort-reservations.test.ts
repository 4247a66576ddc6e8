// A job released onto borrowed GPUs counts what other cohort members' admissions reserved and their lists do not show
// yet: a lender's job admitted a moment ago on another replica takes its quota back before a borrower can take it.
import t from 'tap';
import { BORROWED_ANNOTATION, QUEUED_ANNOTATION, type TrainingJob, type TrainingPolicy } from '../../api/index.ts';
import type { AdmissionRequest } from '../../webhook/admission-review.ts';
import { mutateTrainingJob, type AdmitDeps } from '../../webhook/admit.ts';
import type { ClusterFacts } from '../../webhook/cluster-facts.ts';
import type { Ledger, LedgerStore } from '../../webhook/gpu-ledger.ts';

const NOW = Date.parse('2026-12-07T10:00:00Z');
const policy = (name: string, team: string, gpuQuota: number): TrainingPolicy => ({
  apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name },
  spec: { namespaceSelector: { matchLabels: { team } }, gpuQuota, overQuota: 'Queue', cohort: 'research' },
});
const namespaces = [{ name: 'lend', labels: { team: 'lend' } }, { name: 'borrow', labels: { team: 'borrow' } }];

/** Ledgers by namespace; `lend` holds a reservation for a 4-GPU job its list does not show yet. */
function ledgers(lenderReserved: boolean): LedgerStore {
  const stored = new Map<string, Ledger>([['lend', { entries: lenderReserved ? { 'lend-job': { gpus: 4, workers: 1, at: new Date(NOW - 1000).toISOString() } } : {}, version: '7' }]]);
  return {
    read: async (ns) => structuredClone(stored.get(ns) ?? { entries: {}, version: undefined }),
    write: async (ns, next, version) => {
      if (version !== stored.get(ns)?.version) return undefined;
      const ledger = { ...next, version: String(Number(version ?? 0) + 1) };
      stored.set(ns, ledger);
      return structuredClone(ledger);
    },
  };
}

const facts: ClusterFacts = {
  namespace: async (name) => namespaces.find((n) => n.name === name) ?? { name, labels: {} },
  policies: async () => [policy('lend', 'lend', 4), policy('borrow', 'borrow', 0)],
  jobs: async () => ({ items: [], resourceVersion: '10' }),
  resourceQuotas: async () => [],
  priorityClasses: async () => [],
  namespaces: async () => namespaces,
  nodes: async () => [],
};

const queued: TrainingJob = {
  apiVersion: 'ml.example.com/v1', kind: 'TrainingJob',
  metadata: { name: 'b', namespace: 'borrow', resourceVersion: '9', annotations: { [QUEUED_ANNOTATION]: 'over quota' } },
  spec: { image: 'pytorch/pytorch:2.3.1', numWorkers: 1, gpusPerWorker: 4, suspend: true },
};
const release: AdmissionRequest = {
  uid: 'uid-release', kind: { group: 'ml.example.com', version: 'v1', kind: 'TrainingJob' }, namespace: 'borrow', operation: 'UPDATE',
  oldObject: queued,
  object: { ...queued, metadata: { ...queued.metadata, annotations: { [BORROWED_ANNOTATION]: '4' } }, spec: { ...queued.spec, suspend: false } },
};

t.test('the lender\'s reserved job counts: the borrower stays queued; without it, the borrower starts', async (t) => {
  const deps = (reserved: boolean): AdmitDeps => ({ facts, ledger: ledgers(reserved), clock: { now: () => NOW } });
  const refused = await mutateTrainingJob(deps(true), release);
  t.equal(refused.allowed, false, 'refused: the lender\'s 4 GPUs are taken by its reserved job');
  t.match(JSON.stringify(refused), /cohort research: 0 idle/);
  t.equal((await mutateTrainingJob(deps(false), release)).allowed, true, 'the same release with nothing reserved starts on 4 borrowed GPUs');
});
