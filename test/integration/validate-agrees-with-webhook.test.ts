// `trainingjob validate` offline and the webhook behind a real apiserver give the same verdict,
// with the same messages whenever the webhook is the one refusing, for the examples and fixtures.
import t from 'tap';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { controlPlaneFor } from '../harness/tap.ts';
import { installPlatform } from '../harness/platform.ts';
import { repoRoot } from '../harness/binaries.ts';
import { runCommand } from '../harness/controlplane.ts';

const cp = await controlPlaneFor(t);
const platform = await installPlatform({ kubeConfig: cp.kubeConfig(), examplePolicies: true });
t.teardown(() => platform.stop());
const core = cp.kubeConfig().makeApiClient(CoreV1Api);
const teams: Record<string, Record<string, string>> = { 'ml-training': {}, 'ml-jobs': {}, 'team-a': { 'ml.example.com/team': 'team-a' }, 'team-b': { 'ml.example.com/team': 'team-b' } };
for (const [name, labels] of Object.entries(teams)) await core.createNamespace({ body: { metadata: { name, labels } } });
const namespaceLabels = Object.entries(teams).flatMap(([ns, labels]) => Object.entries(labels).map(([k, v]) => `${ns}:${k}=${v}`));

const files = [
  'examples/jobs/default/test-job.yaml',
  'examples/jobs/ml-jobs/pytorch-mnist.yaml',
  'examples/jobs/ml-training/resnet-simple.yaml',
  'examples/jobs/team-a/bert-finetune.yaml',
  'examples/jobs/team-a/xgboost-churn.yaml',
  'examples/jobs/team-b/jax-vit.yaml',
  'examples/jobs/team-b/llama-lora.yaml',
  'test/fixtures/validate/invalid-job.yaml',
  'test/fixtures/validate/invalid-known-fields.yaml',
];

for (const file of files) {
  t.test(file, async (t) => {
    const path = join(repoRoot, file);
    const offline = await runCommand(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), 'validate', '-f', path, '--policy', join(repoRoot, 'policies', 'examples'), ...namespaceLabels.flatMap((l) => ['--namespace-labels', l])], process.env);
    const online = await cp.kubectl(['apply', '--dry-run=server', '-f', path]);
    t.equal(offline.code === 0, online.code === 0, `same verdict (validate exit ${offline.code}, kubectl exit ${online.code})`, { offline: offline.stdout, online: online.stderr });
    // An unknown field is refused by the apiserver's strict decoding before any webhook runs.
    if (!online.stderr.includes('admission webhook')) return;
    // Every violation validate reports is in kubectl's message, word for word.
    const messages = [...offline.stdout.matchAll(/^[^\n]*?:\d+: (?!warning: )(.*)$/gm)].map((m) => m[1]!).filter((m) => !/^\d+ files?,/.test(m));
    for (const m of messages) t.ok(online.stderr.includes(m), `kubectl shows: ${m}`);
    if (offline.code !== 0) t.ok(messages.length > 0, 'the messages were compared');
  });
}
