// Semantic rules beyond the schema: image or model, requests ≤ limits, immutable fields, hyperparameters,
// and what matching policies add (images, frameworks, labels, per-job limits).
import t from 'tap';
import { validate } from '../../policies/evaluate.ts';
import type { EvaluationInput } from '../../policies/evaluate.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import type { TrainingPolicy, TrainingPolicySpec } from '../../api/trainingpolicy.ts';

const policy = (name: string, spec: TrainingPolicySpec): TrainingPolicy => ({ apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name }, spec });
const job = (spec: TrainingJob['spec'], labels?: Record<string, string>): TrainingJob => ({ apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: 'j', namespace: 'team-a', ...(labels ? { labels } : {}) }, spec });

function create(object: TrainingJob, policies: TrainingPolicy[] = []): EvaluationInput {
  return { operation: 'CREATE', object, namespace: { name: 'team-a', labels: { 'ml.example.com/team': 'team-a' } }, policies, namespaceJobs: [] };
}
const messages = (input: EvaluationInput) => validate(input).denials.map((d) => d.message);

t.test('either image or model', async (t) => {
  t.strictSame(validate(create(job({ dataset: 'imagenet' }))).denials, [{ field: 'spec', message: 'spec: either image or model must be given', reason: 'ImageOrModelRequired' }]);
  t.strictSame(messages(create(job({ image: 'pytorch/pytorch:2.1' }))), []);
  t.strictSame(messages(create(job({ model: 'resnet50' }))), []);
});

t.test('requests never above limits, compared as quantities', async (t) => {
  const r = validate(create(job({ model: 'm', resources: { requests: { cpu: '8', memory: '1Gi', 'nvidia.com/gpu': 2 }, limits: { cpu: '4000m', memory: '1024Mi', 'nvidia.com/gpu': 1 } } })));
  t.strictSame(r.denials, [
    { field: 'spec.resources.requests.cpu', message: 'spec.resources.requests.cpu: 8 must be less than or equal to the limit 4000m', reason: 'RequestsExceedLimits' },
    { field: 'spec.resources.requests[nvidia.com/gpu]', message: 'spec.resources.requests[nvidia.com/gpu]: 2 must be less than or equal to the limit 1', reason: 'RequestsExceedLimits' },
  ]);
});

t.test('hyperparameter sanity', async (t) => {
  t.strictSame(messages(create(job({ model: 'm', hyperparameters: { learningRate: 0, batchSize: 0, epochs: -3 } }))), [
    'spec.hyperparameters.learningRate: 0 must be greater than 0 and at most 10',
    'spec.hyperparameters.batchSize: 0 must be greater than 0',
    'spec.hyperparameters.epochs: -3 must be greater than 0',
  ]);
  t.strictSame(messages(create(job({ model: 'm', hyperparameters: { learningRate: 11 } }))), ['spec.hyperparameters.learningRate: 11 must be greater than 0 and at most 10']);
  const high = validate(create(job({ model: 'm', hyperparameters: { learningRate: 5 } })));
  t.ok(high.allowed);
  t.strictSame(high.warnings, ['spec.hyperparameters.learningRate: 5 is unusually high for a learning rate']);
});

t.test('immutable fields name old and new value', async (t) => {
  const before = job({ model: 'resnet50', dataset: 'imagenet', numWorkers: 2, gpusPerWorker: 1, image: 'pytorch/pytorch:2.1', framework: 'pytorch', suspend: false });
  const after = job({ model: 'resnet101', dataset: 'imagenet', numWorkers: 4, gpusPerWorker: 1, framework: 'jax', suspend: true });
  const r = validate({ ...create(after), operation: 'UPDATE', oldObject: before });
  t.strictSame(r.denials, [
    { field: 'spec.model', message: 'spec.model: field is immutable (was "resnet50", now "resnet101")', reason: 'ImmutableField' },
    { field: 'spec.numWorkers', message: 'spec.numWorkers: field is immutable (was 2, now 4)', reason: 'ImmutableField' },
    { field: 'spec.image', message: 'spec.image: field is immutable (was "pytorch/pytorch:2.1", now unset)', reason: 'ImmutableField' },
    { field: 'spec.framework', message: 'spec.framework: field is immutable (was "pytorch", now "jax")', reason: 'ImmutableField' },
  ]);
  const resumed = validate({ ...create({ ...before, spec: { ...before.spec, suspend: true, checkpoint: { frequency: 3 }, ttlSecondsAfterFinished: 60 } }), operation: 'UPDATE', oldObject: before });
  t.ok(resumed.allowed, 'suspend, checkpoint and ttl may change');
});

