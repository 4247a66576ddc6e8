// The AdmissionReview stream of the admission benchmark and the cluster facts it is judged
// against, both deterministic (seeded), so the bench process, the webhook child process and OPA's
// data file all see the same thing.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { TrainingJob, TrainingPolicy } from '../api/index.ts';
import type { NamespaceInfo, ResourceQuotaInfo } from '../policies/index.ts';
import type { ClusterFacts } from '../webhook/cluster-facts.ts';
import type { LedgerStore } from '../webhook/gpu-ledger.ts';
import type { AdmitDeps } from '../webhook/admit.ts';
import { keyedLock } from '../webhook/keyed-lock.ts';
import { systemClock } from '../clock/clock.ts';
import { seededRandom } from './stats.ts';

const repoRoot = join(import.meta.dirname, '..');

export interface BenchFacts {
  namespaces: Record<string, NamespaceInfo>;
  policies: TrainingPolicy[];
  jobs: Record<string, TrainingJob[]>;
}

function existing(namespace: string, name: string, workers: number, gpus: number, state?: string, labels: Record<string, string> = {}): TrainingJob {
  return {
    apiVersion: 'ml.example.com/v1',
    kind: 'TrainingJob',
    metadata: { name, namespace, labels },
    spec: { model: 'resnet50', framework: 'pytorch', image: 'pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime', numWorkers: workers, gpusPerWorker: gpus },
    ...(state ? { status: { state } } : {}),
  } as TrainingJob;
}

/** The example policies (platform-defaults, team-a, team-b) and a few jobs already running. */
export function benchFacts(): BenchFacts {
  const dir = join(repoRoot, 'policies', 'examples');
  const policies = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as TrainingPolicy));
  const nsLabels = (name: string, extra: Record<string, string> = {}): NamespaceInfo => ({ name, labels: { 'kubernetes.io/metadata.name': name, ...extra } });
  return {
    namespaces: {
      'team-a': nsLabels('team-a', { 'ml.example.com/team': 'team-a' }),
      'team-b': nsLabels('team-b', { 'ml.example.com/team': 'team-b' }),
      'ml-jobs': nsLabels('ml-jobs'),
    },
    policies,
    jobs: {
      // 8 of 16 GPUs in use, 2 of 10 concurrent jobs; a finished job does not count.
      'team-a': [existing('team-a', 'bert-base', 2, 2, 'Running', { team: 'team-a' }), existing('team-a', 'gpt-small', 1, 4, 'Running', { team: 'team-a' }), existing('team-a', 'old', 8, 1, 'Completed', { team: 'team-a' })],
      // 4 of 8 GPUs, 1 of 4 concurrent jobs.
      'team-b': [existing('team-b', 'llama-ft', 2, 2, 'Running')],
      'ml-jobs': [existing('ml-jobs', 'mnist', 1, 1, 'Running'), existing('ml-jobs', 'cifar', 2, 1, 'Pending'), existing('ml-jobs', 'imagenet', 4, 2, 'Running')],
    },
  };
}

/** ClusterFacts served from memory: the micro benchmark measures the webhook, not the apiserver. */
export function memoryFacts(f: BenchFacts): ClusterFacts {
  const noQuotas: ResourceQuotaInfo[] = [];
  return {
    namespace: async (name) => f.namespaces[name] ?? { name, labels: { 'kubernetes.io/metadata.name': name } },
    policies: async () => f.policies,
    jobs: async (ns) => ({ items: f.jobs[ns] ?? [], resourceVersion: '1' }),
    resourceQuotas: async () => noQuotas,
    priorityClasses: async () => [],
    namespaces: async () => [],
    nodes: async () => [],
  };
}

/**
 * A ledger that accepts every reservation and keeps none, so the stream stays stationary (each
 * review meets the same usage). The real ledger is a ConfigMap read + conditional write on the
 * apiserver; the apiserver-create suite measures that.
 */
export const discardingLedger: LedgerStore = {
  read: async () => ({ entries: {}, version: '1' }),
  write: async () => ({ entries: {}, version: '1' }),
};

export function memoryDeps(f: BenchFacts): AdmitDeps {
  return { facts: memoryFacts(f), ledger: discardingLedger, clock: systemClock, lock: keyedLock() };
}


export interface StreamItem {
  /** What the job is, e.g. `valid` or `invalid: gpusPerWorker 12`. */
  label: string;
  valid: boolean;
  /** The AdmissionReview as JSON text, as it goes over the wire. */
  body: string;
}

type Case = { label: string; valid: boolean; namespace: string; weight: number; spec: (r: () => number) => Record<string, unknown>; labels?: Record<string, string> };

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const common = (r: () => number): Record<string, unknown> => ({
  dataset: pick(r, ['imagenet', 'cifar10', 'wikitext-103', 'c4']),
  hyperparameters: { learningRate: pick(r, [0.001, 0.0003, 0.01]), batchSize: pick(r, [32, 64, 128]), epochs: pick(r, [10, 50, 90]) },
  checkpoint: { enabled: true, frequency: 1, storage: { type: 'pvc', path: '/checkpoints', size: '10Gi' } },
  resources: { requests: { cpu: '4', memory: '16Gi' }, limits: { cpu: '8', memory: '32Gi' } },
  backoffLimit: 3,
});

