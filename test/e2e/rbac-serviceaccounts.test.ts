// RBAC exercised for real: the webhook (--manage-certs) and the controller run as processes whose
// kubeconfigs hold nothing but their ServiceAccounts' tokens, under manifests/base/rbac, through a
// job lifecycle and a git sync into a team folder of manifests/teams; then forbidden actions are refused.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse, stringify } from 'yaml';
import { AdmissionregistrationV1Api, ApiextensionsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { controlPlaneFor, eventually } from '../harness/tap.ts';
import { repoRoot } from '../../localcluster/binaries.ts';
import { readYamlDir } from '../../localcluster/platform.ts';
import { renderKubeconfig } from '../../localcluster/kubeconfig.ts';
import { freePort } from '../../localcluster/ports.ts';
import { startProcess, waitUntil, type ManagedProcess } from '../../localcluster/process.ts';
import { removeRun, writeRun } from '../../localcluster/runs.ts';
import { createVolumePool } from '../../localcluster/volumes.ts';
import { startGitServer } from '../../localcluster/git-server.ts';
import { cloneWorkingCopy } from '../../localcluster/git-cli.ts';
import { jobYaml } from '../fixtures/gitsync-env.ts';
import { mutatingWebhookConfiguration, platformNamespace, validatingWebhookConfiguration } from '../../webhook/registration.ts';
import { REQUESTED_AT_ANNOTATION } from '../../api/annotations.ts';
import { CHECKPOINT_FINALIZER } from '../../controller/trainingjob/reconciler.ts';
import type { JobRepository, TrainingJob } from '../../api/index.ts';

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown> };

const started = performance.now();
const cp = await controlPlaneFor(t, { workloads: { nodes: 2, gpusPerNode: 8 } });
const admin = cp.kubeConfig();
const core = admin.makeApiClient(CoreV1Api);
const custom = admin.makeApiClient(CustomObjectsApi);
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
await createVolumePool(core, 6);

/** kubectl as the cluster admin (or with --kubeconfig / --as in args); throws with stderr on failure. */
async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await cp.kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}
const render = async (dir: string): Promise<Doc[]> => parseAllDocuments(await kubectl(['kustomize', join(repoRoot, dir)])).map((d) => d.toJSON() as Doc).filter(Boolean);
const applyDocs = (docs: Doc[]): Promise<string> => kubectl(['apply', '-f', '-'], docs.map((d) => stringify(d)).join('---\n'));
/** kubectl flags that make a request as `user` (the admin may impersonate anyone). */
const as = (user: string, ...groups: string[]): string[] => [`--as=${user}`, ...groups.map((g) => `--as-group=${g}`)];
/** `kubectl auth can-i` as someone: "yes" or "no". */
const canI = async (who: string[], ...args: string[]): Promise<string> => (await cp.kubectl(['auth', 'can-i', ...args, ...who])).stdout.trim();
const webhookSA = as(`system:serviceaccount:${platformNamespace}:webhook`);
const controllerSA = as(`system:serviceaccount:${platformNamespace}:controller-manager`);
const alice = as('alice@example.com', 'team-a');

