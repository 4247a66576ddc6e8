// Two `trainingjob controller` processes: only the leader acts; kill it (SIGKILL, no release) and
// the other takes over; no job is lost or duplicated.
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
const create = (name: string) => custom.createNamespacedCustomObject({ ...tjApi, body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, namespace }, spec: { model: 'bert', numWorkers: 1, gpusPerWorker: 1, checkpoint: { enabled: false }, hyperparameters: { kwokRunTime: '1h' } } } });
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

  const killedAt = Date.now();
  leader.child.kill('SIGKILL');
  await create('after');
  const after = await running('after', 60_000);
  const tookMs = Date.now() - killedAt;
  t.ok(after, `the standby reconciled a job created after the kill (${(tookMs / 1000).toFixed(1)} s)`);
  t.ok(tookMs < 30_000, 'within the lease duration plus a retry');
  const newHolder = (await leases.readNamespacedLease({ name: 'trainingjob-controller', namespace: 'trainingjob-system' })).spec?.holderIdentity;
  t.equal(newHolder, identityOf(standby.log()), 'the standby now holds the lease');
  const jobs = (await batch.listNamespacedJob({ namespace })).items.map((j) => j.metadata?.name).sort();
  t.same(jobs, ['after-workers', 'before-workers'], 'exactly one worker Job per TrainingJob');
  t.equal(((await custom.getNamespacedCustomObject({ ...tjApi, name: 'before' })) as TrainingJob).status?.state, 'Running', 'the earlier job is still fine');
});