// About two thirds valid, one third invalid, across three namespaces and every rule.
const cases: Case[] = [
  { label: 'valid (ml-jobs, model + framework)', valid: true, namespace: 'ml-jobs', weight: 20, spec: (r) => ({ model: pick(r, ['resnet50', 'bert-large', 'vit-b16']), framework: pick(r, ['pytorch', 'tensorflow', 'jax']), numWorkers: 1 + Math.floor(r() * 8), gpusPerWorker: 1 + Math.floor(r() * 4) }) },
  { label: 'valid (ml-jobs, image)', valid: true, namespace: 'ml-jobs', weight: 12, spec: (r) => ({ image: pick(r, ['nvcr.io/nvidia/pytorch:24.04-py3', 'registry.example.com/ml/trainer:1.4.2', 'tensorflow/tensorflow:2.16.1-gpu']), framework: pick(r, ['pytorch', 'tensorflow']), numWorkers: 1 + Math.floor(r() * 4), gpusPerWorker: Math.floor(r() * 3), command: ['python', 'train.py'], args: ['--epochs=10'] }) },
  { label: 'valid (team-a, within quota)', valid: true, namespace: 'team-a', weight: 18, labels: { team: 'team-a' }, spec: (r) => ({ model: 'bert-base', framework: 'pytorch', numWorkers: 1 + Math.floor(r() * 4), gpusPerWorker: pick(r, [1, 2]) }) },
  { label: 'valid (team-b, pytorch 2)', valid: true, namespace: 'team-b', weight: 15, spec: (r) => ({ image: 'pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime', framework: 'pytorch', numWorkers: pick(r, [1, 2]), gpusPerWorker: pick(r, [1, 2]) }) },
  { label: 'invalid: gpusPerWorker 12', valid: false, namespace: 'ml-jobs', weight: 4, spec: () => ({ model: 'resnet50', numWorkers: 2, gpusPerWorker: 12 }) },
  { label: 'invalid: numWorkers 40 (and 480 GPUs)', valid: false, namespace: 'ml-jobs', weight: 3, spec: () => ({ model: 'resnet50', numWorkers: 40, gpusPerWorker: 12 }) },
  { label: 'invalid: numWorkers 0', valid: false, namespace: 'ml-jobs', weight: 2, spec: () => ({ model: 'resnet50', numWorkers: 0, gpusPerWorker: 1 }) },
  { label: 'invalid: neither image nor model', valid: false, namespace: 'ml-jobs', weight: 4, spec: () => ({ numWorkers: 1, gpusPerWorker: 1 }) },
  { label: 'invalid: image not allowed', valid: false, namespace: 'ml-jobs', weight: 5, spec: (r) => ({ image: pick(r, ['docker.io/someone/miner:1.0', 'quay.io/x/trainer:2', 'registry.example.com/mlx/trainer:1']), numWorkers: 1, gpusPerWorker: 1 }) },
  { label: 'invalid: team-a label missing', valid: false, namespace: 'team-a', weight: 4, spec: () => ({ model: 'bert-base', numWorkers: 1, gpusPerWorker: 1 }) },
  { label: 'invalid: team-a over quota (16 GPUs)', valid: false, namespace: 'team-a', weight: 5, labels: { team: 'team-a' }, spec: () => ({ model: 'bert-base', numWorkers: 4, gpusPerWorker: 4 }) },
  { label: 'invalid: team-a over maxWorkers 8', valid: false, namespace: 'team-a', weight: 2, labels: { team: 'team-a' }, spec: () => ({ model: 'bert-base', numWorkers: 10, gpusPerWorker: 0 }) },
  { label: 'invalid: team-b framework not allowed', valid: false, namespace: 'team-b', weight: 3, spec: () => ({ image: 'registry.example.com/ml/tf:2.16', framework: 'tensorflow', numWorkers: 1, gpusPerWorker: 1 }) },
  // team-b's policy says overQuota: Queue: the job is admitted suspended, not refused.
  { label: 'queued: team-b over quota (8 GPUs), admitted suspended', valid: true, namespace: 'team-b', weight: 3, spec: () => ({ image: 'pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime', numWorkers: 3, gpusPerWorker: 2 }) },
];

/** `count` CREATE AdmissionReviews for TrainingJob v1, each with its own uid and name. */
export function admissionStream(count: number, seed = 42): StreamItem[] {
  const r = seededRandom(seed);
  const total = cases.reduce((s, c) => s + c.weight, 0);
  const out: StreamItem[] = [];
  for (let i = 0; i < count; i++) {
    let x = r() * total;
    const c = cases.find((k) => (x -= k.weight) < 0) ?? cases[0]!;
    const name = `job-${i.toString(36)}-${Math.floor(r() * 1e6).toString(36)}`;
    const uid = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
    const object = {
      apiVersion: 'ml.example.com/v1',
      kind: 'TrainingJob',
      metadata: { name, namespace: c.namespace, labels: { app: 'training', ...c.labels }, annotations: { 'ml.example.com/source': 'bench' } },
      spec: { ...common(r), ...c.spec(r) },
    };
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid,
        kind: { group: 'ml.example.com', version: 'v1', kind: 'TrainingJob' },
        resource: { group: 'ml.example.com', version: 'v1', resource: 'trainingjobs' },
        requestKind: { group: 'ml.example.com', version: 'v1', kind: 'TrainingJob' },
        requestResource: { group: 'ml.example.com', version: 'v1', resource: 'trainingjobs' },
        name,
        namespace: c.namespace,
        operation: 'CREATE',
        userInfo: { username: 'system:serviceaccount:ml-jobs:gitops', groups: ['system:serviceaccounts', 'system:authenticated'] },
        object,
        oldObject: null,
        dryRun: false,
        options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions', fieldManager: 'trainingjob-gitops' },
      },
    };
    out.push({ label: c.label, valid: c.valid, body: JSON.stringify(review) });
  }
  return out;
}
