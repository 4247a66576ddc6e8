// TrainingJob conversion (the webhook's /convert) in-process: the apiserver asks for v1 → v1alpha1 about twice per
// create and delete (its watch cache per served version), on the same event loop as admission. A deep copy of the
// same object runs side by side as the yardstick, so the ratio holds on a noisy machine.
import { convertTrainingJob } from '../api/conversion.ts';
import type { JsonObject } from '../api/json.ts';
import type { Suite } from './run.ts';

const rounds = Number(process.env.BENCH_CONVERSION_ROUNDS ?? 7);
const perRound = Number(process.env.BENCH_CONVERSION_N ?? 20_000);

/** A job as the apiserver stores it: four managers' managedFields, defaults filled in, a running status. */
function storedJob(): JsonObject {
  const managedFields = Array.from({ length: 4 }, (_, i) => ({
    manager: `manager-${i}`, operation: 'Apply', apiVersion: 'ml.example.com/v1', time: '2026-11-23T00:00:00Z', fieldsType: 'FieldsV1',
    fieldsV1: { 'f:metadata': { 'f:labels': { 'f:team': {} }, 'f:annotations': { 'f:note': {} } }, 'f:spec': Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`f:field${k}`, { '.': {} }])) },
  }));
  return {
    apiVersion: 'ml.example.com/v1', kind: 'TrainingJob',
    metadata: { name: 'resnet', namespace: 'team-a', uid: 'u-1', resourceVersion: '42', generation: 1, labels: { team: 'nlp' }, annotations: { note: 'x' }, managedFields },
    spec: {
      framework: 'pytorch', model: 'resnet50', dataset: 'imagenet', image: 'pytorch/pytorch:2.4.0-cuda12.1', numWorkers: 4, gpusPerWorker: 2,
      hyperparameters: { learningRate: 0.001, epochs: 3, batchSize: 64 }, checkpoint: { enabled: true, frequency: 1, storage: { type: 'pvc', size: '10Gi' } },
      resources: { requests: { cpu: '2', memory: '4Gi' }, limits: { cpu: '2', memory: '4Gi' } }, backoffLimit: 3,
    },
    status: { state: 'Running', progress: 50, currentEpoch: 2, workers: { active: 4, succeeded: 0, failed: 0 } },
  };
}

function perCallUs(fn: () => unknown): number {
  const t = performance.now();
  for (let i = 0; i < perRound; i++) fn();
  return ((performance.now() - t) / perRound) * 1000;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export const conversionSuite: Suite = {
  name: 'conversion',
  async run() {
    const v1 = storedJob();
    const alpha = convertTrainingJob(v1, 'ml.example.com/v1alpha1');
    const rows = { down: [] as number[], up: [] as number[], clone: [] as number[] };
    // Interleaved rounds, so drift in machine load hits every row alike.
    for (let r = 0; r < rounds; r++) {
      rows.down.push(perCallUs(() => convertTrainingJob(v1, 'ml.example.com/v1alpha1')));
      rows.up.push(perCallUs(() => convertTrainingJob(alpha, 'ml.example.com/v1')));
      rows.clone.push(perCallUs(() => structuredClone(v1)));
    }
    const clone = median(rows.clone);
    const line = (what: string, xs: number[]): string => `| ${what} | ${median(xs).toFixed(1)} µs | ${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} µs | ${(median(xs) / clone).toFixed(2)}× |`;
    return [
      '### TrainingJob conversion, in-process',
      '',
      `A stored v1 job (four managedFields entries, ${JSON.stringify(v1).length} bytes of JSON); ${rounds} interleaved rounds of ${perRound.toLocaleString('en-US')} calls each.`,
      '',
      '| call | median per call | range of round medians | vs one deep copy |',
      '|---|---|---|---|',
      line('v1 → v1alpha1 (what the apiserver asks for)', rows.down),
      line('v1alpha1 → v1', rows.up),
      line('`structuredClone` of the same v1 job (yardstick)', rows.clone),
      '',
    ].join('\n');
  },
};
