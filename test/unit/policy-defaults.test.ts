// Defaults: the CRD's, then every matching policy's; mutate() returns them as a JSONPatch.
import t from 'tap';
import { parse } from 'yaml';
import { mutate, evaluate } from '../../policies/evaluate.ts';
import type { EvaluationInput } from '../../policies/evaluate.ts';
import { applyJsonPatch } from '../../policies/json-patch.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import type { TrainingPolicy, TrainingPolicySpec } from '../../api/trainingpolicy.ts';
import { testJobYaml } from '../fixtures/api-seed-examples.ts';

const policy = (name: string, spec: TrainingPolicySpec): TrainingPolicy => ({ metadata: { name }, spec });

function create(object: TrainingJob, policies: TrainingPolicy[], labels: Record<string, string> = {}): EvaluationInput {
  return { operation: 'CREATE', object, namespace: { name: 'team-a', labels }, policies, namespaceJobs: [] };
}

t.test('CRD defaults alone, as a patch that applies', async (t) => {
  const job = parse(testJobYaml) as TrainingJob;
  const m = mutate(create(job, []));
  t.strictSame(m.object.spec, { ...job.spec, framework: 'pytorch', backoffLimit: 3 });
  t.strictSame(m.patch, [
    { op: 'add', path: '/spec/framework', value: 'pytorch' },
    { op: 'add', path: '/spec/backoffLimit', value: 3 },
  ]);
  t.strictSame(applyJsonPatch(job, m.patch), m.object);
});

t.test('policy defaults fill only what is missing, nested objects key by key', async (t) => {
  const policies = [
    policy('platform', {
      defaults: {
        images: { pytorch: 'registry.example.com/ml/pytorch:2.3', jax: 'registry.example.com/ml/jax:0.4' },
        resources: { requests: { cpu: '2', memory: '8Gi' }, limits: { cpu: '4', memory: '16Gi' } },
        backoffLimit: 6,
        checkpoint: { deleteOnCompletion: true, storage: { size: '10Gi' } },
      },
    }),
  ];
  const job: TrainingJob = { metadata: { name: 'j' }, spec: { model: 'bert', framework: 'jax', resources: { requests: { cpu: '1' } } } };
  const m = mutate(create(job, policies));
  t.strictSame(m.object.spec, {
    model: 'bert', framework: 'jax', image: 'registry.example.com/ml/jax:0.4',
    resources: { requests: { cpu: '1', memory: '8Gi' }, limits: { cpu: '4', memory: '16Gi' } },
    numWorkers: 1, gpusPerWorker: 1, backoffLimit: 3,
    checkpoint: { deleteOnCompletion: true, storage: { size: '10Gi', type: 'pvc' }, enabled: true, frequency: 1 },
  }, 'backoffLimit 3 came from the CRD first, as the apiserver defaults before webhooks run');
  t.strictSame(applyJsonPatch(job, m.patch), m.object);
  t.ok(m.patch.every((op) => op.op === 'add'), 'defaults only add');
});

t.test('image per framework only when a model is given and no image', async (t) => {
  const policies = [policy('platform', { defaults: { images: { pytorch: 'p:1' } } })];
  t.equal(mutate(create({ spec: { model: 'm' } }, policies)).object.spec.image, 'p:1');
  t.equal(mutate(create({ spec: { model: 'm', image: 'mine:2' } }, policies)).object.spec.image, 'mine:2');
  t.equal(mutate(create({ spec: { model: 'm', framework: 'xgboost' } }, policies)).object.spec.image, undefined, 'no image for that framework');
  const old: TrainingJob = { metadata: { name: 'j' }, spec: { model: 'm', image: 'p:0' } };
  t.equal(mutate({ ...create({ metadata: { name: 'j' }, spec: { model: 'm' } }, policies), operation: 'UPDATE', oldObject: old }).object.spec.image, 'p:0', 'an update keeps the image it was created with');
});

t.test('only policies whose namespaceSelector matches apply, first by name wins', async (t) => {
  const policies = [
    policy('b-team', { namespaceSelector: { matchLabels: { team: 'a' } }, defaults: { images: { pytorch: 'team:1' } } }),
    policy('a-other', { namespaceSelector: { matchLabels: { team: 'b' } }, defaults: { images: { pytorch: 'other:1' } } }),
    policy('c-all', { defaults: { images: { pytorch: 'all:1' } } }),
  ];
  t.equal(mutate(create({ spec: { model: 'm' } }, policies, { team: 'a' })).object.spec.image, 'team:1');
  t.equal(mutate(create({ spec: { model: 'm' } }, policies, { team: 'c' })).object.spec.image, 'all:1');
  t.equal(mutate(create({ spec: { model: 'm' } }, [...policies].reverse(), { team: 'a' })).object.spec.image, 'team:1', 'list order does not matter');
});

t.test('nothing to patch: deletes, deleting objects, garbage', async (t) => {
  t.strictSame(mutate({ ...create({ spec: { model: 'm' } }, []), operation: 'DELETE' }).patch, []);
  t.strictSame(mutate(create({ metadata: { deletionTimestamp: '2025-01-01T00:00:00Z' }, spec: { model: 'm' } }, [])).patch, []);
  t.strictSame(mutate(create({ spec: 'nonsense' } as unknown as TrainingJob, [])).patch, []);
  const r = evaluate(create({ spec: 'nonsense' } as unknown as TrainingJob, []));
  t.strictSame(r.denials.map((d) => d.message), ['spec: "nonsense" must be of type object']);
});

t.test('dry-run gets the same verdict', async (t) => {
  const input = create({ spec: { model: 'm', gpusPerWorker: 4 } }, [policy('p', { gpuQuota: 2 })]);
  t.strictSame(evaluate({ ...input, dryRun: true }), evaluate(input));
});