// The platform namespace, ServiceAccounts and RBAC as manifests/base renders them (the Deployments' own names);
// asserted in the first subtest, since a top-level assertion would let tap end the file early.
const rbacKinds = new Set(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
const base = (await render('manifests/base')).filter((d) => (d.kind === 'Namespace' && d.metadata.name === platformNamespace) || d.kind === 'ServiceAccount' || rbacKinds.has(d.kind));
const names = (docs: Doc[]): string[] => docs.map((d) => `${d.kind} ${d.metadata.namespace ?? ''}/${d.metadata.name}`).sort();
const baseServiceAccounts = names(base.filter((d) => d.kind === 'ServiceAccount'));
const baseRbac = names(base.filter((d) => rbacKinds.has(d.kind)));
const rbacFolder = names(await render('manifests/base/rbac'));
await applyDocs(base);

// CRDs and webhook configurations as an installer would apply them: by URL here, without caBundle (the webhook injects it).
const webhookPort = await freePort();
const webhookUrl = `https://127.0.0.1:${webhookPort}`;
const ext = admin.makeApiClient(ApiextensionsV1Api);
for (const doc of readYamlDir(join(repoRoot, 'manifests', 'crds'))) {
  const crd = doc as unknown as V1CustomResourceDefinition;
  if (crd.spec.conversion?.webhook) crd.spec.conversion.webhook.clientConfig = { url: `${webhookUrl}/convert` };
  await ext.createCustomResourceDefinition({ body: crd });
  await eventually(async () => ((await ext.readCustomResourceDefinition({ name: crd.metadata!.name! })).status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined), 30_000, 100);
}
const reg = admin.makeApiClient(AdmissionregistrationV1Api);
await reg.createMutatingWebhookConfiguration({ body: mutatingWebhookConfiguration({ endpoint: { url: webhookUrl } }) });
await reg.createValidatingWebhookConfiguration({ body: validatingWebhookConfiguration({ endpoint: { url: webhookUrl } }) });

/** A kubeconfig with a TokenRequest token of the ServiceAccount and no client certificate. */
async function serviceAccountKubeconfig(name: string): Promise<string> {
  const request = await core.createNamespacedServiceAccountToken({ name, namespace: platformNamespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const path = join(cp.dir, `${name}.kubeconfig`);
  writeFileSync(path, renderKubeconfig({ server: cp.server, caPem: cp.caPem, user: name, token: request.status!.token }), { mode: 0o600 });
  return path;
}
const webhookKubeconfig = await serviceAccountKubeconfig('webhook');
const controllerKubeconfig = await serviceAccountKubeconfig('controller-manager');

// Processes of the CLI, recorded like the control plane's so a killed test run does not leave them behind.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'KUBECONFIG'));
const processes: ManagedProcess[] = [];
const runId = `rbac-${cp.id}`;
function startCli(name: string, args: string[]): ManagedProcess {
  const p = startProcess({ name, command: process.execPath, args: [join(repoRoot, 'bin', 'trainingjob.js'), ...args], logPath: join(cp.dir, `${name}.log`), env: { ...env, LOG_LEVEL: 'debug' } });
  processes.push(p);
  writeRun(runId, { ownerPid: process.pid, dir: cp.dir, keepDir: true, pids: Object.fromEntries(processes.map((q) => [q.pid, process.execPath])) });
  return p;
}
t.teardown(async () => {
  // The controller runs --loopback-only: it exits (code 3) rather than dial elsewhere.
  for (const p of processes) if (!p.running()) t.fail(`${p.name} exited before the end of the test (code ${await p.exited})`);
  if (!t.passing()) for (const p of processes) t.comment(`--- ${p.name} log tail ---\n${readFileSync(p.logPath, 'utf8').split('\n').slice(-40).join('\n')}`);
  for (const p of processes) await p.stop();
  removeRun(runId);
});

const webhook = startCli('webhook', ['webhook', '--manage-certs', '--host', '127.0.0.1', '--port', String(webhookPort), '--kubeconfig', webhookKubeconfig]);
// Admitting proves the Secret was stored and the caBundle injected, all with the webhook's token.
await waitUntil(webhook, 'admitting TrainingPolicies', async () => {
  try {
    await custom.createClusterCustomObject({ group: 'ml.example.com', version: 'v1', plural: 'trainingpolicies', dryRun: 'All', body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name: 'probe' }, spec: {} } });
    return true;
  } catch {
    return false;
  }
}, 60_000);
const controller = startCli('controller', ['controller', '--kubeconfig', controllerKubeconfig, '--metrics-addr', '127.0.0.1:0', '--health-addr', '127.0.0.1:0', '--hooks-addr', '127.0.0.1:0', '--loopback-only', '--git-cache-dir', join(cp.dir, 'git-cache')]);
await waitUntil(controller, 'ready (caches synced)', async () => {
  const healthUrl = /"healthUrl":"([^"]+)"/.exec(readFileSync(controller.logPath, 'utf8'))?.[1];
  return healthUrl ? (await fetch(`${healthUrl}/readyz`)).status === 200 : false;
}, 60_000);

