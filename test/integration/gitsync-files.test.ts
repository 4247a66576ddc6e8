// Git sync of a repository's files, end to end: pushes with the real git CLI to `git http-backend`, the controller
// applying them to a real apiserver. Add, change, rename and delete files; a broken YAML file next to good ones;
// a force-push that rewrites history; a controller restarted with an empty git cache.
import t from 'tap';
import { eventually } from '../harness/tap.ts';
import { parseInventory } from '../../api/jobrepository.ts';
import { GROUP, jobYaml, ready, startGitSyncEnv } from '../fixtures/gitsync-env.ts';

const env = await startGitSyncEnv(t);
const ns = 'ml-files';
await env.namespace(ns);
const wc = await env.gitRepo('files');
const REPO = 'files';
const REPO_LABEL = `${GROUP}/repository`;

const first = await wc.commitAndPush({
  'README.md': '# jobs\n',
  'jobs/resnet.yaml': jobYaml('resnet'),
  'jobs/bert.yaml': jobYaml('bert', { model: 'bert-base' }),
  'jobs/vit.yaml': jobYaml('vit', { model: 'vit-b16' }),
  'notes/not-synced.yaml': jobYaml('outside-path'),
}, 'three jobs');
await env.createRepository(ns, REPO, { url: env.server.url('files'), ref: { branch: 'main' }, path: 'jobs', interval: '2s' });

t.test('initial sync: every job under path applied, labelled and annotated with its source', async (t) => {
  const r = await env.repositoryWhen(t, ns, REPO, (r) => r.status?.lastAppliedRevision === first, 'first revision applied');
  t.same(r.status?.inventory, ['bert jobs/bert.yaml', 'resnet jobs/resnet.yaml', 'vit jobs/vit.yaml'], 'inventory: the three files under path, not notes/');
  t.same(r.status?.errors ?? [], [], 'no errors');
  t.match(ready(r), { status: 'True', reason: 'Synced', message: `revision ${first.slice(0, 12)}: 3 jobs` });
  t.equal(r.status?.lastFetchedRevision, first);
  t.same(await env.jobNames(ns), ['bert', 'resnet', 'vit']);
  const job = await env.getJob(ns, 'resnet');
  t.equal(job?.metadata?.labels?.[REPO_LABEL], `${ns}.${REPO}`, 'repository label');
  t.equal(job?.metadata?.labels?.['app.kubernetes.io/managed-by'], 'trainingjob-gitops');
  t.equal(job?.metadata?.labels?.team, 'nlp', "the manifest's own labels kept");
  t.equal(job?.metadata?.annotations?.[`${GROUP}/source-path`], 'jobs/resnet.yaml');
  t.equal(job?.metadata?.annotations?.[`${GROUP}/source-revision`], first);
  t.equal(job?.metadata?.namespace, ns, "forced into the repository's namespace");
  const withSource = await eventually(async () => {
    const j = await env.getJob(ns, 'resnet');
    return j?.status?.source?.revision === first ? j : undefined;
  });
  t.same(withSource?.status?.source, { repository: REPO, path: 'jobs/resnet.yaml', revision: first }, 'status.source: repository, file and revision');
  t.match(await env.describe(ns, REPO), /Normal\s+Synced\s+.*revision [0-9a-f]{12}: 3 files read, 3 jobs applied, 0 pruned/, 'a Synced event in kubectl describe');
});

