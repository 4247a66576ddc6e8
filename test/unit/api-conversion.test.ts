// v1alpha1 ⇄ v1 conversion is lossless both ways, on the seed example and on many generated objects.
import t from 'tap';
import { parse } from 'yaml';
import { toV1, toV1alpha1, convertTrainingJob, phaseFromState, stateFromPhase, ConversionError } from '../../api/conversion.ts';
import { V1_FIELDS_ANNOTATION, V1ALPHA1_FIELDS_ANNOTATION } from '../../api/annotations.ts';
import { TRAININGJOB_STATES } from '../../api/trainingjob-v1.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import type { TrainingJobV1alpha1 } from '../../api/trainingjob-v1alpha1.ts';
import { pytorchMnistYaml } from '../fixtures/api-seed-examples.ts';

// Small seeded PRNG so a failure names a reproducible seed.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function gen(seed: number) {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const maybe = <T>(f: () => T, p = 0.5): T | undefined => (r() < p ? f() : undefined);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const compact = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const str = () => pick(['a', 'resnet50', 'imagenet', '/ckpt', 'x y', '', 'ünïcode']);
  const meta = () => compact({
    name: `job-${seed}`, namespace: 'team-a', uid: maybe(() => `uid-${seed}`), generation: maybe(() => int(1, 9)),
    labels: maybe(() => ({ team: 'a' })), annotations: maybe(() => ({ note: 'kept' })),
  });
  const resources = () => compact({ requests: maybe(() => ({ cpu: pick(['2', '500m', 4]), memory: '4Gi' })), limits: maybe(() => ({ 'nvidia.com/gpu': 1 })) });
  const condition = () => ({ type: 'Ready', status: pick(['True', 'False']), reason: 'Because', message: 'm', lastTransitionTime: '2025-01-01T00:00:00Z' });
  const workerStatuses = () => [{ workerId: 0, podName: 'p-0', phase: 'Running', restartCount: int(0, 3) }];
  const v1Value = () => pick<unknown>([0.001, 1e-5, 1e21, 32, -0.5, 'adam', '0.5', '1e-3', '1.0', 'true', true, false, null, [1, 'a'], { nested: { x: 1 } }, '', '007']);

  const v1 = (): TrainingJob => {
    const checkpoint = maybe(() => compact({
      enabled: maybe(() => r() < 0.5), frequency: maybe(() => int(1, 5)), deleteOnCompletion: maybe(() => r() < 0.5),
      storage: maybe(() => compact({ type: maybe(() => pick(['pvc', 's3', 'gcs'])), path: maybe(str), size: maybe(() => '10Gi'), storageClass: maybe(() => 'fast') })),
    }));
    const hyperparameters = maybe(() => {
      const hp: Record<string, unknown> = {};
      for (const k of ['learningRate', 'batchSize', 'epochs', 'optimizer', 'momentum', 'flag', 'odd']) if (r() < 0.5) hp[k] = k === 'learningRate' || k === 'batchSize' || k === 'epochs' ? pick<unknown>([0.01, 64, 10, 3, 1e-7, 'abc', 2.5]) : v1Value();
      return hp;
    });
    const spec = compact({
      model: maybe(str), dataset: maybe(str), framework: maybe(() => pick(['pytorch', 'tensorflow', 'xgboost', 'jax'])),
      image: maybe(() => 'pytorch/pytorch:2.1'), command: maybe(() => ['python', 'train.py']), args: maybe(() => (r() < 0.2 ? [] : ['--x'])),
      numWorkers: maybe(() => int(1, 32)), gpusPerWorker: maybe(() => int(0, 8)), hyperparameters, checkpoint, resources: maybe(resources),
      backoffLimit: maybe(() => int(0, 10)), restartPolicy: maybe(() => pick(['OnFailure', 'Never'])), dataVolume: maybe(() => ({ claimName: 'data', readOnly: true })),
      networking: maybe(() => compact({ backend: maybe(() => 'nccl'), masterPort: maybe(() => 29500) })), nodeSelector: maybe(() => ({ gpu: 'a100' })),
      tolerations: maybe(() => [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]), suspend: maybe(() => r() < 0.5), ttlSecondsAfterFinished: maybe(() => int(0, 100)),
    });
    const status = maybe(() => compact({
      state: maybe(() => pick([...TRAININGJOB_STATES, 'Weird'])), progress: maybe(() => '45%'), currentEpoch: maybe(() => int(0, 10)), totalEpochs: maybe(() => 10),
      metrics: maybe(() => ({ loss: 0.5, accuracy: 0.9 })), workers: maybe(() => ({ active: 2 })), workerStatuses: maybe(workerStatuses), allocatedGPUs: maybe(() => 4),
      restarts: maybe(() => 1), lastCheckpoint: maybe(() => 'epoch-3'), startTime: maybe(() => '2025-01-01T00:00:00Z'), completionTime: maybe(() => '2025-01-02T00:00:00Z'),
      conditions: maybe(() => [condition()]), observedGeneration: maybe(() => 2), source: maybe(() => ({ repository: 'repo', path: 'jobs/a.yaml', revision: 'main@sha1:abc' })),
    }));
    return compact({ apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: meta(), spec, status }) as unknown as TrainingJob;
  };

  const v1alpha1 = (): TrainingJobV1alpha1 => {
    const hyperparameters = maybe(() => {
      const hp: Record<string, unknown> = {};
      for (const k of ['learningRate', 'batchSize', 'epochs', 'optimizer', 'momentum']) if (r() < 0.6) hp[k] = pick(['0.001', '1e-3', '1.0', 'abc', 'true', '007', '-0', ' 1', '', '64', '2.5', '1E5', 'adam', '[1]', 'null']);
      return hp;
    });
    const spec = compact({
      framework: maybe(() => pick(['pytorch', 'tensorflow', 'xgboost']), 0.9), image: maybe(() => 'pytorch/pytorch:1.12.0-cuda11.3', 0.9),
      command: maybe(() => ['python', '/workspace/train.py']), args: maybe(() => ['--epochs=10']), workers: maybe(() => int(1, 100)), gpuPerWorker: maybe(() => int(0, 8)),
      resources: maybe(resources), dataVolume: maybe(() => ({ claimName: 'data' })), checkpointDir: maybe(str), checkpointInterval: maybe(() => int(1, 9)),
      hyperparameters, restartPolicy: maybe(() => pick(['OnFailure', 'Never'])),
    });
    const status = maybe(() => compact({
      phase: maybe(() => pick(['Pending', 'Running', 'Succeeded', 'Failed', 'Weird'])), startTime: maybe(() => '2025-01-01T00:00:00Z'),
      completionTime: maybe(() => '2025-01-02T00:00:00Z'), workerStatuses: maybe(workerStatuses), conditions: maybe(() => [condition()]), observedGeneration: maybe(() => 3),
    }));
    return compact({ apiVersion: 'ml.example.com/v1alpha1', kind: 'TrainingJob', metadata: meta(), spec, status }) as unknown as TrainingJobV1alpha1;
  };
  return { v1, v1alpha1 };
}