t.test('allowed images: prefixes and globs, every listing policy must agree', async (t) => {
  const policies = [
    policy('platform', { allowedImages: ['registry.example.com/ml/', 'pytorch/pytorch:*'] }),
    policy('team-a', { namespaceSelector: { matchLabels: { 'ml.example.com/team': 'team-a' } }, allowedImages: ['pytorch/pytorch:2.*'] }),
    policy('team-b', { namespaceSelector: { matchLabels: { 'ml.example.com/team': 'team-b' } }, allowedImages: ['nothing/'] }),
  ];
  t.strictSame(messages(create(job({ image: 'pytorch/pytorch:2.1.0-cuda12.1' }), policies)), []);
  t.strictSame(messages(create(job({ image: 'pytorch/pytorch:1.12.0-cuda11.3' }), policies)), [
    'spec.image: "pytorch/pytorch:1.12.0-cuda11.3" is not allowed; allowed: "pytorch/pytorch:2.*" (TrainingPolicy team-a)',
  ]);
  t.strictSame(messages(create(job({ image: 'docker.io/evil/miner:1' }), policies)), [
    'spec.image: "docker.io/evil/miner:1" is not allowed; allowed: "registry.example.com/ml/", "pytorch/pytorch:*" (TrainingPolicy platform)',
    'spec.image: "docker.io/evil/miner:1" is not allowed; allowed: "pytorch/pytorch:2.*" (TrainingPolicy team-a)',
  ]);
  t.equal(validate(create(job({ image: 'docker.io/evil/miner:1' }), policies)).denials[0]?.reason, 'ImageNotAllowed');
});

t.test('allowed frameworks use the defaulted framework', async (t) => {
  const policies = [policy('team-a', { allowedFrameworks: ['tensorflow'] })];
  t.strictSame(validate(create(job({ model: 'm' }), policies)).denials, [
    { field: 'spec.framework', message: 'spec.framework: "pytorch" is not allowed; allowed: "tensorflow" (TrainingPolicy team-a)', reason: 'FrameworkNotAllowed' },
  ]);
});

t.test('required labels, on create and on update', async (t) => {
  const policies = [policy('costs', { requiredLabels: ['team', 'cost-center'] }), policy('team-a', { requiredLabels: ['team'] })];
  t.strictSame(validate(create(job({ model: 'm' }, { team: 'a' }), policies)).denials, [
    { field: 'metadata.labels[cost-center]', message: 'metadata.labels[cost-center]: required label is missing (TrainingPolicy costs)', reason: 'MissingRequiredLabel' },
  ]);
  const old = job({ model: 'm' }, { team: 'a', 'cost-center': 'x' });
  t.strictSame(messages({ ...create(job({ model: 'm' }, { 'cost-center': 'x' }), policies), operation: 'UPDATE', oldObject: old }), [
    'metadata.labels.team: required label is missing (TrainingPolicy costs)',
  ]);
});

t.test('the strictest max workers and max GPUs per job', async (t) => {
  const policies = [policy('a', { maxWorkers: 8, maxGPUsPerJob: 16 }), policy('b', { maxWorkers: 4, maxGPUsPerJob: 8 })];
  t.strictSame(validate(create(job({ model: 'm', numWorkers: 6, gpusPerWorker: 2 }), policies)).denials, [
    { field: 'spec.numWorkers', message: 'spec.numWorkers: 6 exceeds the maximum 4 (TrainingPolicy b)', reason: 'TooManyWorkers' },
    { field: 'spec', message: 'spec: 12 GPUs (6 workers × 2 GPUs) exceeds the maximum 8 GPUs per job (TrainingPolicy b)', reason: 'TooManyGPUs' },
  ]);
  t.ok(validate(create(job({ model: 'm', numWorkers: 4, gpusPerWorker: 2 }), policies)).allowed);
});

t.test('creation-time policy rules do not block later updates', async (t) => {
  const policies = [policy('a', { allowedImages: ['registry.example.com/'], maxWorkers: 2 })];
  const old = job({ image: 'pytorch/pytorch:2.1', numWorkers: 4 });
  const r = validate({ ...create({ ...old, spec: { ...old.spec, suspend: true } }, policies), operation: 'UPDATE', oldObject: old });
  t.ok(r.allowed, 'suspending a job admitted before the policy tightened');
});

t.test('deletion, DELETE and CONNECT are never blocked', async (t) => {
  const deleting: TrainingJob = { metadata: { name: 'j', deletionTimestamp: '2025-01-01T00:00:00Z', finalizers: [] }, spec: { numWorkers: 99 } };
  t.ok(validate({ ...create(deleting), operation: 'UPDATE', oldObject: deleting }).allowed);
  t.ok(validate({ ...create(job({})), operation: 'DELETE' }).allowed);
});

t.test('warnings for legal but risky choices', async (t) => {
  const r = validate(create(job({ image: 'pytorch/pytorch', gpusPerWorker: 2, checkpoint: { enabled: false }, resources: { limits: { 'nvidia.com/gpu': 1 } } })));
  t.ok(r.allowed);
  t.strictSame(r.warnings, [
    'spec.image: "pytorch/pytorch" has no fixed tag; a restart may run different code',
    'spec.checkpoint.enabled: false; a restart starts training again from the first epoch',
    'spec.resources.limits[nvidia.com/gpu]: 1 is replaced by spec.gpusPerWorker (2)',
  ]);
});
