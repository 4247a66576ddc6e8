// Schema validation (ajv strict, compiled from the CRD schema): the seeds pass, mistakes read like kubectl.
import t from 'tap';
import { parse } from 'yaml';
import { validateAgainstSchema } from '../../policies/schema-validation.ts';
import { fieldPath } from '../../policies/schema-messages.ts';
import { evaluate } from '../../policies/evaluate.ts';
import type { EvaluationInput } from '../../policies/evaluate.ts';
import { toV1 } from '../../api/conversion.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import type { TrainingJobV1alpha1 } from '../../api/trainingjob-v1alpha1.ts';
import { pytorchMnistYaml, resnetSimpleYaml, testJobYaml } from '../fixtures/api-seed-examples.ts';

function create(object: TrainingJob, namespace = object.metadata?.namespace ?? 'default'): EvaluationInput {
  return { operation: 'CREATE', object, namespace: { name: namespace }, policies: [], namespaceJobs: [] };
}

t.test('every seed example passes', async (t) => {
  const seeds: Array<[string, TrainingJob]> = [
    ['seed 001 test-job (v1)', parse(testJobYaml) as TrainingJob],
    ['seed 000 resnet-simple (v1)', parse(resnetSimpleYaml) as TrainingJob],
    ['seed 002 pytorch-mnist (v1alpha1 converted)', toV1(parse(pytorchMnistYaml) as TrainingJobV1alpha1)],
  ];
  for (const [name, job] of seeds) {
    t.strictSame(validateAgainstSchema('TrainingJob/v1', job), [], `${name}: schema`);
    const verdict = evaluate(create(job));
    t.ok(verdict.allowed, `${name}: admitted`);
    t.strictSame(verdict.denials, [], `${name}: no denials`);
  }
  t.strictSame(validateAgainstSchema('TrainingJob/v1alpha1', parse(pytorchMnistYaml)), [], 'pytorch-mnist is valid v1alpha1 as written');
});

t.test('one message per mistake, all at once, naming field and limit', async (t) => {
  const job = parse(`
apiVersion: ml.example.com/v1
kind: TrainingJob
metadata: {name: bad, namespace: team-a}
spec:
  model: resnet50
  numWorkers: 40
  gpusPerWorker: 12
  backoffLimit: -1
  framework: mxnet
  learningRate: 0.1
  checkpoint: {frequency: 0, storage: {type: nfs}}
  resources: {limits: {nvidia.com/gpu: lots}}
  tolerations: [{effect: Sometimes}]
  dataVolume: {readOnly: true}
  hyperparameters: {batchSize: "64"}
`) as TrainingJob;
  t.strictSame(validateAgainstSchema('TrainingJob/v1', job).map((v) => v.message), [
    'spec.learningRate: unknown field',
    'spec.framework: Unsupported value: "mxnet": supported values: "pytorch", "tensorflow", "xgboost", "jax"',
    'spec.numWorkers: 40 exceeds the maximum 32',
    'spec.gpusPerWorker: 12 exceeds the maximum 8',
    'spec.hyperparameters.batchSize: "64" must be of type integer',
    'spec.checkpoint.frequency: 0 is less than the minimum 1',
    'spec.checkpoint.storage.type: Unsupported value: "nfs": supported values: "pvc", "s3", "gcs"',
    'spec.resources.limits[nvidia.com/gpu]: "lots" is not a valid quantity (e.g. 500m, 4Gi, 2)',
    'spec.backoffLimit: -1 is less than the minimum 0',
    'spec.dataVolume.claimName: Required value',
    'spec.tolerations[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
  ]);
});

t.test('reasons are CamelCase for metrics', async (t) => {
  const reasons = validateAgainstSchema('TrainingJob/v1', { spec: { gpusPerWorker: 12, numWorkers: 0, framework: 'x', foo: 1, image: '' } }).map((v) => [v.field, v.reason]);
  t.strictSame(reasons, [
    ['spec.foo', 'FieldValueUnknown'],
    ['spec.framework', 'FieldValueNotSupported'],
    ['spec.image', 'FieldValueInvalid'],
    ['spec.numWorkers', 'FieldValueTooSmall'],
    ['spec.gpusPerWorker', 'FieldValueTooLarge'],
  ]);
});

t.test('the exact message of DESIGN reaches the denial list', async (t) => {
  const verdict = evaluate(create({ metadata: { name: 'big' }, spec: { model: 'resnet50', gpusPerWorker: 12 } }));
  t.notOk(verdict.allowed);
  t.strictSame(verdict.denials, [{ field: 'spec.gpusPerWorker', message: 'spec.gpusPerWorker: 12 exceeds the maximum 8', reason: 'FieldValueTooLarge' }]);
});

t.test('missing spec, wrong types at the top, unknown status fields', async (t) => {
  t.strictSame(validateAgainstSchema('TrainingJob/v1', {}).map((v) => v.message), ['spec: Required value']);
  t.strictSame(validateAgainstSchema('TrainingJob/v1', { spec: 'x' }).map((v) => v.message), ['spec: "x" must be of type object']);
  t.strictSame(validateAgainstSchema('TrainingJob/v1', { spec: {}, status: { state: 'Dancing', startTime: 'noon' } }).map((v) => v.message), [
    'status.state: Unsupported value: "Dancing": supported values: "Pending", "Queued", "Initializing", "Running", "Restarting", "Suspended", "Completed", "Failed"',
    'status.startTime: "noon" is not a valid date-time',
  ]);
  t.strictSame(validateAgainstSchema('TrainingJob/v1', { spec: { hyperparameters: { anything: { goes: [1] } } } }), [], 'free-form hyperparameters');
});

t.test('v1alpha1 keeps its own limits', async (t) => {
  t.strictSame(validateAgainstSchema('TrainingJob/v1alpha1', { spec: { framework: 'jax', image: 'i', command: [], workers: 101, hyperparameters: { lr: 0.1 } } }).map((v) => v.message), [
    'spec.framework: Unsupported value: "jax": supported values: "pytorch", "tensorflow", "xgboost"',
    'spec.command: must have at least 1 item',
    'spec.workers: 101 exceeds the maximum 100',
    'spec.hyperparameters.lr: 0.1 must be of type string',
  ]);
});

t.test('field paths the kubectl way', async (t) => {
  t.equal(fieldPath('/spec/resources/limits/nvidia.com~1gpu'), 'spec.resources.limits[nvidia.com/gpu]');
  t.equal(fieldPath('/spec/tolerations/0/effect'), 'spec.tolerations[0].effect');
  t.equal(fieldPath('', 'spec'), 'spec');
  t.equal(fieldPath(''), '<root>');
});
