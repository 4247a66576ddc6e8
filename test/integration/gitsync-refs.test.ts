// Git sync through the reconciler for what a JobRepository pins or pauses: a tag (moved by a force-push of the tag),
// a pinned commit, spec.suspend, a manifest still in the v1alpha1 shape (converted by the platform's webhook), and
// an inventory left by an earlier version.
import t from 'tap';
import { parseInventory } from '../../api/jobrepository.ts';
import { jobRepositoryCRD } from '../../api/crds.ts';
import { GROUP, jobYaml, ready, startGitSyncEnv } from '../fixtures/gitsync-env.ts';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { eventually } from '../harness/tap.ts';

const env = await startGitSyncEnv(t);
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const names = (r: { status?: { inventory?: string[] } }) => parseInventory(r.status?.inventory).map((e) => e.name);

// Seed 002's sample as a user would keep it in the repository (no namespace: the repository's is used).
const alphaJob = `apiVersion: ml.example.com/v1alpha1
kind: TrainingJob
metadata:
  name: pytorch-mnist
spec:
  framework: pytorch
  image: pytorch/pytorch:1.12.0-cuda11.3
  command: [python, -m, torch.distributed.run, --nproc_per_node=1, /workspace/train_mnist.py]
  args: [--epochs=10, --batch-size=64]
  workers: 2
  gpuPerWorker: 0
  resources:
    requests: {cpu: "2", memory: 4Gi}
    limits: {cpu: "2", memory: 4Gi}
  hyperparameters:
    learningRate: "0.001"
    optimizer: "adam"
`;

t.test('a tag: its commit is applied, branch pushes are not, a moved tag is', async (t) => {
  const ns = 'ml-tag';
  await env.namespace(ns);
  const wc = await env.gitRepo('tagged');
  const released = await wc.commitAndPush({ 'one.yaml': jobYaml('one') }, 'release');
  await wc.git('tag', '-a', 'v1', '-m', 'release v1');
  await wc.git('push', '--quiet', 'origin', 'refs/tags/v1');
  await wc.commitAndPush({ 'two.yaml': jobYaml('two') }, 'work in progress');
  await env.createRepository(ns, 'jobs', { url: env.server.url('tagged'), ref: { tag: 'v1' }, interval: '1h' });
  const r = await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === released, 'the tagged commit applied (the annotated tag peeled)');
  t.same(names(r), ['one']);
  t.same(await env.jobNames(ns), ['one'], 'the branch tip is not applied');

  await wc.git('tag', '-f', '-a', 'v1', '-m', 'release v1, again');
  await wc.git('push', '--quiet', '--force', 'origin', 'refs/tags/v1');
  const moved = await wc.git('rev-parse', 'HEAD');
  await env.requestSync(ns, 'jobs');
  const r2 = await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === moved, 'the moved tag applied');
  t.same(names(r2), ['one', 'two']);
  t.equal((await env.getJob(ns, 'two'))?.metadata?.annotations?.[`${GROUP}/source-revision`], moved, 'the job records the revision');
});

/** When the controller last synced the namespace's repository `jobs` without a fetch failure (its own metric), in seconds. */
async function lastSuccess(ns: string): Promise<number> {
  const metric = await env.controller.metrics.registry.getSingleMetric('trainingjob_gitsync_last_success_timestamp_seconds')?.get();
  return metric?.values.find((v) => v.labels.namespace === ns && v.labels.name === 'jobs')?.value ?? 0;
}

