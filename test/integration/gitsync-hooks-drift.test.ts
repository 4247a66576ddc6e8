// The push receiver on the running controller (wrong signatures get 401 and are counted; a verified GitHub, Gitea or
// GitLab hook sets ml.example.com/requestedAt and the new commit is applied at once, even with `interval: 1h`), and
// drift: a git-managed job edited or deleted by hand is put back on the next sync.
import t from 'tap';
import { createHmac } from 'node:crypto';
import { eventually } from '../harness/tap.ts';
import { parseInventory } from '../../api/jobrepository.ts';
import { GROUP, jobYaml, ready, startGitSyncEnv } from '../fixtures/gitsync-env.ts';
import { REQUESTED_AT_ANNOTATION } from '../../api/annotations.ts';

const env = await startGitSyncEnv(t);
const HOOK_SECRET = 'hook-secret-7f3a';

async function metricValue(name: string, label: string): Promise<number> {
  const text = await (await fetch(`${env.controller.metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

function post(path: string, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${env.controller.hooksUrl}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
}

t.test('push receiver: 401 for a wrong signature; a verified push is applied at once with interval 1h', async (t) => {
  const ns = 'ml-hooks';
  await env.namespace(ns);
  await env.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'git' }, stringData: { hookSecret: HOOK_SECRET } } });
  const wc = await env.gitRepo('hooks');
  const first = await wc.commitAndPush({ 'train.yaml': jobYaml('train') }, 'first');
  await env.createRepository(ns, 'jobs', { url: env.server.url('hooks'), interval: '1h', secretRef: { name: 'git' } });
  await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === first, 'the first revision applied on creation');

  const second = await wc.commitAndPush({ 'eval.yaml': jobYaml('eval') }, 'second');
  const payload = JSON.stringify({ ref: 'refs/heads/main', before: first, after: second, repository: { full_name: 'ml/hooks' } });
  const sign = (secret: string, body = payload) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

  const invalidBefore = await metricValue('trainingjob_gitsync_hook_rejected_total', 'reason="invalid"');
  const wrong = await post(`/hooks/${ns}/jobs`, payload, { 'x-github-event': 'push', 'x-hub-signature-256': sign('not-the-secret') });
  t.equal(wrong.status, 401, 'wrong secret: 401');
  t.match(await wrong.json(), { error: 'signature does not match' });
  const tampered = await post(`/hooks/${ns}/jobs`, payload.replace('main', 'evil'), { 'x-github-event': 'push', 'x-hub-signature-256': sign(HOOK_SECRET) });
  t.equal(tampered.status, 401, 'a body that is not the one signed: 401');
  const missing = await post(`/hooks/${ns}/jobs`, payload, { 'x-github-event': 'push' });
  t.equal(missing.status, 401, 'no signature: 401');
  t.match(await missing.json(), { error: /missing signature/ });
  t.equal(await metricValue('trainingjob_gitsync_hook_rejected_total', 'reason="invalid"'), invalidBefore + 2, 'invalid signatures counted');
  t.ok((await metricValue('trainingjob_gitsync_hook_rejected_total', 'reason="missing"')) >= 1, 'missing signatures counted');
  t.equal((await post(`/hooks/${ns}/nope`, payload, { 'x-hub-signature-256': sign(HOOK_SECRET) })).status, 404, 'an unknown repository: 404');
  const after = await env.getRepository(ns, 'jobs');
  t.notOk(after.metadata?.annotations?.[REQUESTED_AT_ANNOTATION], 'no refused hook requested a sync');
  t.equal(after.status?.lastAppliedRevision, first, 'and nothing was synced');

  const started = performance.now();
  const ok = await post(`/hooks/${ns}/jobs`, payload, { 'x-github-event': 'push', 'x-hub-signature-256': sign(HOOK_SECRET) });
  t.equal(ok.status, 202, 'a correct X-Hub-Signature-256: 202');
  const requested = (await env.getRepository(ns, 'jobs')).metadata?.annotations?.[REQUESTED_AT_ANNOTATION];
  t.ok(requested && !Number.isNaN(Date.parse(requested)), `requestedAt set (${requested})`);
  const created = await eventually(() => env.getJob(ns, 'eval'), 30_000, 20);
  const latency = performance.now() - started;
  // Within the 30 s wait, with a poll interval of 1h: the hook, not polling, synced it.
  t.ok(created, 'the pushed job exists long before the next poll');
  t.comment(`hook → TrainingJob created: ${latency.toFixed(0)} ms`);
  const r = await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === second, 'the second revision applied');
  t.match(ready(r), { status: 'True', reason: 'Synced' });

  // Gitea (HMAC hex, no prefix) and GitLab (shared token) hooks work the same way.
  const third = await wc.commitAndPush({ 'eval.yaml': jobYaml('eval', { lr: 0.02 }) }, 'third');
  const giteaBody = JSON.stringify({ ref: 'refs/heads/main', after: third });
  t.equal((await post(`/hooks/${ns}/jobs`, giteaBody, { 'x-gitea-event': 'push', 'x-gitea-signature': createHmac('sha256', HOOK_SECRET).update(giteaBody).digest('hex') })).status, 202, 'Gitea signature: 202');
  await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === third, 'third revision applied', 30_000);
  const fourth = await wc.commitAndPush({ 'eval.yaml': jobYaml('eval', { lr: 0.03 }) }, 'fourth');
  t.equal((await post(`/hooks/${ns}/jobs`, '{}', { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'wrong' })).status, 401, 'wrong GitLab token: 401');
  t.equal((await post(`/hooks/${ns}/jobs`, '{}', { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': HOOK_SECRET })).status, 202, 'GitLab token: 202');
  await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === fourth, 'fourth revision applied', 30_000);
  t.equal((await env.getJob(ns, 'eval'))?.spec?.hyperparameters?.learningRate, 0.03);
});

t.test('drift: a hand edit is corrected and a hand delete comes back on the next sync', async (t) => {
  const ns = 'ml-drift';
  await env.namespace(ns);
  const wc = await env.gitRepo('drift');
  const rev = await wc.commitAndPush({ 'resnet.yaml': jobYaml('resnet', { lr: 0.001 }), 'bert.yaml': jobYaml('bert'), 'vit.yaml': jobYaml('vit') }, 'three');
  await env.createRepository(ns, 'jobs', { url: env.server.url('drift'), interval: '1h' });
  await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === rev, 'applied');
  // managedFields times have a one-second resolution: make sure the hand edit is in a later second than the apply.
  const appliedAt = Date.parse(((await env.getJob(ns, 'resnet'))?.metadata as { managedFields?: Array<{ manager?: string; time?: string }> }).managedFields?.find((f) => f.manager === 'trainingjob-gitops')?.time ?? '');
  await eventually(async () => (Date.now() >= appliedAt + 1000 ? true : undefined), 5_000, 50);

  const patched = await env.cp.kubectl(['patch', 'trainingjob', 'resnet', '-n', ns, '--type=merge', '-p', '{"spec":{"hyperparameters":{"learningRate":0.5}}}']);
  t.equal(patched.code, 0, `kubectl patch: ${patched.stdout}${patched.stderr}`);
  const started = performance.now();
  await env.requestSync(ns, 'jobs');
  const corrected = await eventually(async () => {
    const j = await env.getJob(ns, 'resnet');
    return j?.spec?.hyperparameters?.learningRate === 0.001 ? j : undefined;
  }, 30_000, 50);
  t.ok(corrected, 'the hand-edited hyperparameter is back to the value in git');
  t.comment(`drift corrected in ${(performance.now() - started).toFixed(0)} ms`);
  const managers = (corrected?.metadata as { managedFields?: Array<{ manager?: string }> } | undefined)?.managedFields?.map((f) => f.manager) ?? [];
  t.notOk(managers.includes('kubectl-patch'), `the field is owned by git sync again (${managers.join(', ')})`);

  const deleted = await env.cp.kubectl(['delete', 'trainingjob', 'bert', '-n', ns, '--wait=true']);
  t.equal(deleted.code, 0, `kubectl delete: ${deleted.stdout}${deleted.stderr}`);
  await env.requestSync(ns, 'jobs');
  const back = await eventually(() => env.getJob(ns, 'bert'), 30_000, 50);
  t.ok(back, 'the deleted job is back');
  t.equal(back?.metadata?.labels?.[`${GROUP}/repository`], `${ns}.jobs`, 'as a git-managed job');
  t.equal(back?.metadata?.annotations?.[`${GROUP}/source-revision`], rev);
  const r = await env.repositoryWhen(t, ns, 'jobs', (r) => ready(r)?.status === 'True', 'Ready');
  t.same(parseInventory(r.status?.inventory).map((e) => e.name), ['bert', 'resnet', 'vit']);
  t.equal(r.status?.lastAppliedRevision, rev, 'no new revision was needed');
  const untouched = await env.getJob(ns, 'vit');
  t.equal(untouched?.metadata?.generation, 1, 'a job nobody touched is not re-applied');
});