// The jobs repository the team's JobRepository points at (a real smart-HTTP server with basic auth).
const git = await startGitServer({ auth: { username: 'team-a-bot', password: 'pushed-by-ci' } });
t.teardown(() => git.stop());
git.createRepo('jobs');
const wc = await cloneWorkingCopy({ url: git.url('jobs'), authHeader: git.authHeader! });
t.teardown(() => wc.remove());
// A README keeps each folder in Git when its last job file goes (a path that vanished is an error, not a prune).
await wc.commitAndPush({ 'team-a/README.md': 'team-a jobs\n', 'team-x/README.md': 'team-x jobs\n', 'team-a/bert.yaml': jobYaml('bert', { team: 'team-a', workers: 1, gpus: 1 }) }, 'bert');

// The teams as Argo CD would apply them; team-a's Secret is made out of Git.
const teamA = await render('manifests/teams/team-a');
const teamB = await render('manifests/teams/team-b');
await kubectl(['apply', '-f', join(repoRoot, 'policies', 'examples', 'platform-defaults.yaml')]);
// Both teams' JobRepositories point at the local server (team-b's placeholder host is never dialled).
for (const d of [...teamA, ...teamB]) if (d.kind === 'JobRepository') d.spec = { ...d.spec, url: git.url('jobs') };
await applyDocs(teamA.filter((d) => d.kind === 'Namespace'));
await kubectl(['create', 'secret', 'generic', 'jobs-git', '-n', 'team-a', '--from-literal=username=team-a-bot', '--from-literal=password=pushed-by-ci']);
await applyDocs(teamA);
await applyDocs(teamB);
t.comment(`setup: ${((performance.now() - started) / 1000).toFixed(1)} s`);