t.test('a pinned commit stays put while the branch moves', async (t) => {
  const ns = 'ml-pinned';
  await env.namespace(ns);
  const wc = await env.gitRepo('pinned');
  const pinned = await wc.commitAndPush({ 'a.yaml': jobYaml('a') }, 'a');
  await wc.commitAndPush({ 'b.yaml': jobYaml('b') }, 'b');
  await env.createRepository(ns, 'jobs', { url: env.server.url('pinned'), ref: { commit: pinned }, interval: '1s' });
  const r = await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === pinned && ready(r)?.reason === 'Synced', 'the pinned commit applied');
  t.equal(r.status?.lastFetchedRevision, pinned);
  await wc.commitAndPush({ 'c.yaml': jobYaml('c') }, 'c');
  const pushedAt = Date.now() / 1000;
  await env.requestSync(ns, 'jobs');
  // Only a sync that started after the push can show the pin held: the second one to finish after it did (interval 1 s).
  const first = await eventually(async () => { const at = await lastSuccess(ns); return at > pushedAt ? at : undefined; }, 15_000, 100);
  t.ok(first, 'a sync finished after the branch moved');
  t.ok(await eventually(async () => ((await lastSuccess(ns)) > first! ? true : undefined), 15_000, 100), 'and another, which started after it');
  const again = await env.getRepository(ns, 'jobs');
  t.equal(again.status?.lastAppliedRevision, pinned, 'still the pinned commit');
  t.match(ready(again), { status: 'True', reason: 'Synced' });
  t.same(names(again), ['a']);
  t.same(await env.jobNames(ns), ['a']);
});

t.test('suspend: no sync while suspended (a requested one included), everything pending applied on resume', async (t) => {
  const ns = 'ml-suspend';
  await env.namespace(ns);
  const wc = await env.gitRepo('paused');
  const first = await wc.commitAndPush({ 'a.yaml': jobYaml('a') }, 'a');
  await env.createRepository(ns, 'jobs', { url: env.server.url('paused'), interval: '1s' });
  await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === first, 'synced before the pause');

  const repoApi = { group: GROUP, version: 'v1', namespace: ns, plural: 'jobrepositories', name: 'jobs' };
  await env.custom.patchNamespacedCustomObject({ ...repoApi, body: { spec: { suspend: true } } }, merge);
  const paused = await env.repositoryWhen(t, ns, 'jobs', (r) => ready(r)?.reason === 'Suspended', 'Ready=False, Suspended');
  t.match(ready(paused), { status: 'False', message: 'syncing is suspended (spec.suspend)' });
  const second = await wc.commitAndPush({ 'b.yaml': jobYaml('b'), 'a.yaml': null }, 'b replaces a');
  await env.requestSync(ns, 'jobs');
  // The interval is 1 s: a suspended repository that still synced would have done so several times by now.
  await new Promise((r) => setTimeout(r, 4000));
  const still = await env.getRepository(ns, 'jobs');
  t.equal(still.status?.lastAppliedRevision, first, 'nothing applied while suspended');
  t.equal(still.status?.lastFetchedRevision, first, 'nothing fetched either');
  t.same(await env.jobNames(ns), ['a'], 'nothing created or pruned');

  await env.custom.patchNamespacedCustomObject({ ...repoApi, body: { spec: { suspend: false } } }, merge);
  const resumed = await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === second && ready(r)?.reason === 'Synced', 'resumed: the pending revision applied');
  t.same(names(resumed), ['b']);
  t.same(await env.jobNames(ns), ['b'], 'and a, whose file left, pruned');
});

t.test('a v1alpha1 manifest is applied, stored as v1 and served back unchanged', async (t) => {
  const ns = 'ml-alpha';
  await env.namespace(ns);
  const wc = await env.gitRepo('alpha');
  const rev = await wc.commitAndPush({ 'mnist.yaml': alphaJob, 'resnet.yaml': jobYaml('resnet') }, 'one of each version');
  await env.createRepository(ns, 'jobs', { url: env.server.url('alpha'), interval: '1h' });
  const r = await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === rev, 'applied');
  t.same(r.status?.errors ?? [], [], 'no errors');
  t.same(r.status?.inventory, ['pytorch-mnist mnist.yaml', 'resnet resnet.yaml']);
  const v1 = await env.getJob(ns, 'pytorch-mnist');
  t.match(v1?.spec, { framework: 'pytorch', image: 'pytorch/pytorch:1.12.0-cuda11.3', numWorkers: 2, gpusPerWorker: 0 }, 'read as v1: converted');
  t.equal(v1?.metadata?.annotations?.[`${GROUP}/source-path`], 'mnist.yaml');
  const alpha = (await env.custom.getNamespacedCustomObject({ group: GROUP, version: 'v1alpha1', namespace: ns, plural: 'trainingjobs', name: 'pytorch-mnist' })) as { spec: Record<string, unknown> };
  t.match(alpha.spec, { workers: 2, gpuPerWorker: 0, args: ['--epochs=10', '--batch-size=64'], hyperparameters: { learningRate: '0.001', optimizer: 'adam' } }, 'read as v1alpha1: the fields as written');

  // The next sync (nothing changed in git) must not see the converted job as drifted and re-apply it.
  await env.requestSync(ns, 'jobs');
  const generation = v1?.metadata?.generation;
  await env.repositoryWhen(t, ns, 'jobs', (r) => ready(r)?.reason === 'Synced' && r.status?.lastAppliedRevision === rev, 'synced again');
  t.equal((await env.getJob(ns, 'pytorch-mnist'))?.metadata?.generation, generation, 'not re-applied with changes');
});

