// `trainingjob validate` offline and the webhook behind a real apiserver give the same verdict,
// with the same messages whenever the webhook is the one refusing, for the examples and fixtures.
import t from 'tap';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { controlPlaneFor } from '../harness/tap.ts';
import { installPlatform } from '../../localcluster/platform.ts';
import { repoRoot } from '../../localcluster/binaries.ts';
import { runCommand } from '../../localcluster/controlplane.ts';

const cp = await controlPlaneFor(t);
const platform = await installPlatform({ kubeConfig: cp.kubeConfig(), examplePolicies: true });
t.teardown(() => platform.stop());
const core = cp.kubeConfig().makeApiClient(CoreV1Api);
const teams: Record<string, Record<string, string>> = { 'ml-training': {}, 'ml-jobs': {}, 'team-a': { 'ml.example.com/team': 'team-a' }, 'team-b': { 'ml.example.com/team': 'team-b' } };
for (const [name, labels] of Object.entries(teams)) await core.createNamespace({ body: { metadata: { name, labels } } });
const namespaceLabels = Object.entries(teams).flatMap(([ns, labels]) => Object.entries(labels).map(([k, v]) => `${ns}:${k}=${v}`));

// Who refuses each file: nobody, our webhook (messages compared word for word) or the apiserver's
// strict decoding, which refuses an unknown field before any webhook runs.
const verdicts: Record<string, 'admitted' | 'webhook' | 'apiserver'> = {
  'examples/jobs/default/test-job.yaml': 'admitted',
  'examples/jobs/ml-jobs/pytorch-mnist.yaml': 'admitted',
  'examples/jobs/ml-training/resnet-simple.yaml': 'admitted',
  'examples/jobs/team-a/bert-finetune.yaml': 'admitted',
  'examples/jobs/team-a/xgboost-churn.yaml': 'admitted',
  'examples/jobs/team-b/jax-vit.yaml': 'admitted',
  'examples/jobs/team-b/llama-lora.yaml': 'admitted',
  'test/fixtures/validate/invalid-job.yaml': 'apiserver',
  'test/fixtures/validate/invalid-known-fields.yaml': 'webhook',
};

for (const [file, refusedBy] of Object.entries(verdicts)) {
  t.test(`${file}: ${refusedBy}`, async (t) => {
    const path = join(repoRoot, file);
    const offline = await runCommand(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), 'validate', '-f', path, '--policy', join(repoRoot, 'policies', 'examples'), ...namespaceLabels.flatMap((l) => ['--namespace-labels', l])], process.env);
    const online = await cp.kubectl(['apply', '--dry-run=server', '-f', path]);
    t.equal(offline.code === 0, online.code === 0, `same verdict (validate exit ${offline.code}, kubectl exit ${online.code})`, { offline: offline.stdout, online: online.stderr });
    t.equal(online.code === 0, refusedBy === 'admitted', refusedBy === 'admitted' ? 'admitted' : 'refused', { online: online.stderr });
    t.equal(online.stderr.includes('admission webhook'), refusedBy === 'webhook', refusedBy === 'webhook' ? 'refused by our webhook' : 'not refused by a webhook', { online: online.stderr });
    const messages = [...offline.stdout.matchAll(/^[^\n]*?:\d+: (?!warning: )(.*)$/gm)].map((m) => m[1]!).filter((m) => !/^\d+ files?,/.test(m));
    if (refusedBy === 'apiserver') {
      // validate names the same unknown fields as the apiserver's strict decoding.
      const unknown = messages.flatMap((m) => /^(\S+): unknown field$/.exec(m)?.[1] ?? []);
      t.ok(unknown.length > 0, 'validate reported the unknown fields');
      for (const f of unknown) t.ok(online.stderr.includes(`unknown field "${f}"`), `kubectl names ${f}`);
    }
    if (refusedBy !== 'webhook') return;
    // Every violation validate reports is in kubectl's message, word for word.
    t.ok(messages.length > 0, 'validate reported the violations to compare');
    for (const m of messages) t.ok(online.stderr.includes(m), `kubectl shows: ${m}`);
  });
}
