// Priorities order the namespace queue: a later high-priority job starts before earlier low ones; every queued job
// shows its place and the limit with the numbers (status, `trainingjob queue`, metrics); unknown classes are refused;
// room for several starts them together (pipelined releases) in queue order, never past the policy's limits.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SchedulingV1Api } from '@kubernetes/client-node';
import { eventually } from '../harness/tap.ts';
import { controllerEnv } from '../harness/e2e.ts';
import type { TrainingJob } from '../../api/index.ts';

const namespace = 'team-b'; // the example policy: gpuQuota 8, overQuota Queue
const { cp, kc, core, custom, controller } = await controllerEnv(t, { namespace, namespaceLabels: { 'ml.example.com/team': 'team-b' }, controller: { queueRetryMs: 1000 } });
const scheduling = kc.makeApiClient(SchedulingV1Api);
for (const [name, value] of [['research-high', 5000], ['research-low', 100]] as const) {
  await scheduling.createPriorityClass({ body: { metadata: { name }, value, description: `test class ${name}` } });
}

const tjApi = { group: 'ml.example.com', version: 'v1', namespace, plural: 'trainingjobs' };
const getJob = async (name: string) => (await custom.getNamespacedCustomObject({ ...tjApi, name })) as TrainingJob;
const create = (name: string, runTime: string, priorityClassName?: string) =>
  custom.createNamespacedCustomObject({ ...tjApi, body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, namespace }, spec: { model: 'llama', numWorkers: 4, gpusPerWorker: 2, checkpoint: { enabled: false }, ...(priorityClassName ? { priorityClassName } : {}), hyperparameters: { kwokRunTime: runTime } } } });
const quotaFull = 'namespace team-b GPU quota 8: 8 in use, this job asks 8 (4 workers × 2 GPUs)';

t.test('a later high-priority job jumps the queue; each queued job says where it stands and why', async (t) => {
  await create('holder', '10s');
  await eventually(async () => ((await getJob('holder')).status?.state === 'Running' ? true : undefined), 60_000, 200);
  await create('low', '2s', 'research-low');
  await create('plain', '2s');
  await create('high', '2s', 'research-high');
  const places = await eventually(async () => {
    const jobs = await Promise.all(['high', 'low', 'plain'].map(getJob));
    const p = jobs.map((j) => j.status?.queue?.position);
    return p.join() === '1,2,3' ? jobs : undefined;
  }, 30_000, 200);
  t.ok(places, 'positions by priority: high 1, low 2, plain (no class: 0) 3');
  const [high, low, plain] = places ?? [];
  t.strictSame(high?.status?.queue, { position: 1, priority: 5000, reason: quotaFull }, 'the first in line names the quota with the numbers');
  t.equal(low?.status?.queue?.priority, 100);
  t.equal(plain?.status?.queue?.reason, `2 jobs ahead; next to start: high (priority 5000, 8 GPUs); ${quotaFull}`);
  t.equal(plain?.status?.conditions?.find((c) => c.type === 'Queued')?.message, `queued at position 3: 2 jobs ahead; next to start: high (priority 5000, 8 GPUs); ${quotaFull}`, 'the condition says it too');

  const wide = await cp.kubectl(['get', 'trainingjobs', '-n', namespace, '-o', 'wide', '--sort-by=.metadata.name']);
  t.match(wide.stdout, /QUEUE .*PRIORITY\s+WAITING FOR/, 'kubectl -o wide shows the queue columns');
  t.match(wide.stdout, /\nplain\s+Queued\s+.*\s3\s+\S+\s+2 jobs ahead/, 'and the place and reason of each job');

  const dir = mkdtempSync(join(tmpdir(), 'tj-queue-'));
  writeFileSync(join(dir, 'kubeconfig'), kc.exportConfig());
  const cli = await promisify(execFile)(process.execPath, ['bin/trainingjob.js', 'queue', '-n', namespace, '--kubeconfig', join(dir, 'kubeconfig')]);
  const rows = cli.stdout.split('\n').filter((l) => l.startsWith('team-b'));
  t.strictSame(rows.map((r) => r.split(/\s+/).slice(1, 4)), [['1', 'high', 'research-high'], ['2', 'low', 'research-low'], ['3', 'plain', '0']], '`trainingjob queue` lists them in start order');
  t.match(cli.stdout, /3 queued \(team-b: 3 jobs, 24 GPUs\)/);

  const metrics = await (await fetch(`${controller.metricsUrl}/metrics`)).text();
  t.match(metrics, /trainingjob_queue_pending_jobs\{namespace="team-b"\} 3/);
  t.match(metrics, /trainingjob_queue_pending_gpus\{namespace="team-b"\} 24/);

  const done = await eventually(async () => {
    const jobs = await Promise.all(['holder', 'high', 'low', 'plain'].map(getJob));
    return jobs.every((j) => j.status?.state === 'Completed') ? jobs : undefined;
  }, 150_000, 300);
  t.ok(done, 'every job ran to completion');
  const start = (name: string) => Date.parse(done?.find((j) => j.metadata?.name === name)?.status?.startTime ?? '');
  t.ok(start('high') < start('low') && start('low') < start('plain'), 'started by priority, not by creation', { high: start('high'), low: start('low'), plain: start('plain') });
  t.equal(done?.find((j) => j.metadata?.name === 'high')?.status?.queue, undefined, 'no queue place once started');
  const pods = await core.listNamespacedPod({ namespace, labelSelector: 'batch.kubernetes.io/job-name=high-workers' });
  t.ok(pods.items.length > 0 && pods.items.every((p) => p.spec?.priorityClassName === 'research-high' && p.spec?.priority === 5000), 'the worker pods carry the class and its value', { pods: pods.items.map((p) => [p.metadata?.name, p.spec?.priorityClassName, p.spec?.priority]) });
});