t.test('an inventory written by an earlier version (objects): its jobs are still pruned, and it is replaced by strings', async (t) => {
  const ns = 'ml-upgrade';
  await env.namespace(ns);
  const wc = await env.gitRepo('upgrade');
  const rev = await wc.commitAndPush({ 'keep.yaml': jobYaml('keep') }, 'one job');
  // The earlier CRD: inventory items were objects. Serve that schema, create the repository suspended and
  // give it the status that version wrote (it created "gone", whose file has since left the repository).
  const crd = jobRepositoryCRD();
  const old = structuredClone(crd) as unknown as { spec: { versions: Array<{ schema: { openAPIV3Schema: { properties: { status: { properties: Record<string, unknown> } } } } }> } };
  for (const v of old.spec.versions) v.schema.openAPIV3Schema.properties.status.properties.inventory = { type: 'array', items: { type: 'object', properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, name: { type: 'string' }, file: { type: 'string' } } } };
  const applyCRD = async (body: unknown) => {
    const r = await env.cp.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=upgrade-test', '-f', '-'], { input: JSON.stringify(body) });
    t.equal(r.code, 0, r.stderr);
    // The apiserver takes a moment to serve a changed schema.
    await new Promise((r) => setTimeout(r, 2000));
  };
  await applyCRD(old);
  await env.createRepository(ns, 'jobs', { url: env.server.url('upgrade'), interval: '1h', suspend: true });
  await env.custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: ns, plural: 'trainingjobs', body: { apiVersion: `${GROUP}/v1`, kind: 'TrainingJob', metadata: { name: 'gone', labels: { team: 'nlp', [`${GROUP}/repository`]: `${ns}.jobs` } }, spec: { framework: 'pytorch', model: 'resnet50', dataset: 'imagenet', numWorkers: 1, gpusPerWorker: 0 } } });
  const objects = [{ apiVersion: `${GROUP}/v1`, kind: 'TrainingJob', name: 'gone', file: 'gone.yaml' }, { apiVersion: `${GROUP}/v1`, kind: 'TrainingJob', name: 'keep', file: 'keep.yaml' }];
  await env.custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: 'v1', namespace: ns, plural: 'jobrepositories', name: 'jobs', body: { status: { inventory: objects } } }, merge);
  t.same((await env.getRepository(ns, 'jobs')).status?.inventory, objects, 'stored as the earlier version wrote it');

  await applyCRD(crd);
  t.same((await env.getRepository(ns, 'jobs')).status?.inventory, [{}, {}], "under today's schema the apiserver prunes the old entries' fields");
  // The new version's controller starts (it never wrote this status itself).
  await env.restartController();
  await env.custom.patchNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: ns, plural: 'jobrepositories', name: 'jobs', body: { spec: { suspend: false } } }, merge);
  const r = await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === rev && ready(r)?.reason === 'Synced', 'synced after the upgrade');
  t.same(r.status?.inventory, ['keep keep.yaml'], 'strings now');
  t.same(await env.jobNames(ns), ['keep'], 'the job the old inventory listed, whose file is gone, was pruned: its label says this repository created it');
});