t.test('add, change, rename, delete: only what changed is touched', async (t) => {
  // add + change (a hyperparameter) + rename (same job, new file) + delete, in one push
  wc.rename('jobs/bert.yaml', 'jobs/nlp/bert-finetune.yaml');
  wc.write({ 'jobs/resnet.yaml': jobYaml('resnet', { lr: 0.05 }), 'jobs/gpt.yaml': jobYaml('gpt', { model: 'gpt2' }) });
  const second = await wc.commit('add gpt, change resnet, move bert');
  await wc.push();
  const r = await env.repositoryWhen(t, ns, REPO, (r) => r.status?.lastAppliedRevision === second, 'second revision applied');
  t.same(r.status?.inventory, ['bert jobs/nlp/bert-finetune.yaml', 'gpt jobs/gpt.yaml', 'resnet jobs/resnet.yaml', 'vit jobs/vit.yaml'], 'rename: the job stays with its new file');
  t.same(await env.jobNames(ns), ['bert', 'gpt', 'resnet', 'vit'], 'the renamed job was not pruned');
  const resnet = await env.getJob(ns, 'resnet');
  t.equal(resnet?.spec?.hyperparameters?.learningRate, 0.05, 'change: the spec follows the file');
  t.equal(resnet?.metadata?.annotations?.[`${GROUP}/source-revision`], second, 'revision annotation updated');
  const bert = await env.getJob(ns, 'bert');
  t.equal(bert?.metadata?.annotations?.[`${GROUP}/source-path`], 'jobs/nlp/bert-finetune.yaml', 'rename: source-path annotation updated');
  const vit = await env.getJob(ns, 'vit');
  t.equal(vit?.metadata?.annotations?.[`${GROUP}/source-revision`], first, 'an unchanged file is not re-applied (incremental): its job still says the first revision');
  t.equal(vit?.metadata?.generation, 1, 'and its spec was not written again');
  t.match(ready(r), { status: 'True', reason: 'Synced' });

  const third = await wc.commitAndPush({ 'jobs/gpt.yaml': null }, 'drop gpt');
  const r3 = await env.repositoryWhen(t, ns, REPO, (r) => r.status?.lastAppliedRevision === third, 'third revision applied');
  t.notOk(parseInventory(r3.status?.inventory).some((e) => e.name === 'gpt'), 'gpt left the inventory');
  const gone = await eventually(async () => ((await env.jobNames(ns)).includes('gpt') ? undefined : true), 30_000);
  t.ok(gone, 'delete: the job is pruned');
  t.match(await env.describe(ns, REPO), /1 pruned/, 'the prune is in the Synced event');
});

t.test('a job not created by this repository is never pruned', async (t) => {
  // Same name as a file that is about to go, but created by hand: the label says it is not ours.
  await env.custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: ns, plural: 'trainingjobs', body: { apiVersion: `${GROUP}/v1`, kind: 'TrainingJob', metadata: { name: 'handmade', labels: { team: 'x' } }, spec: { model: 'm', numWorkers: 1, gpusPerWorker: 0 } } });
  const rev = await wc.commitAndPush({ 'jobs/vit.yaml': jobYaml('vit', { lr: 0.01, model: 'vit-b16' }) }, 'touch vit');
  await env.repositoryWhen(t, ns, REPO, (r) => r.status?.lastAppliedRevision === rev, 'applied');
  t.ok(await env.getJob(ns, 'handmade'), 'the hand-made job is still there');
  t.notOk(parseInventory((await env.getRepository(ns, REPO)).status?.inventory).some((e) => e.name === 'handmade'), 'and not in the inventory');
});

t.test('a broken YAML file next to good ones: an error with its line, the good ones applied', async (t) => {
  const broken = [
    'apiVersion: ml.example.com/v1',
    'kind: TrainingJob',
    'metadata:',
    '  name: broken',
    'spec:',
    '  model: resnet50',
    '  hyperparameters: {learningRate: 0.1',
    '  numWorkers: 2',
    '',
  ].join('\n');
  const rev = await wc.commitAndPush({ 'jobs/broken.yaml': broken, 'jobs/good-1.yaml': jobYaml('good-1'), 'jobs/good-2.yaml': jobYaml('good-2') }, 'one broken, two good');
  const r = await env.repositoryWhen(t, ns, REPO, (r) => r.status?.lastAppliedRevision === rev, 'applied despite the broken file');
  const errors = r.status?.errors ?? [];
  t.equal(errors.length, 1, 'one error', { errors });
  t.equal(errors[0]?.file, 'jobs/broken.yaml');
  t.ok(typeof errors[0]?.line === 'number' && errors[0].line >= 7 && errors[0].line <= 9, `the line of the unclosed flow mapping (${errors[0]?.line})`);
  t.ok(errors[0]?.message, `a message: ${errors[0]?.message}`);
  t.ok(await env.getJob(ns, 'good-1'), 'good-1 applied');
  t.ok(await env.getJob(ns, 'good-2'), 'good-2 applied');
  t.notOk(await env.getJob(ns, 'broken'), 'nothing from the broken file');
  t.match(ready(r), { status: 'False', reason: 'ManifestErrors', message: new RegExp(`applied with 1 error in 1 file\\(s\\); first: jobs/broken.yaml:${errors[0]?.line}: `) });
  const described = await env.describe(ns, REPO);
  t.match(described, new RegExp(`Warning\\s+ManifestRejected\\s+.*jobs/broken.yaml:${errors[0]?.line}: `), 'a Warning event with file:line');

  // A later push that does not touch the broken file keeps its error; fixing it clears it.
  const other = await wc.commitAndPush({ 'jobs/good-2.yaml': jobYaml('good-2', { lr: 0.2 }) }, 'unrelated change');
  const r2 = await env.repositoryWhen(t, ns, REPO, (r) => r.status?.lastAppliedRevision === other, 'unrelated change applied');
  t.same(r2.status?.errors?.map((e) => e.file), ['jobs/broken.yaml'], 'the error carries over while the file is unchanged');
  const fixed = await wc.commitAndPush({ 'jobs/broken.yaml': broken.replace('0.1\n', '0.1}\n') }, 'fix it');
  const r3 = await env.repositoryWhen(t, ns, REPO, (r) => r.status?.lastAppliedRevision === fixed, 'fix applied');
  t.same(r3.status?.errors ?? [], [], 'error cleared');
  t.match(ready(r3), { status: 'True', reason: 'Synced' });
  t.ok(await env.getJob(ns, 'broken'), 'the fixed job exists');
});

