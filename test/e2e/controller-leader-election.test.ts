// Two `trainingjob controller` processes: only the leader acts; kill it (SIGKILL, no release) in the middle of a
// queue decision and the other takes over; no job is lost, started twice, or counted twice against the quota.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { BatchV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { controlPlaneFor, eventually } from '../harness/tap.ts';
import { installPlatform } from '../../localcluster/platform.ts';
import { repoRoot } from '../../localcluster/binaries.ts';
import type { TrainingJob } from '../../api/index.ts';

const cp = await controlPlaneFor(t, { workloads: { nodes: 1, gpusPerNode: 8 } });
const kc = cp.kubeConfig();
const platform = await installPlatform({ kubeConfig: kc, examplePolicies: true });
t.teardown(() => platform.stop());
const core = kc.makeApiClient(CoreV1Api);
const batch = kc.makeApiClient(BatchV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const leases = kc.makeApiClient(CoordinationV1Api);
const namespace = 'le';
await core.createNamespace({ body: { metadata: { name: namespace } } });
await eventually(() => core.readNamespacedServiceAccount({ name: 'default', namespace }));
await custom.createClusterCustomObject({
  group: 'ml.example.com', version: 'v1', plural: 'trainingpolicies',
  body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name: 'le-quota' }, spec: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } }, gpuQuota: 3, overQuota: 'Queue' } },
});
await new Promise((r) => setTimeout(r, 2500)); // the webhook's policy cache (2 s)

function controllerProcess(): { child: ChildProcess; log: () => string } {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), 'controller', '--kubeconfig', cp.kubeconfigPath, '--metrics-addr', '127.0.0.1:0', '--health-addr', '127.0.0.1:0', '--hooks-addr', '127.0.0.1:0', '--loopback-only'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  t.teardown(() => {
    // --loopback-only: a refused dial is logged and ends the process with code 3.
    if (child.exitCode === 3 || /refused to dial/.test(out)) t.fail(`controller ${child.pid} refused a non-loopback dial`);
    if (!t.passing()) t.comment(`controller ${child.pid} log (tail):\n${out.split('\n').slice(-25).map((l) => l.slice(0, 400)).join('\n')}`);
    child.kill('SIGKILL');
  });
  return { child, log: () => out };
}

const tjApi = { group: 'ml.example.com', version: 'v1', namespace, plural: 'trainingjobs' };
const create = (name: string, gpus = 1) => custom.createNamespacedCustomObject({ ...tjApi, body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, namespace }, spec: { model: 'bert', numWorkers: 1, gpusPerWorker: gpus, checkpoint: { enabled: false }, hyperparameters: { kwokRunTime: '1h' } } } });
const running = (name: string, ms = 60_000) => eventually(async () => {
  const j = (await custom.getNamespacedCustomObject({ ...tjApi, name })) as TrainingJob;
  return j.status?.state === 'Running' ? j : undefined;
}, ms, 200);
const identityOf = (log: string) => /"identity":"([^"]+)"/.exec(log)?.[1];

t.test('one leader acts; after a SIGKILL the standby takes over and nothing is lost or doubled', async (t) => {
  const a = controllerProcess();
  const b = controllerProcess();
  const lease = await eventually(async () => {
    const l = await leases.readNamespacedLease({ name: 'trainingjob-controller', namespace: 'trainingjob-system' });
    return l.spec?.holderIdentity ? l : undefined;
  }, 30_000);
  const holder = lease!.spec!.holderIdentity!;
  await eventually(async () => (identityOf(a.log()) && identityOf(b.log()) ? true : undefined), 30_000);
  const [leader, standby] = identityOf(a.log()) === holder ? [a, b] : [b, a];
  t.equal(identityOf(leader.log()), holder, 'one of the two holds the lease');

  await create('before');
  t.ok(await running('before'), 'the leader reconciles');
  t.notMatch(standby.log(), /status updated/, 'the standby wrote nothing');
  for (const name of ['q1', 'q2', 'q3']) await create(name);
  await running('q2');
  await eventually(async () => (((await custom.getNamespacedCustomObject({ ...tjApi, name: 'q3' })) as TrainingJob).status?.queue ? true : undefined), 30_000, 200);

  // Quota frees up and the leader dies at once: it may have released q3 or not, and the standby must finish the decision.
  await custom.deleteNamespacedCustomObject({ ...tjApi, name: 'q1' });
  const killedAt = Date.now();
  leader.child.kill('SIGKILL');
  // Larger than the GPU q1 freed, so it waits whether or not q3 was released before the kill.
  await create('after', 2);
  const after = await eventually(async () => {
    const j = (await custom.getNamespacedCustomObject({ ...tjApi, name: 'after' })) as TrainingJob;
    return j.status?.queue ? j : undefined;
  }, 60_000, 200);
  const tookMs = Date.now() - killedAt;
  t.ok(after, `the standby reconciled a job created after the kill (${(tookMs / 1000).toFixed(1)} s)`);
  t.ok(tookMs < 30_000, 'within the lease duration plus a retry');
  t.ok(await running('q3'), 'the job released across the kill runs');
  const counted = await eventually(async () => {
    const j = (await custom.getNamespacedCustomObject({ ...tjApi, name: 'after' })) as TrainingJob;
    return j.status?.queue?.reason.includes('3 in use') ? j : undefined;
  }, 30_000, 200);
  t.equal(counted?.status?.queue?.reason, 'namespace le GPU quota 3: 3 in use, this job asks 2 (1 worker × 2 GPUs)', 'queued behind the 3 jobs holding the quota, each counted once');
  const newHolder = (await leases.readNamespacedLease({ name: 'trainingjob-controller', namespace: 'trainingjob-system' })).spec?.holderIdentity;
  t.equal(newHolder, identityOf(standby.log()), 'the standby now holds the lease');
  const jobs = (await batch.listNamespacedJob({ namespace })).items.filter((j) => !j.metadata?.deletionTimestamp).map((j) => j.metadata?.name).sort();
  t.same(jobs, ['before-workers', 'q2-workers', 'q3-workers'], 'exactly one worker Job per started TrainingJob; none for the queued one');
  t.equal(((await custom.getNamespacedCustomObject({ ...tjApi, name: 'before' })) as TrainingJob).status?.state, 'Running', 'the earlier job is still fine');
  t.equal(((await custom.getNamespacedCustomObject({ ...tjApi, name: 'after' })) as TrainingJob).status?.state, 'Queued', 'and the quota holds: the new job still waits');
});
