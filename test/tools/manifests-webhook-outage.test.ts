// A webhook outage with the default overlay installed for real (its webhook Service has no pods behind
// it on this control plane): TrainingJob writes in team namespaces are refused by failurePolicy Fail,
// everything else keeps working, and the emergency bypass of manifests/README.md lets jobs through.
import t from 'tap';
import { join } from 'node:path';
import { repoRoot } from '../../localcluster/binaries.ts';
import { controlPlaneFor } from '../harness/tap.ts';

const overlay = join(repoRoot, 'manifests', 'overlays', 'default');
const cp = await controlPlaneFor(t);

const job = (namespace: string, name: string): string => `apiVersion: ml.example.com/v1
kind: TrainingJob
metadata: { name: ${name}, namespace: ${namespace}, labels: { team: ${namespace} } }
spec: { model: resnet50, image: pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime, numWorkers: 1, gpusPerWorker: 1 }
`;
const configMap = (namespace: string): string => `apiVersion: v1
kind: ConfigMap
metadata: { name: outage-probe, namespace: ${namespace} }
data: { written: "during the webhook outage" }
`;
const apply = async (yaml: string): Promise<{ code: number; out: string; ms: number }> => {
  const started = performance.now();
  const r = await cp.kubectl(['apply', '-f', '-'], { input: yaml });
  return { code: r.code, out: `${r.stdout}${r.stderr}`.trim(), ms: Math.round(performance.now() - started) };
};
const refusedByWebhook = /failed calling webhook "trainingjob\.ml\.example\.com"/;

t.test('the install command of manifests/README.md, for real (not a dry run)', async (t) => {
  const install = await cp.kubectl(['apply', '--server-side', '-k', overlay]);
  t.equal(install.code, 0, `kubectl apply --server-side -k manifests/overlays/default: ${install.stderr}`);
  const established = await cp.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/trainingjobs.ml.example.com', 'crd/trainingpolicies.ml.example.com']);
  t.equal(established.code, 0, `the CRDs are Established: ${established.stderr}`);
  t.equal((await cp.kubectl(['create', 'namespace', 'team-a'])).code, 0, 'team namespaces are not intercepted');
});

t.test('with the webhook down, a TrainingJob in a team namespace is refused, within the webhook timeout', async (t) => {
  const r = await apply(job('team-a', 'blocked'));
  t.not(r.code, 0, 'kubectl apply fails');
  t.match(r.out, refusedByWebhook, `the failurePolicy error names our webhook: ${r.out}`);
  t.ok(r.ms < 15_000, `refused in ${r.ms} ms (timeoutSeconds 5 per webhook)`);
  t.comment(`TrainingJob refused in ${r.ms} ms: ${r.out}`);
  const get = await cp.kubectl(['get', 'trainingjob', 'blocked', '-n', 'team-a']);
  t.not(get.code, 0, 'and nothing was stored');
});

t.test('everything else keeps working', async (t) => {
  for (const ns of ['kube-system', 'trainingjob-system', 'team-a']) {
    const r = await apply(configMap(ns));
    t.equal(r.code, 0, `a ConfigMap in ${ns} is written (${r.ms} ms): ${r.out}`);
  }
  const own = await apply(job('trainingjob-system', 'platform-smoke'));
  t.equal(own.code, 0, `a TrainingJob in trainingjob-system is not intercepted: ${own.out}`);
  const ns = await cp.kubectl(['label', 'namespace', 'team-a', 'ml.example.com/team=team-a']);
  t.equal(ns.code, 0, `namespaces can still be labelled: ${ns.stderr}`);
});

t.test('TrainingPolicy edits stay possible (schema-checked only), so an outage blocks TrainingJob writes alone', async (t) => {
  const r = await apply(`apiVersion: ml.example.com/v1
kind: TrainingPolicy
metadata: { name: outage-probe }
spec: { namespaceSelector: { matchLabels: { ml.example.com/team: team-a } }, gpuQuota: 8 }
`);
  t.equal(r.code, 0, `admitted: ${r.out}`);
  const bad = await apply(`apiVersion: ml.example.com/v1
kind: TrainingPolicy
metadata: { name: outage-probe-bad }
spec: { gpuQuota: -1 }
`);
  t.not(bad.code, 0, 'a policy the CRD schema refuses is still refused');
});

t.test('the emergency bypass of manifests/README.md lets TrainingJobs through; re-applying the overlay restores the gate', async (t) => {
  const del = await cp.kubectl(['delete', 'mutatingwebhookconfiguration', 'trainingjob-mutating']);
  const delV = await cp.kubectl(['delete', 'validatingwebhookconfiguration', 'trainingjob-validating']);
  t.equal(del.code + delV.code, 0, `both configurations deleted: ${del.stderr}${delV.stderr}`);
  const through = await apply(job('team-a', 'during-bypass'));
  t.equal(through.code, 0, `admitted without the webhook: ${through.out}`);

  const restore = await cp.kubectl(['apply', '--server-side', '-k', overlay]);
  t.equal(restore.code, 0, `the overlay re-applied: ${restore.stderr}`);
  const blocked = await apply(job('team-a', 'after-restore'));
  t.not(blocked.code, 0, 'the gate is back');
  t.match(blocked.out, refusedByWebhook, 'by the failurePolicy again');
});

t.test('the softer bypass (failurePolicy Ignore) admits unchecked while the webhook is down; --force-conflicts restores it', async (t) => {
  const ignore = (i: number): string => `[{"op":"replace","path":"/webhooks/${i}/failurePolicy","value":"Ignore"}]`;
  const patches = [
    await cp.kubectl(['patch', 'mutatingwebhookconfiguration', 'trainingjob-mutating', '--type=json', '-p', ignore(0)]),
    await cp.kubectl(['patch', 'validatingwebhookconfiguration', 'trainingjob-validating', '--type=json', '-p', ignore(0)]),
  ];
  t.ok(patches.every((p) => p.code === 0), `patched: ${patches.map((p) => p.stderr).join('')}`);
  const through = await apply(job('team-a', 'while-ignored'));
  t.equal(through.code, 0, `admitted while the webhook is unreachable: ${through.out}`);

  const restore = await cp.kubectl(['apply', '--server-side', '--force-conflicts', '-k', overlay]);
  t.equal(restore.code, 0, `failurePolicy taken back from kubectl patch: ${restore.stderr}`);
  const policy = await cp.kubectl(['get', 'validatingwebhookconfiguration', 'trainingjob-validating', '-o', 'jsonpath={.webhooks[*].failurePolicy}']);
  t.equal(policy.stdout, 'Fail Ignore', 'the TrainingJob webhook fails closed again (the policy webhook stays open)');
  const blocked = await apply(job('team-a', 'after-ignore'));
  t.match(blocked.out, refusedByWebhook, 'and TrainingJob writes wait for the webhook again');
});