t.test('a force-push that rewrites history: the new tree is what counts', async (t) => {
  const before = await env.jobNames(ns);
  t.ok(before.includes('good-1') && before.includes('broken'), 'starting point');
  // Rewrite: back to the first commit, then a different history on top of it.
  await wc.git('reset', '--quiet', '--hard', first);
  wc.write({ 'jobs/rewritten.yaml': jobYaml('rewritten'), 'jobs/resnet.yaml': jobYaml('resnet', { lr: 0.3 }) });
  const rewritten = await wc.commit('rewritten history');
  await wc.push({ force: true });
  const r = await env.repositoryWhen(t, ns, REPO, (r) => r.status?.lastAppliedRevision === rewritten, 'the rewritten revision applied');
  t.same(parseInventory(r.status?.inventory).map((e) => e.name), ['bert', 'resnet', 'rewritten', 'vit'], 'inventory of the rewritten tree');
  t.same(r.status?.errors ?? [], []);
  const names = await eventually(async () => {
    const n = await env.jobNames(ns);
    return n.join(',') === 'bert,handmade,resnet,rewritten,vit' ? n : undefined;
  }, 30_000);
  t.same(names, ['bert', 'handmade', 'resnet', 'rewritten', 'vit'], 'jobs only in the old history pruned; the hand-made one kept');
  t.equal((await env.getJob(ns, 'resnet'))?.spec?.hyperparameters?.learningRate, 0.3);
  t.equal((await env.getJob(ns, 'bert'))?.metadata?.annotations?.[`${GROUP}/source-path`], 'jobs/bert.yaml', 'bert back at its old path');
});

t.test('a controller restarted with an empty git cache carries on incrementally', async (t) => {
  await env.restartController({ freshCache: true });
  const rev = await wc.commitAndPush({ 'jobs/after-restart.yaml': jobYaml('after-restart') }, 'after restart');
  const r = await env.repositoryWhen(t, ns, REPO, (r) => r.status?.lastAppliedRevision === rev, 'applied by the new controller');
  t.match(ready(r), { status: 'True', reason: 'Synced' }, 'Ready', { conditions: r.status?.conditions });
  t.ok(await env.getJob(ns, 'after-restart'), 'the new job exists');
  t.same(parseInventory(r.status?.inventory).map((e) => e.name), ['after-restart', 'bert', 'resnet', 'rewritten', 'vit']);
});

t.test('a repository name too long for a label: the label is shortened, the annotation and status.source keep it whole', async (t) => {
  const longNs = 'ml-files-with-a-fairly-long-namespace-name';
  await env.namespace(longNs);
  const longWc = await env.gitRepo('long');
  const name = `nightly-retraining-of-the-recommendation-models-${'x'.repeat(60)}`;
  const rev = await longWc.commitAndPush({ 'jobs/one.yaml': jobYaml('one'), 'jobs/two.yaml': jobYaml('two') }, 'two jobs');
  await env.createRepository(longNs, name, { url: env.server.url('long'), path: 'jobs', interval: '2s' });
  await env.repositoryWhen(t, longNs, name, (r) => r.status?.lastAppliedRevision === rev, 'applied');
  const one = await env.getJob(longNs, 'one');
  const label = one?.metadata?.labels?.[REPO_LABEL] ?? '';
  t.ok(label.length <= 63 && label.startsWith(`${longNs}.nightly`), `a valid label value (${label})`);
  t.equal(one?.metadata?.annotations?.[`${GROUP}/source-repository`], name, 'the full name in the annotation');
  const sourced = await eventually(async () => ((await env.getJob(longNs, 'one'))?.status?.source?.repository === name ? true : undefined));
  t.ok(sourced, 'status.source names the repository in full');
  const removed = await longWc.commitAndPush({ 'jobs/two.yaml': null }, 'drop two');
  await env.repositoryWhen(t, longNs, name, (r) => r.status?.lastAppliedRevision === removed, 'the removal applied');
  t.same(await env.jobNames(longNs), ['one'], 'pruned by the shortened label');
});
