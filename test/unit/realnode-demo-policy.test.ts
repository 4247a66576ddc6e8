// The real node's platform-defaults policy and the demo's jobs: the policy is valid, and every demo job
// (both kinds of node) is admitted by the policies it meets, with the node's worker image filled in.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { evaluate } from '../../policies/evaluate.ts';
import { validateTrainingPolicy } from '../../policies/trainingpolicy-validation.ts';
import { realNodeDefaultsPolicy } from '../../localcluster/realnode/node-policies.ts';
import { demoJobYaml, firstPushFiles } from '../../cli/demo-jobs.ts';
import { trainerJobYaml } from '../../cli/demo-training.ts';
import { repoRoot } from '../../localcluster/binaries.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import type { TrainingPolicy } from '../../api/trainingpolicy.ts';

const worker = 'trainingjob.local/smoke-worker:0123456789ab';
const defaults = realNodeDefaultsPolicy(worker) as unknown as TrainingPolicy;
const example = (name: string) => parse(readFileSync(join(repoRoot, 'policies', 'examples', `${name}.yaml`), 'utf8')) as TrainingPolicy;
const teamA = example('team-a');
const namespace = { name: 'team-a', labels: { 'ml.example.com/team': 'team-a' } };
// What each cluster has: the real node's defaults there, the example's on kwok.
const policiesOn = { real: [defaults, teamA], kwok: [example('platform-defaults'), teamA] };
const admit = (yaml: string, node: keyof typeof policiesOn = 'real') => evaluate({ operation: 'CREATE', object: parse(yaml) as TrainingJob, namespace, policies: policiesOn[node], namespaceJobs: [] });

t.test('the real node\'s platform-defaults is a valid policy that trusts only the node\'s own images', async (t) => {
  const r = validateTrainingPolicy(defaults);
  t.same(r.denials, [], 'no denials');
  t.ok(r.allowed);
  t.equal(defaults.metadata?.name, 'platform-defaults', 'it takes the example\'s place');
  t.same(Object.values(defaults.spec.defaults?.images ?? {}), [worker, worker, worker, worker], 'every framework defaults to the worker image');
  const other = admit(demoJobYaml('real', { name: 'x', model: 'm', workers: 1, gpus: 1, seconds: 5 }).replace('spec:\n', 'spec:\n  image: pytorch/pytorch:2.3.1\n'));
  t.notOk(other.allowed, 'a registry image is refused: the node cannot pull it');
  const trainer = admit(demoJobYaml('real', { name: 'x', model: 'm', workers: 1, gpus: 0, seconds: 5 }).replace('spec:\n', 'spec:\n  image: trainingjob.local/trainer:0123456789ab\n'));
  t.ok(trainer.allowed, 'the trainer image is trusted', { denials: trainer.denials });
  t.match(other.denials.map((d) => d.message).join('\n'), /pytorch\/pytorch:2\.3\.1/);
});

t.test('the demo\'s jobs are admitted on either node; on the real node with the worker image and small requests', async (t) => {
  const job = (node: 'real' | 'kwok') => demoJobYaml(node, { name: 'bert', model: 'bert-large', workers: 4, gpus: 2, seconds: 20 });
  const real = admit(job('real'));
  t.ok(real.allowed, 'real: admitted', { denials: real.denials });
  t.equal(real.object.spec.image, worker, 'real: the worker image filled in');
  t.same(real.object.spec.resources?.requests, { cpu: '50m', memory: '64Mi' }, 'real: requests that fit a two-CPU node');
  t.same(real.object.spec.args, ['--hold=20'], 'real: the worker holds for the job\'s run time');
  const kwok = admit(job('kwok'), 'kwok');
  t.ok(kwok.allowed, 'kwok: admitted', { denials: kwok.denials });
  t.match(kwok.object.spec.image, /^pytorch\/pytorch:/, 'kwok: the example policy\'s image');
  t.equal(kwok.object.spec.hyperparameters?.kwokRunTime, '20s', 'kwok: the simulated run time');
  t.notOk(kwok.object.spec.args, 'kwok: no worker args');
  const pushed = firstPushFiles('real', () => t.fail('the real node pushes its own jobs, not the registry-image examples') as never);
  t.same(Object.keys(pushed), ['team-a/bert-finetune.yaml', 'team-a/xgboost-churn.yaml']);
  for (const [file, yaml] of Object.entries(pushed)) t.ok(admit(yaml).allowed, `${file} is admitted`);
  const examples = firstPushFiles('kwok', (f) => readFileSync(join(repoRoot, 'examples', 'jobs', 'team-a', f), 'utf8'));
  t.match(examples['team-a/bert-finetune.yaml'], /tensorflow\/tensorflow/, 'kwok pushes the examples as they are');
  for (const [file, yaml] of Object.entries(examples)) t.ok(admit(yaml, 'kwok').allowed, `kwok: ${file} is admitted`);
});

t.test('the demo\'s training job (examples/trainer) is admitted on the real node as written', async (t) => {
  const r = admit(trainerJobYaml('trainingjob.local/trainer:0123456789ab'));
  t.ok(r.allowed, 'admitted', { denials: r.denials });
  t.equal(r.object.spec.image, 'trainingjob.local/trainer:0123456789ab', 'its own image kept');
  t.equal(r.object.spec.networking?.backend, 'gloo');
  t.equal(r.object.spec.gpusPerWorker, 0, 'CPU training holds no GPU quota');
});