t.test('an unknown PriorityClass is refused in kubectl, naming the field and the classes that exist', async (t) => {
  const manifest = `apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata:\n  name: urgent\n  namespace: ${namespace}\nspec:\n  model: llama\n  priorityClassName: urgent\n`;
  const r = await cp.kubectl(['apply', '-f', '-'], { input: manifest });
  t.not(r.code, 0);
  t.match(r.stderr, /spec\.priorityClassName: PriorityClass "urgent" not found \(existing: research-high, research-low, system-cluster-critical, system-node-critical\)/);
  const policy = `apiVersion: ml.example.com/v1\nkind: TrainingPolicy\nmetadata:\n  name: bad-default\nspec:\n  defaults:\n    priorityClassName: urgent\n`;
  const p = await cp.kubectl(['apply', '-f', '-'], { input: policy });
  t.not(p.code, 0);
  t.match(p.stderr, /spec\.defaults\.priorityClassName: PriorityClass "urgent" not found/, 'and so is a policy default that names one');
});

t.test('GPUs freed for many at once: the queued jobs that fit start together, the most urgent first, never past the policy\'s limits', async (t) => {
  const small = (name: string, priorityClassName?: string) =>
    custom.createNamespacedCustomObject({ ...tjApi, body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, namespace }, spec: { model: 'llama', numWorkers: 1, gpusPerWorker: 1, checkpoint: { enabled: false }, ...(priorityClassName ? { priorityClassName } : {}), hyperparameters: { kwokRunTime: '40s' } } } });
  await create('wide', '6s');
  await eventually(async () => ((await getJob('wide')).status?.state === 'Running' ? true : undefined), 60_000, 200);
  const plain = ['s0', 's1', 's2', 's3', 's4'];
  for (const n of plain) await small(n);
  for (const n of ['u0', 'u1', 'u2']) await small(n, 'research-high');
  const all = [...plain, 'u0', 'u1', 'u2', 'wide'];
  // Watched from the holder's end until four have started: quota 8 and maxConcurrentJobs 4 must hold at every look.
  let most = { jobs: 0, gpus: 0 };
  let seen = '';
  const started = await eventually(async () => {
    const jobs = await Promise.all(all.map(getJob));
    seen = jobs.map((j) => `${j.metadata?.name}: ${j.spec.suspend ? 'suspended' : 'released'} ${j.status?.state}`).join('; ');
    const holding = jobs.filter((j) => j.spec.suspend !== true && j.status?.state !== 'Completed');
    const gpus = holding.reduce((n, j) => n + (j.spec.numWorkers ?? 1) * (j.spec.gpusPerWorker ?? 1), 0);
    most = { jobs: Math.max(most.jobs, holding.length), gpus: Math.max(most.gpus, gpus) };
    return holding.length >= 4 && !holding.some((j) => j.metadata?.name === 'wide') ? holding.map((j) => j.metadata?.name).sort() : undefined;
  }, 60_000, 100);
  t.same(started, ['s0', 'u0', 'u1', 'u2'], 'the three urgent jobs and the oldest other started', { seen });
  t.ok(most.jobs <= 4 && most.gpus <= 8, `past the limits at no look, every 100 ms (most seen at once: ${most.jobs} jobs, ${most.gpus} GPUs)`);
  let waiting = '';
  const places = await eventually(async () => {
    waiting = JSON.stringify((await Promise.all(['s1', 's2', 's3', 's4'].map(getJob))).map((j) => [j.spec.suspend, j.status?.queue?.position]));
    return waiting === '[[true,1],[true,2],[true,3],[true,4]]' ? waiting : undefined;
  }, 10_000, 200);
  t.ok(places, `the others wait in creation order: ${waiting}`);
  t.match((await getJob('s1')).status?.queue?.reason, /concurrent job limit 4: 4 active/, 'the first in line names the limit that holds it');
  for (const n of all) await custom.deleteNamespacedCustomObject({ ...tjApi, name: n });
});