const RUNS = 2000;

t.test('v1 → v1alpha1 → v1 gives back the same object', async (t) => {
  let failures = 0;
  for (let seed = 1; seed <= RUNS && failures < 3; seed++) {
    const x = gen(seed).v1();
    const back = toV1(toV1alpha1(x));
    if (JSON.stringify(sortKeys(back)) !== JSON.stringify(sortKeys(x))) { failures++; t.strictSame(back, x, `seed ${seed}`); }
  }
  t.equal(failures, 0, `${RUNS} generated v1 objects round-trip`);
});

t.test('v1alpha1 → v1 → v1alpha1 gives back the same object', async (t) => {
  let failures = 0;
  for (let seed = 1; seed <= RUNS && failures < 3; seed++) {
    const a = gen(seed).v1alpha1();
    const back = toV1alpha1(toV1(a));
    if (JSON.stringify(sortKeys(back)) !== JSON.stringify(sortKeys(a))) { failures++; t.strictSame(back, a, `seed ${seed}`); }
  }
  t.equal(failures, 0, `${RUNS} generated v1alpha1 objects round-trip`);
});

t.test('longer chains stay stable', async (t) => {
  for (let seed = 1; seed <= 300; seed++) {
    const a = gen(seed).v1alpha1();
    const v = toV1(a);
    t.strictSame(sortKeys(toV1(toV1alpha1(v))), sortKeys(v), `seed ${seed}: v1 read back unchanged`);
  }
});

// The webhook converts objects it parsed itself, without a defensive deep copy: input and output must stay apart.
t.test('conversion leaves its input untouched and shares no object with it', async (t) => {
  const objectsOf = (v: unknown, into = new Set<object>()): Set<object> => {
    if (v && typeof v === 'object') {
      into.add(v);
      for (const x of Object.values(v)) objectsOf(x, into);
    }
    return into;
  };
  for (let seed = 1; seed <= 300; seed++) {
    for (const [input, convert] of [[gen(seed).v1(), toV1alpha1], [gen(seed).v1alpha1(), toV1], [toV1alpha1(gen(seed).v1()), toV1]] as Array<[object, (x: never) => object]>) {
      const before = JSON.stringify(input);
      const out = convert(input as never);
      t.equal(JSON.stringify(input), before, `seed ${seed}: input unchanged`);
      const shared = [...objectsOf(out)].filter((o) => objectsOf(input).has(o));
      if (shared.length) t.fail(`seed ${seed}: output shares ${shared.length} object(s) with the input`);
    }
  }
});

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