const tj = (namespace: string) => ({ group: 'ml.example.com', version: 'v1', namespace, plural: 'trainingjobs' });
const repoApi = (namespace: string) => ({ group: 'ml.example.com', version: 'v1', namespace, plural: 'jobrepositories' });
const getJob = async (namespace: string, name: string) => (await custom.getNamespacedCustomObject({ ...tj(namespace), name })) as TrainingJob;
const getRepo = async (namespace: string, name: string) => (await custom.getNamespacedCustomObject({ ...repoApi(namespace), name })) as JobRepository;
const requestSync = (namespace: string, name: string) => custom.patchNamespacedCustomObject({ ...repoApi(namespace), name, body: { metadata: { annotations: { [REQUESTED_AT_ANNOTATION]: new Date().toISOString() } } } }, merge);
const exists = async (namespace: string, name: string): Promise<boolean> => getJob(namespace, name).then((j) => !j.metadata?.deletionTimestamp, () => false);
const events = async (namespace: string, kind: string, name: string): Promise<string[]> =>
  (await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}` })).items.map((e) => `${e.reason}: ${e.message}`);

t.test('the processes act as their ServiceAccounts, with token-only kubeconfigs', async (t) => {
  t.same(baseServiceAccounts, [`ServiceAccount ${platformNamespace}/controller-manager`, `ServiceAccount ${platformNamespace}/webhook`], 'the ServiceAccounts came from manifests/base');
  t.same(baseRbac, rbacFolder, 'manifests/base carries exactly manifests/base/rbac');
  for (const [path, sa] of [[webhookKubeconfig, 'webhook'], [controllerKubeconfig, 'controller-manager']] as const) {
    const user = (parse(readFileSync(path, 'utf8')) as { users: Array<{ user: Record<string, string> }> }).users[0]!.user;
    t.same(Object.keys(user), ['token'], `${path}: a token, no client certificate`);
    t.equal((await kubectl(['auth', 'whoami', '--kubeconfig', path, '-o', 'jsonpath={.status.userInfo.username}'])).trim(), `system:serviceaccount:${platformNamespace}:${sa}`);
  }
  const rendered = teamA.find((d) => d.kind === 'TrainingPolicy');
  t.same(rendered, parse(readFileSync(join(repoRoot, 'policies', 'examples', 'team-a.yaml'), 'utf8')), "team-a's TrainingPolicy is the example policy (a copy kustomize can load)");
  t.same(teamB.find((d) => d.kind === 'TrainingPolicy'), parse(readFileSync(join(repoRoot, 'policies', 'examples', 'team-b.yaml'), 'utf8')), "team-b's too");
});

t.test('an ML engineer of team-a runs a job: admitted, workloads, Completed, deleted', async (t) => {
  t.equal(await canI(alice, 'create', 'trainingjobs', '-n', 'team-a'), 'yes');
  t.equal(await canI(alice, 'get', 'pods', '--subresource=log', '-n', 'team-a'), 'yes');
  t.equal(await canI(alice, 'create', 'trainingjobs', '-n', 'team-b'), 'no', 'not in another team');
  t.equal(await canI(alice, 'create', 'jobrepositories', '-n', 'team-a'), 'no', 'the JobRepository is the platform’s');
  const job = ['apiVersion: ml.example.com/v1', 'kind: TrainingJob', 'metadata:', '  name: resnet', '  namespace: team-a', '  labels: { team: team-a }', 'spec:', '  model: resnet50', '  numWorkers: 2', '  gpusPerWorker: 1',
    '  checkpoint: { deleteOnCompletion: true }', '  hyperparameters: { learningRate: 0.001, kwokRunTime: 4s }', ''].join('\n');
  await kubectl(['create', '-f', '-', ...alice], job);
  const seen = new Set<string>();
  const done = await eventually(async () => {
    const j = await getJob('team-a', 'resnet');
    if (j.status?.state) seen.add(j.status.state);
    return j.status?.state === 'Completed' || j.status?.state === 'Failed' ? j : undefined;
  }, 120_000, 250);
  t.equal(done?.status?.state, 'Completed', `completed (${[...seen].join(' → ')})`, { status: done?.status });
  t.match(done?.status?.workers, { succeeded: 2 });
  t.match(done?.spec.image, /^pytorch\/pytorch:/, 'image defaulted by the mutating webhook from policy');
  t.ok(done?.metadata?.finalizers?.includes(CHECKPOINT_FINALIZER), 'checkpoint finalizer added by the controller');
  const ledger = await core.readNamespacedConfigMap({ name: 'gpu-ledger.team-a', namespace: platformNamespace });
  t.ok(ledger.metadata?.resourceVersion, 'GPU ledger written by the webhook');
  // Deleted by the controller; kube-controller-manager's pvc-protection may hold it a while longer.
  const pvcDeleted = await eventually(() => core.readNamespacedPersistentVolumeClaim({ name: 'resnet-checkpoints', namespace: 'team-a' }).then((p) => (p.metadata?.deletionTimestamp ? true : undefined), () => true), 30_000);
  t.ok(pvcDeleted, 'checkpoint PVC deleted on completion (deleteOnCompletion)');
  const reasons = await events('team-a', 'TrainingJob', 'resnet');
  t.ok(reasons.some((r) => r.startsWith('Completed')), `events written (${reasons.length})`);
  t.equal((await kubectl(['get', 'trainingjobs.v1alpha1.ml.example.com', 'resnet', '-n', 'team-a', '-o', 'jsonpath={.status.phase}'])).trim(), 'Succeeded', 'v1alpha1 served through the conversion webhook (caBundle injected)');

  const lease = await admin.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'trainingjob-controller', namespace: platformNamespace });
  t.ok(lease.spec?.holderIdentity, `the controller holds its Lease (${lease.spec?.holderIdentity})`);
  const certs = await core.readNamespacedSecret({ name: 'trainingjob-webhook-certs', namespace: platformNamespace });
  const validating = await reg.readValidatingWebhookConfiguration({ name: 'trainingjob-validating' });
  t.ok(validating.webhooks?.every((w) => w.clientConfig.caBundle === certs.data?.['ca.crt']), 'caBundle injected from the webhook’s Secret');

  await kubectl(['delete', 'trainingjob', 'resnet', '-n', 'team-a', '--wait=false', ...alice]);
  t.ok(await eventually(async () => ((await exists('team-a', 'resnet')) ? undefined : true), 60_000), 'deleted once the controller released its finalizer');
});

t.test('git sync applies and prunes as the team’s gitops ServiceAccount', async (t) => {
  t.equal(await canI(controllerSA, 'create', 'trainingjobs', '-n', 'team-a'), 'no', 'the controller itself cannot create TrainingJobs: the synced ones were created as gitops');
  const synced = await eventually(async () => {
    const r = await getRepo('team-a', 'jobs');
    return r.status?.lastAppliedRevision && (await exists('team-a', 'bert')) ? r : undefined;
  }, 60_000);
  t.ok(synced, 'bert synced from team-a/bert.yaml', { status: (await getRepo('team-a', 'jobs')).status });
  t.same(synced?.status?.errors ?? [], []);
  t.equal((await getJob('team-a', 'bert')).metadata?.labels?.['ml.example.com/repository'], 'team-a.jobs');

  await wc.commitAndPush({ 'team-a/bert.yaml': null }, 'remove bert');
  await requestSync('team-a', 'jobs');
  t.ok(await eventually(async () => ((await exists('team-a', 'bert')) ? undefined : true), 60_000), 'bert pruned after its file left the repository', { status: (await getRepo('team-a', 'jobs')).status });
  const after = await eventually(async () => {
    const r = await getRepo('team-a', 'jobs');
    return r.status?.inventory?.length === 0 ? r : undefined;
  }, 30_000);
  t.ok(after, 'inventory empty');
});

t.test('the happy path met no refusal: no forbidden / 403 in the webhook and controller logs', async (t) => {
  for (const p of [webhook, controller]) {
    const lines = readFileSync(p.logPath, 'utf8').split('\n').filter((l) => /forbidden|HTTP-Code: 403|answered 403|HTTP 403|"code":403/i.test(l));
    t.same(lines, [], `${p.name}: no refused API call`);
  }
});

t.test('team-b, applied before its Git Secret exists, waits with a readable reason and without a retry storm', async (t) => {
  const repo = await eventually(async () => {
    const r = await getRepo('team-b', 'jobs');
    return r.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'False') ? r : undefined;
  }, 30_000);
  t.match(repo?.status?.conditions?.find((c) => c.type === 'Ready')?.message, /reading Secret team-b\/jobs-git: secrets "jobs-git" not found$/);
  const tries = readFileSync(controller.logPath, 'utf8').split('\n').filter((l) => l.includes('"jobrepository":"team-b/jobs"') && l.includes('fetch failed')).length;
  t.ok(tries >= 1 && tries <= 10, `${tries} fetch attempts so far (a changing error message once rewrote the status on every try)`);
});

t.test('forbidden: the team’s git-sync ServiceAccount cannot grant itself more', async (t) => {
  const gitops = as('system:serviceaccount:team-a:gitops');
  t.equal(await canI(gitops, 'create', 'rolebindings', '-n', 'team-a'), 'no');
  const r = await cp.kubectl(['create', 'rolebinding', 'escalate', '-n', 'team-a', '--clusterrole=admin', '--serviceaccount=team-a:gitops', ...gitops]);
  t.not(r.code, 0);
  t.match(r.stderr, /forbidden: User "system:serviceaccount:team-a:gitops" cannot create resource "rolebindings"/);
  t.equal(await canI(gitops, 'create', 'trainingjobs', '-n', 'team-b'), 'no', 'nor write another team’s jobs');
  await wc.commitAndPush({ 'team-a/escalate.yaml': stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'escalate' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' }, subjects: [{ kind: 'ServiceAccount', name: 'gitops', namespace: 'team-a' }] }) }, 'escalate');
  await requestSync('team-a', 'jobs');
  const refused = await eventually(async () => ((await getRepo('team-a', 'jobs')).status?.errors?.find((e) => e.file === 'team-a/escalate.yaml')), 60_000);
  t.match(refused?.message, /kind RoleBinding is not allowed/, 'a RoleBinding in Git is refused before any API call');
  t.not((await cp.kubectl(['get', 'rolebinding', 'escalate', '-n', 'team-a'])).code, 0, 'no RoleBinding escalate exists');
});

t.test('forbidden: a manifest beyond the ServiceAccount’s rights is a 403 naming the file; prune runs as the ServiceAccount too', async (t) => {
  // team-x's gitops may patch TrainingJobs but neither create nor delete them.
  const role = (verbs: string[]) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'gitops', namespace: 'team-x' }, rules: [{ apiGroups: ['ml.example.com'], resources: ['trainingjobs'], verbs }] });
  const gitops = as('system:serviceaccount:team-x:gitops');
  await applyDocs([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-x' } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'gitops', namespace: 'team-x' } },
    role(['get', 'list', 'watch', 'patch', 'update']) as unknown as Doc,
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'gitops', namespace: 'team-x' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'gitops' }, subjects: [{ kind: 'ServiceAccount', name: 'gitops', namespace: 'team-x' }] } as unknown as Doc,
    ...teamA.filter((d) => d.kind === 'RoleBinding' && d.metadata.name === 'trainingjob-gitsync').map((d) => ({ ...d, metadata: { ...d.metadata, namespace: 'team-x' } })),
  ]);
  await kubectl(['create', 'secret', 'generic', 'jobs-git', '-n', 'team-x', '--from-literal=username=team-a-bot', '--from-literal=password=pushed-by-ci']);
  await wc.commitAndPush({ 'team-x/gpt.yaml': jobYaml('gpt', { workers: 1, gpus: 0 }) }, 'gpt');
  await applyDocs([{ apiVersion: 'ml.example.com/v1', kind: 'JobRepository', metadata: { name: 'jobs', namespace: 'team-x' }, spec: { url: git.url('jobs'), path: 'team-x', interval: '10s', secretRef: { name: 'jobs-git' }, serviceAccountName: 'gitops' } }]);

  const refused = await eventually(async () => ((await getRepo('team-x', 'jobs')).status?.errors?.find((e) => e.file === 'team-x/gpt.yaml')), 60_000);
  t.match(refused?.message, /forbidden: User "system:serviceaccount:team-x:gitops" cannot create resource "trainingjobs"/, 'the apiserver’s 403, as the ServiceAccount, in status.errors');
  t.match(await kubectl(['describe', 'jobrepository', 'jobs', '-n', 'team-x']), /team-x\/gpt\.yaml[\s\S]*forbidden/, 'and in kubectl describe');
  t.notOk(await exists('team-x', 'gpt'), 'nothing created');

  await applyDocs([role(['get', 'list', 'watch', 'patch', 'update', 'create']) as unknown as Doc]);
  await eventually(async () => ((await canI(gitops, 'create', 'trainingjobs', '-n', 'team-x')) === 'yes' ? true : undefined), 10_000, 100);
  await requestSync('team-x', 'jobs');
  t.ok(await eventually(async () => ((await exists('team-x', 'gpt')) ? true : undefined), 60_000), 'created once create is granted');

  await wc.commitAndPush({ 'team-x/gpt.yaml': null }, 'remove gpt');
  await requestSync('team-x', 'jobs');
  const pruneFailed = await eventually(async () => (await events('team-x', 'JobRepository', 'jobs')).find((e) => e.startsWith('PruneFailed')), 60_000);
  t.match(pruneFailed, /gpt: .*forbidden: User "system:serviceaccount:team-x:gitops" cannot delete resource "trainingjobs"/, 'the prune went out as gitops (the controller itself may delete TrainingJobs)');
  t.ok(await exists('team-x', 'gpt'), 'so the job stays');

  await applyDocs([role(['get', 'list', 'watch', 'patch', 'update', 'create', 'delete']) as unknown as Doc]);
  await eventually(async () => ((await canI(gitops, 'delete', 'trainingjobs', '-n', 'team-x')) === 'yes' ? true : undefined), 10_000, 100);
  await requestSync('team-x', 'jobs');
  t.ok(await eventually(async () => ((await exists('team-x', 'gpt')) ? undefined : true), 60_000), 'pruned once delete is granted');
});

t.test('forbidden: the controller cannot act as any other ServiceAccount', async (t) => {
  t.equal(await canI(controllerSA, 'impersonate', 'serviceaccounts/default', '-n', 'team-a'), 'no');
  t.equal(await canI(controllerSA, 'impersonate', 'serviceaccounts/gitops', '-n', 'team-a'), 'yes', 'only the team’s gitops');
  t.equal(await canI(controllerSA, 'impersonate', 'serviceaccounts/gitops', '-n', 'kube-system'), 'no', 'and only where a team bound it');
  t.equal(await canI(controllerSA, 'impersonate', 'groups'), 'no', 'no group impersonation: not needed for ServiceAccounts');
  t.equal(await canI(controllerSA, 'get', 'secrets', '-n', 'kube-system'), 'no', 'no Secrets outside what teams grant');

  await wc.commitAndPush({ 'other/llama.yaml': jobYaml('llama', { team: 'team-a', workers: 1, gpus: 0 }) }, 'llama');
  await applyDocs([{ apiVersion: 'ml.example.com/v1', kind: 'JobRepository', metadata: { name: 'as-default', namespace: 'team-a' }, spec: { url: git.url('jobs'), path: 'other', secretRef: { name: 'jobs-git' }, serviceAccountName: 'default' } }]);
  const refused = await eventually(async () => ((await getRepo('team-a', 'as-default')).status?.errors?.find((e) => e.file === 'other/llama.yaml')), 60_000);
  t.match(refused?.message, /forbidden: User "system:serviceaccount:trainingjob-system:controller-manager" cannot impersonate resource "serviceaccounts"/, 'a JobRepository naming another ServiceAccount gets a 403 per file');
  t.notOk(await exists('team-a', 'llama'));
});

t.test('forbidden: the webhook reads no Secret but its own', async (t) => {
  t.equal(await canI(webhookSA, 'get', 'secrets', '-n', 'team-a'), 'no');
  t.equal(await canI(webhookSA, 'list', 'secrets', '--all-namespaces'), 'no');
  t.equal(await canI(webhookSA, 'get', 'secrets/other', '-n', platformNamespace), 'no', 'not even another one in its namespace');
  t.equal(await canI(webhookSA, 'get', 'secrets/trainingjob-webhook-certs', '-n', platformNamespace), 'yes');
  const r = await cp.kubectl(['get', 'secret', 'jobs-git', '-n', 'team-a', '--kubeconfig', webhookKubeconfig]);
  t.not(r.code, 0);
  t.match(r.stderr, /secrets "jobs-git" is forbidden: User "system:serviceaccount:trainingjob-system:webhook" cannot get resource "secrets"/, 'refused with its own token');
  t.comment(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
});
