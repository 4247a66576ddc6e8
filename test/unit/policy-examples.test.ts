// policies/examples/*.yaml are valid TrainingPolicies, admit every seed example, and give the messages they promise.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse } from 'yaml';
import { evaluate } from '../../policies/evaluate.ts';
import { validateTrainingPolicy } from '../../policies/trainingpolicy-validation.ts';
import { toV1 } from '../../api/conversion.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import type { TrainingJobV1alpha1 } from '../../api/trainingjob-v1alpha1.ts';
import type { TrainingPolicy } from '../../api/trainingpolicy.ts';
import { pytorchMnistYaml, resnetSimpleYaml, testJobYaml } from '../fixtures/api-seed-examples.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'policies', 'examples');
const policies: TrainingPolicy[] = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()
  .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJSON() as TrainingPolicy));

const teamA = { name: 'team-a', labels: { 'ml.example.com/team': 'team-a' } };
const teamB = { name: 'team-b', labels: { 'ml.example.com/team': 'team-b' } };

t.test('every example policy is valid', async (t) => {
  t.ok(policies.length >= 3);
  for (const p of policies) {
    const r = validateTrainingPolicy(p);
    t.strictSame(r.denials, [], `${p.metadata?.name}: no denials`);
    t.strictSame(r.warnings, [], `${p.metadata?.name}: no warnings`);
  }
});

t.test('every seed example is admitted under the example policies', async (t) => {
  const seeds: Array<[string, TrainingJob]> = [
    ['test-job', parse(testJobYaml) as TrainingJob],
    ['resnet-simple', parse(resnetSimpleYaml) as TrainingJob],
    ['pytorch-mnist', toV1(parse(pytorchMnistYaml) as TrainingJobV1alpha1)],
  ];
  for (const [name, job] of seeds) {
    const r = evaluate({ operation: 'CREATE', object: job, namespace: { name: job.metadata?.namespace ?? 'default' }, policies, namespaceJobs: [] });
    t.strictSame(r.denials, [], `${name} admitted`);
    t.ok(r.object.spec.image, `${name} has an image after defaults`);
  }
});

t.test('team-a: the quota message of DESIGN and the required label', async (t) => {
  const running = (name: string, numWorkers: number, gpusPerWorker: number): TrainingJob =>
    ({ metadata: { name, namespace: 'team-a', labels: { team: 'a' } }, spec: { model: 'resnet50', numWorkers, gpusPerWorker }, status: { state: 'Running' } });
  const job: TrainingJob = { metadata: { name: 'big', namespace: 'team-a' }, spec: { model: 'resnet50', numWorkers: 4, gpusPerWorker: 2 } };
  const r = evaluate({ operation: 'CREATE', object: job, namespace: teamA, policies, namespaceJobs: [running('a', 4, 2), running('b', 2, 2)] });
  t.strictSame(r.denials.map((d) => d.message), [
    'metadata.labels.team: required label is missing (TrainingPolicy team-a)',
    'namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)',
  ]);
  t.equal(r.object.spec.image, 'pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime');
  t.equal(r.object.spec.backoffLimit, 3, 'the CRD default shadows team-a\'s backoffLimit 5 once the apiserver has applied it');
});

t.test('team-b: frameworks, images, and the queue', async (t) => {
  const tf: TrainingJob = { metadata: { name: 'tf', namespace: 'team-b' }, spec: { model: 'bert', framework: 'tensorflow' } };
  t.strictSame(evaluate({ operation: 'CREATE', object: tf, namespace: teamB, policies, namespaceJobs: [] }).denials.map((d) => d.message), [
    'spec.image: "tensorflow/tensorflow:2.16.1-gpu" is not allowed; allowed: "registry.example.com/ml/*", "pytorch/pytorch:2.*", "nvcr.io/nvidia/jax:*" (TrainingPolicy team-b)',
    'spec.framework: "tensorflow" is not allowed; allowed: "pytorch", "jax" (TrainingPolicy team-b)',
  ]);
  const running: TrainingJob = { metadata: { name: 'running', namespace: 'team-b' }, spec: { model: 'llama', numWorkers: 1, gpusPerWorker: 4 }, status: { state: 'Running' } };
  const big: TrainingJob = { metadata: { name: 'big', namespace: 'team-b' }, spec: { model: 'llama', numWorkers: 2, gpusPerWorker: 4 } };
  const r = evaluate({ operation: 'CREATE', object: big, namespace: teamB, policies, namespaceJobs: [running] });
  t.ok(r.allowed);
  t.equal(r.queue?.message, 'namespace team-b GPU quota 8: 4 in use, this job asks 8 (2 workers × 4 GPUs)');
  t.equal(r.object.spec.suspend, true);
  t.strictSame(r.object.spec.checkpoint, { frequency: 2, deleteOnCompletion: true, storage: { size: '10Gi', type: 'pvc' }, enabled: true });
  const never: TrainingJob = { metadata: { name: 'never', namespace: 'team-b' }, spec: { model: 'llama', numWorkers: 2, gpusPerWorker: 8 } };
  t.strictSame(evaluate({ operation: 'CREATE', object: never, namespace: teamB, policies, namespaceJobs: [] }).denials.map((d) => d.message), [
    'namespace team-b GPU quota 8: this job asks 16 (2 workers × 8 GPUs), more than the limit allows even with nothing else running',
  ], 'a job larger than the quota itself is refused, not queued forever');
});