t.test('seed 002 pytorch-mnist converts to the v1 fields it means', async (t) => {
  const alpha = parse(pytorchMnistYaml) as TrainingJobV1alpha1;
  const v1 = toV1(alpha);
  t.equal(v1.apiVersion, 'ml.example.com/v1');
  t.strictSame(v1.spec, {
    framework: 'pytorch',
    image: 'pytorch/pytorch:1.12.0-cuda11.3',
    command: ['python', '-m', 'torch.distributed.run', '--nproc_per_node=1', '/workspace/train_mnist.py'],
    args: ['--epochs=10', '--batch-size=64'],
    numWorkers: 2,
    gpusPerWorker: 0,
    hyperparameters: { learningRate: 0.001, optimizer: 'adam' },
    resources: { requests: { cpu: '2', memory: '4Gi' }, limits: { cpu: '2', memory: '4Gi' } },
  });
  t.equal(v1.metadata?.annotations, undefined, 'nothing is lost, so no annotation');
  t.strictSame(toV1alpha1(v1), alpha);
});

t.test('v1-only fields ride in the v1-fields annotation', async (t) => {
  const v1: TrainingJob = {
    apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: 'j' },
    spec: { model: 'resnet50', dataset: 'imagenet', numWorkers: 2, backoffLimit: 3, checkpoint: { enabled: true, frequency: 2, storage: { type: 'pvc', path: '/ckpt' } } },
    status: { state: 'Restarting', progress: '10%' },
  };
  const alpha = toV1alpha1(v1);
  t.strictSame(alpha.spec, { workers: 2, checkpointDir: '/ckpt', checkpointInterval: 2 });
  t.strictSame(alpha.status, { phase: 'Running' });
  t.strictSame(JSON.parse(alpha.metadata?.annotations?.[V1_FIELDS_ANNOTATION] ?? '{}'), {
    spec: { model: 'resnet50', dataset: 'imagenet', backoffLimit: 3, checkpoint: { enabled: true, storage: { type: 'pvc' } } },
    status: { state: 'Restarting', progress: '10%' },
  });
  t.strictSame(toV1(alpha), v1);
});

t.test('an edit made in v1alpha1 wins over the saved v1 value', async (t) => {
  const v1: TrainingJob = { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: 'j' }, spec: { image: 'i', hyperparameters: { momentum: '0.9', tag: 'x' } }, status: { state: 'Queued' } };
  const alpha = toV1alpha1(v1);
  t.equal(alpha.spec.hyperparameters?.momentum, '0.9');
  alpha.spec.hyperparameters = { momentum: '0.95', tag: 'x' };
  alpha.status = { phase: 'Running' };
  const back = toV1(alpha);
  t.strictSame(back.spec.hyperparameters, { momentum: 0.95, tag: 'x' }, 'the new momentum, not the saved string');
  t.equal(back.status?.state, 'Running', 'the new phase, not the saved Queued');
});

t.test('v1alpha1 spellings survive a trip through v1', async (t) => {
  const alpha: TrainingJobV1alpha1 = { apiVersion: 'ml.example.com/v1alpha1', kind: 'TrainingJob', spec: { framework: 'pytorch', image: 'i', command: ['c'], workers: 1, hyperparameters: { learningRate: '1e-3', epochs: 'ten' } } };
  const v1 = toV1(alpha);
  t.strictSame(v1.spec.hyperparameters, { learningRate: 0.001 }, 'a typed key that is not a number stays out of v1');
  t.strictSame(JSON.parse(v1.metadata?.annotations?.[V1ALPHA1_FIELDS_ANNOTATION] ?? '{}'), { spec: { hyperparameters: { learningRate: '1e-3', epochs: 'ten' } } });
  t.strictSame(toV1alpha1(v1), alpha);
});

t.test('phase and state map onto each other', async (t) => {
  t.equal(phaseFromState('Completed'), 'Succeeded');
  t.equal(phaseFromState('Initializing'), 'Pending');
  t.equal(phaseFromState('Restarting'), 'Running');
  t.equal(stateFromPhase('Succeeded'), 'Completed');
  t.equal(stateFromPhase('nonsense'), undefined);
});

t.test('convertTrainingJob dispatches by apiVersion and names what it cannot do', async (t) => {
  const alpha = parse(pytorchMnistYaml) as Record<string, unknown>;
  t.equal(convertTrainingJob(alpha, 'ml.example.com/v1').apiVersion, 'ml.example.com/v1');
  t.strictSame(convertTrainingJob(alpha, 'ml.example.com/v1alpha1'), alpha);
  const err = (() => { try { convertTrainingJob(alpha, 'ml.example.com/v2'); } catch (e) { return e; } })();
  t.type(err, ConversionError);
  t.equal((err as ConversionError).code, 'UnsupportedConversion');
  t.equal((err as Error).message, 'cannot convert TrainingJob from ml.example.com/v1alpha1 to ml.example.com/v2');
});
