// The restart action end to end: the real argocd CLI computes the object the action returns from a live
// Running TrainingJob, the patch goes to the apiserver as Argo CD's server sends it (a merge patch of the
// difference, status through the status subresource), and the real controller answers with the next
// worker Job generation while the old one goes away.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions, type V1Job } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { ensureBinaries, repoRoot } from '../../localcluster/binaries.ts';
import { runCommand } from '../../localcluster/controlplane.ts';
import { controllerEnv } from '../harness/e2e.ts';
import { eventually } from '../harness/tap.ts';
import { workerJobName } from '../../controller/trainingjob/names.ts';
import type { TrainingJob } from '../../api/index.ts';

const { argocd } = await ensureBinaries({ only: ['argocd'], progress: (l) => t.comment(l) });
const { batch, custom } = await controllerEnv(t, { namespace: 'ml' });
const namespace = 'ml';
const tjApi = { group: 'ml.example.com', version: 'v1', namespace, plural: 'trainingjobs' };
const getJob = async (name: string) => (await custom.getNamespacedCustomObject({ ...tjApi, name })) as TrainingJob;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const dir = mkdtempSync(join(tmpdir(), 'argocd-restart-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const isObject = (v: unknown): v is { [key: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);
// RFC 7386 merge patch from `from` to `to`, as jsonpatch.CreateMergePatch makes it in Argo CD's server.
function mergePatch(from: Json, to: Json): Json | undefined {
  if (!isObject(from) || !isObject(to)) return JSON.stringify(from) === JSON.stringify(to) ? undefined : to;
  const out: { [key: string]: Json } = {};
  for (const key of new Set([...Object.keys(from), ...Object.keys(to)])) {
    if (!(key in to)) out[key] = null;
    else if (!(key in from)) out[key] = to[key]!;
    else {
      const d = mergePatch(from[key]!, to[key]!);
      if (d !== undefined) out[key] = d;
    }
  }
  return Object.keys(out).length ? out : undefined;
}

t.test('restart from Argo CD: a new worker Job generation, the old one deleted, Running again', async (t) => {
  await custom.createNamespacedCustomObject({
    ...tjApi,
    body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: 'bert', namespace }, spec: { model: 'bert-large', numWorkers: 2, gpusPerWorker: 1, hyperparameters: { kwokRunTime: '600s' } } },
  });
  const running = await eventually(async () => {
    const j = await getJob('bert');
    return j.status?.state === 'Running' ? j : undefined;
  }, 120_000, 250);
  t.equal(running?.status?.state, 'Running', 'the job runs');
  const before = await batch.readNamespacedJob({ name: workerJobName('bert', 0), namespace });

  const live = join(dir, 'bert.yaml');
  writeFileSync(live, stringify(running));
  const r = await runCommand(argocd!, ['admin', 'settings', 'resource-overrides', 'run-action', live, 'restart', '--argocd-cm-path', join(repoRoot, 'argocd', 'argocd-cm.yaml')], {
    PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: join(dir, 'none'), KUBECTL_EXTERNAL_DIFF: 'sh -c \'cat "$2"\' result',
  });
  t.equal(r.code, 0, 'the action ran', { stderr: r.stderr });
  const marker = 'Following fields have been changed:';
  const result = parse(r.stdout.slice(r.stdout.indexOf(marker) + marker.length)) as Json;
  const patch = mergePatch(running as unknown as Json, result);
  t.ok(isObject(patch) && Object.keys(patch).every((k) => k === 'status'), 'the action changes status only', { patch });
  const statusPatch = isObject(patch) && isObject(patch.status) ? patch.status : {};
  t.same(Object.keys(statusPatch).sort(), ['conditions', 'restarts', 'state'], 'state, restarts and conditions only');

  // Argo CD's server: the whole difference to the status subresource (which takes only status from it).
  await custom.patchNamespacedCustomObjectStatus({ ...tjApi, name: 'bert', body: patch as object }, merge);

  const next = await eventually(async () => {
    const j = await getJob('bert');
    return j.status?.state === 'Running' && j.status.restarts === 1 ? j : undefined;
  }, 120_000, 250);
  t.equal(next?.status?.state, 'Running', 'Running again');
  t.equal(next?.status?.restarts, 1, 'one restart counted');
  const newJob = await batch.readNamespacedJob({ name: workerJobName('bert', 1), namespace });
  t.equal(newJob.metadata?.ownerReferences?.[0]?.name, 'bert', `${workerJobName('bert', 1)} belongs to the TrainingJob`);
  const gone = await eventually(async () => {
    const jobs = (await batch.listNamespacedJob({ namespace })).items.filter((j: V1Job) => j.metadata?.name === before.metadata?.name && !j.metadata?.deletionTimestamp);
    return jobs.length === 0 ? true : undefined;
  }, 60_000, 250);
  t.ok(gone, `the old worker Job ${before.metadata?.name} is deleted`);
});
