// Faults between the controller and the apiserver: an apiserver restart mid-reconcile,
// every watch dropped mid-stream, concurrent writers (409s on the one write that carries a
// resourceVersion), APF throttling (429s) and a child refused by a quota. Each case runs its own
// controller and asserts that the jobs still converge: expected state, one worker Job of the
// current generation, no duplicates.
import t, { type Test } from 'tap';
import { pino } from 'pino';
import { BatchV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, TRAININGJOB_LABEL, TRAININGJOB_PLURAL, V1, type TrainingJob } from '../../api/index.ts';
import { startController, type ControllerOptions, type RunningController } from '../../controller/start.ts';
import { KeepAliveKubeConfig } from '../../kube/kubeconfig.ts';
import { workerJobName } from '../../controller/trainingjob/names.ts';
import { installPlatform } from '../../localcluster/platform.ts';
import { controlPlaneFor, eventually } from '../harness/tap.ts';
import { startTcpProxy } from '../harness/tcp-proxy.ts';
import { createVolumePool } from '../../localcluster/volumes.ts';

const cp = await controlPlaneFor(t, { workloads: { nodes: 2, gpusPerNode: 8 } });
const admin = cp.kubeConfig();
const platform = await installPlatform({ kubeConfig: admin, examplePolicies: true });
t.teardown(() => platform.stop());
const core = admin.makeApiClient(CoreV1Api);
const batch = admin.makeApiClient(BatchV1Api);
const custom = admin.makeApiClient(CustomObjectsApi);
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
// Every case's checkpoint PVCs bind to a PV of their own (Retain: PVs are not reused).
await createVolumePool(core, 16);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secondsSince = (start: number) => ((Date.now() - start) / 1000).toFixed(1);
const tjApi = (namespace: string) => ({ group: GROUP, version: V1, namespace, plural: TRAININGJOB_PLURAL });
const getJob = async (namespace: string, name: string) => (await custom.getNamespacedCustomObject({ ...tjApi(namespace), name })) as TrainingJob;
const createJob = (namespace: string, name: string, spec: Record<string, unknown>) =>
  custom.createNamespacedCustomObject({ ...tjApi(namespace), body: { apiVersion: `${GROUP}/${V1}`, kind: 'TrainingJob', metadata: { name, namespace }, spec: { model: 'bert', numWorkers: 2, gpusPerWorker: 1, ...spec } } });
const waitState = (namespace: string, name: string, states: string[], ms = 90_000) =>
  eventually(async () => {
    const j = await getJob(namespace, name);
    return states.includes(j.status?.state ?? '') ? j : undefined;
  }, ms, 200);

async function createNamespace(name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
  await eventually(() => core.readNamespacedServiceAccount({ name: 'default', namespace: name }));
}

/** One controller per case, so each sees its own fault; its logs are shown when the case fails. */
async function startFaultController(t: Test, opts: Partial<ControllerOptions> & { kubeConfig: KubeConfig }): Promise<RunningController> {
  const lines: string[] = [];
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' }, { write: (l: string) => void (lines.push(l) > 300 && lines.shift()) });
  const controller = await startController({ logger, metricsAddress: '127.0.0.1:0', healthAddress: '127.0.0.1:0', hooksAddress: '127.0.0.1:0', progressIntervalMs: 1000, onNonLoopbackDial: (err) => t.fail(err.message), ...opts });
  t.teardown(async () => {
    await controller.stop();
    if (!t.passing()) t.comment(`controller log tail:\n${lines.slice(-60).join('')}`);
  });
  const ready = await eventually(async () => ((await fetch(`${controller.healthUrl}/readyz`)).ok ? true : undefined), 60_000);
  if (!ready) throw new Error('controller caches never synced');
  return controller;
}

/** The controller instance is still running: its manager has not ended and it answers health checks. */
async function assertAlive(t: Test, controller: RunningController): Promise<void> {
  const ended = await Promise.race([controller.done.then(() => true, () => true), sleep(50).then(() => false)]);
  t.notOk(ended, 'the controller manager is still running');
  t.equal((await fetch(`${controller.healthUrl}/healthz`)).status, 200, 'healthz answers');
}

/** Converged: the state, every worker counted, and exactly one of each child, the worker Job of the current generation. */
async function assertConverged(t: Test, namespace: string, name: string, opts: { state: string; workers: number }): Promise<void> {
  const job = await getJob(namespace, name);
  t.equal(job.status?.state, opts.state, `${name} is ${opts.state}`, { status: job.status });
  t.equal(job.status?.observedGeneration, job.metadata?.generation, `${name}: observedGeneration is current`);
  if (opts.state === 'Completed') t.match(job.status?.workers, { succeeded: opts.workers }, `${name}: ${opts.workers} workers succeeded`);
  const selector = { namespace, labelSelector: `${TRAININGJOB_LABEL}=${name}` };
  const jobs = (await batch.listNamespacedJob(selector)).items.filter((j) => !j.metadata?.deletionTimestamp);
  t.same(jobs.map((j) => j.metadata?.name), [workerJobName(name, job.status?.restarts ?? 0)], `${name}: one worker Job, of the current generation`);
  t.equal(jobs[0]?.spec?.parallelism, opts.workers, `${name}: parallelism ${opts.workers}`);
  t.equal(jobs[0]?.spec?.completions, opts.workers, `${name}: completions ${opts.workers}`);
  if (opts.state === 'Completed') {
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${jobs[0]?.metadata?.name}` })).items;
    t.equal(pods.filter((p) => p.status?.phase === 'Succeeded').length, opts.workers, `${name}: ${opts.workers} succeeded pods, no duplicates`);
  }
  t.equal((await core.listNamespacedService(selector)).items.length, 1, `${name}: one Service`);
  t.equal((await core.listNamespacedConfigMap(selector)).items.length, 1, `${name}: one ConfigMap`);
  t.equal((await core.listNamespacedPersistentVolumeClaim(selector)).items.length, 1, `${name}: one checkpoint PVC`);
}

async function deleteJobs(namespace: string, names: string[]): Promise<void> {
  for (const name of names) await custom.deleteNamespacedCustomObject({ ...tjApi(namespace), name }).catch(() => undefined);
}

async function scrapeCounter(controller: RunningController, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${controller.metricsUrl}/metrics`)).text();
  return Number(pattern.exec(text)?.[1] ?? 0);
}

t.test('apiserver restarted mid-reconcile: every job still converges to Completed', async (t) => {
  const namespace = 'faults-restart';
  await createNamespace(namespace);
  const controller = await startFaultController(t, { kubeConfig: cp.kubeConfig() });
  const names = ['restart-a', 'restart-b', 'restart-c'];
  const started = Date.now();
  for (const name of names) await createJob(namespace, name, { hyperparameters: { kwokRunTime: '5s' } });
  const before = await Promise.all(names.map(async (n) => (await getJob(namespace, n)).status?.state ?? '(none)'));
  t.comment(`states when kube-apiserver stops: ${before.join(', ')}`);
  t.notOk(before.includes('Completed'), 'no job had completed before the restart');
  const restartAt = Date.now();
  await cp.restartProcess('kube-apiserver', { downMs: 3000 });
  t.comment(`kube-apiserver down and back in ${secondsSince(restartAt)} s`);
  for (const name of names) t.equal((await waitState(namespace, name, ['Completed', 'Failed'], 120_000))?.status?.state, 'Completed', `${name} completed`);
  t.comment(`all ${names.length} Completed ${secondsSince(started)} s after create`);
  for (const name of names) await assertConverged(t, namespace, name, { state: 'Completed', workers: 2 });
  await assertAlive(t, controller);
});

t.test('watches dropped: changes made while they are down are acted on once they are back', async (t) => {
  const namespace = 'faults-watch';
  await createNamespace(namespace);
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(cp.server).port) });
  t.teardown(() => proxy.close());
  const base = cp.kubeConfig();
  const proxied = new KeepAliveKubeConfig();
  proxied.loadFromOptions({ clusters: base.clusters.map((c) => ({ ...c, server: `https://127.0.0.1:${proxy.port}` })), users: base.users, contexts: base.contexts, currentContext: base.currentContext });
  const controller = await startFaultController(t, { kubeConfig: proxied });
  await createJob(namespace, 'finish-me', { hyperparameters: { kwokRunTime: '20s' } });
  await createJob(namespace, 'suspend-me', { hyperparameters: { kwokRunTime: '1h' } });
  await createJob(namespace, 'heal-me', { hyperparameters: { kwokRunTime: '1h' } });
  t.teardown(() => deleteJobs(namespace, ['suspend-me', 'heal-me']));
  for (const name of ['finish-me', 'suspend-me', 'heal-me']) t.equal((await waitState(namespace, name, ['Running']))?.status?.state, 'Running', `${name} running`);

  const jobsInformer = controller.manager.informer({ group: GROUP, version: V1, plural: TRAININGJOB_PLURAL });
  const servicesInformer = controller.manager.informer({ group: '', version: 'v1', plural: 'services' }, { labelSelector: TRAININGJOB_LABEL });
  const statsBefore = { jobs: jobsInformer.stats(), services: servicesInformer.stats() };
  // Cut every connection, then keep cutting for a while: each re-opened watch dies at once too.
  const cutAt = Date.now();
  // The watches share the client's HTTP/2 connection, so one cut may end all of them.
  let dropped = proxy.dropAll();
  t.ok(dropped > 0, `open connections cut (${dropped})`);
  const cutter = setInterval(() => (dropped += proxy.dropAll()), 20);
  try {
    await custom.patchNamespacedCustomObject({ ...tjApi(namespace), name: 'suspend-me', body: { spec: { suspend: true } } }, merge);
    await core.deleteNamespacedService({ name: 'heal-me-workers', namespace });
    await sleep(3000);
  } finally {
    clearInterval(cutter);
  }
  t.comment(`connections cut for ${secondsSince(cutAt)} s (${dropped} connections)`);
  const healedAt = Date.now();
  const suspended = await waitState(namespace, 'suspend-me', ['Suspended'], 60_000);
  t.equal(suspended?.status?.state, 'Suspended', 'the suspend made while the watch was down took effect');
  t.equal((await batch.readNamespacedJob({ name: 'suspend-me-workers', namespace })).spec?.suspend, true, 'its worker Job is suspended');
  const restored = await eventually(() => core.readNamespacedService({ name: 'heal-me-workers', namespace }), 60_000);
  t.ok(restored, 'the Service deleted while the watch was down is back');
  t.comment(`acted on within ${secondsSince(healedAt)} s of the watches coming back`);
  const statsAfter = { jobs: jobsInformer.stats(), services: servicesInformer.stats() };
  t.comment(`trainingjobs informer ${JSON.stringify(statsBefore.jobs)} → ${JSON.stringify(statsAfter.jobs)}`);
  t.ok(statsAfter.jobs.failures > statsBefore.jobs.failures && statsAfter.jobs.watches > statsBefore.jobs.watches, 'the TrainingJob watch failed and was re-opened');
  t.ok(statsAfter.services.watches > statsBefore.services.watches, 'the Service watch was re-opened');
  t.equal((await waitState(namespace, 'finish-me', ['Completed', 'Failed'], 90_000))?.status?.state, 'Completed', 'the untouched job completed');
  await assertConverged(t, namespace, 'finish-me', { state: 'Completed', workers: 2 });
  await assertConverged(t, namespace, 'suspend-me', { state: 'Suspended', workers: 2 });
  await assertConverged(t, namespace, 'heal-me', { state: 'Running', workers: 2 });
  t.ok(proxy.connections() > 0, 'the controller talks through the proxy again');
  await assertAlive(t, controller);
});

t.test('409 conflicts: concurrent writers, and a stale finalizer release, still converge', async (t) => {
  const namespace = 'faults-conflict';
  await createNamespace(namespace);
  // burst 1 at 2 requests/s: the finalizer release waits ~0.5 s for its token after deleting the
  // PVC, while the writer below changes the job every ~50 ms, so its cached resourceVersion is stale.
  const controller = await startFaultController(t, { kubeConfig: cp.kubeConfig(), clientQps: 2, clientBurst: 1 });
  const name = 'contended';
  const started = Date.now();
  await createJob(namespace, name, { hyperparameters: { kwokRunTime: '6s' }, checkpoint: { deleteOnCompletion: true } });
  let writing = true;
  let tjWrites = 0;
  let jobWrites = 0;
  const tjWriter = (async () => {
    while (writing) {
      await custom.patchNamespacedCustomObject({ ...tjApi(namespace), name, body: { metadata: { annotations: { 'faults.test/touch': String(tjWrites) } } } }, merge).then(() => tjWrites++, () => undefined);
      await sleep(50);
    }
  })();
  let jobWriting = true;
  let deletedAt = Date.now();
  const workerJob = workerJobName(name, 0);
  const jobWriter = (async () => {
    while (jobWriting) {
      // A merge patch never creates the Job before the controller does (an apply would try to).
      const body = { metadata: { labels: { 'faults.test/writer': String(jobWrites) } } };
      await batch.patchNamespacedJob({ name: workerJob, namespace, body, fieldManager: 'faults-writer' }, merge).then(() => jobWrites++, () => undefined);
      await sleep(100);
    }
  })();
  try {
    const done = await waitState(namespace, name, ['Completed', 'Failed'], 120_000);
    t.equal(done?.status?.state, 'Completed', 'completed while two other writers kept changing the job and its worker Job');
    t.comment(`Completed in ${secondsSince(started)} s; ${tjWrites} TrainingJob writes, ${jobWrites} worker Job writes meanwhile`);
    jobWriting = false;
    await jobWriter;
    t.ok(tjWrites > 10 && jobWrites > 5, 'the writers really wrote');
    await assertConverged(t, namespace, name, { state: 'Completed', workers: 2 });
    const live = await batch.readNamespacedJob({ name: workerJob, namespace });
    t.ok(live.metadata?.labels?.['faults.test/writer'], 'the other field manager\'s label survives the controller\'s applies');
    t.equal(live.metadata?.labels?.[TRAININGJOB_LABEL], name, 'the controller\'s own labels are intact');
    t.ok((await getJob(namespace, name)).metadata?.finalizers?.includes(`${GROUP}/checkpoint-cleanup`), 'the checkpoint finalizer is in place');

    const conflictsBefore = await scrapeCounter(controller, /trainingjob_operator_errors_total\{controller="trainingjob",kind="conflict"\} (\d+)/);
    deletedAt = Date.now();
    await custom.deleteNamespacedCustomObject({ ...tjApi(namespace), name });
    const conflicts = await eventually(async () => {
      const n = await scrapeCounter(controller, /trainingjob_operator_errors_total\{controller="trainingjob",kind="conflict"\} (\d+)/);
      return n > conflictsBefore ? n : undefined;
    }, 30_000, 100);
    t.ok(conflicts, `the finalizer release met 409 Conflict (${conflicts ?? 0} conflicts counted)`);
  } finally {
    writing = false;
    jobWriting = false;
    await Promise.all([tjWriter, jobWriter]);
  }
  const gone = await eventually(async () => {
    try {
      await getJob(namespace, name);
      return undefined;
    } catch {
      return true;
    }
  }, 60_000);
  t.ok(gone, 'once the writer stops, the finalizer is released and the job is gone');
  t.comment(`deleted ${secondsSince(deletedAt)} s after the delete request`);
  t.equal((await core.listNamespacedPersistentVolumeClaim({ namespace })).items.filter((p) => !p.metadata?.deletionTimestamp).length, 0, 'its checkpoint PVC was deleted');
  t.comment(`${tjWrites} TrainingJob writes in all`);
  await assertAlive(t, controller);
});

t.test('429 throttling by API Priority and Fairness: the jobs still converge', async (t) => {
  const namespace = 'faults-throttle';
  await createNamespace(namespace);
  const sa = 'throttled-controller';
  const manifests = `
apiVersion: v1
kind: ServiceAccount
metadata: { name: ${sa}, namespace: ${namespace} }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: faults-throttled-controller }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }
subjects: [{ kind: ServiceAccount, name: ${sa}, namespace: ${namespace} }]
---
# No seats of its own and none borrowed: one request at a time, any concurrent one is rejected.
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata: { name: faults-serial }
spec:
  type: Limited
  limited:
    nominalConcurrencyShares: 0
    lendablePercent: 0
    borrowingLimitPercent: 0
    limitResponse: { type: Reject }
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata: { name: faults-throttled }
spec:
  priorityLevelConfiguration: { name: faults-serial }
  matchingPrecedence: 500
  distinguisherMethod: { type: ByUser }
  rules:
  - subjects: [{ kind: ServiceAccount, serviceAccount: { name: ${sa}, namespace: ${namespace} } }]
    resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], clusterScope: true, namespaces: ['*'] }]
    nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }]
`;
  const applied = await cp.kubectl(['apply', '-f', '-'], { input: manifests });
  t.equal(applied.code, 0, 'APF objects, ServiceAccount and binding applied', { output: applied.stderr });
  t.teardown(async () => void (await cp.kubectl(['delete', 'flowschema/faults-throttled', 'prioritylevelconfiguration/faults-serial', '--ignore-not-found'])));
  // The apiserver marks a FlowSchema it has taken in (Dangling=False) once its config controller saw both objects.
  const active = await eventually(async () => {
    const r = await cp.kubectl(['get', 'flowschema', 'faults-throttled', '-o', 'jsonpath={.status.conditions[?(@.type=="Dangling")].status}']);
    return r.stdout.trim() === 'False' ? true : undefined;
  }, 30_000);
  t.ok(active, 'the FlowSchema is in effect');
  const token = await cp.kubectl(['create', 'token', sa, '-n', namespace, '--duration=1h']);
  t.equal(token.code, 0, 'token for the throttled ServiceAccount', { output: token.stderr });
  const base = cp.kubeConfig();
  const throttledKc = new KeepAliveKubeConfig();
  throttledKc.loadFromOptions({
    clusters: base.clusters,
    users: [{ name: sa, token: token.stdout.trim() }],
    contexts: [{ name: 'throttled', cluster: base.getCurrentCluster()!.name, user: sa }],
    currentContext: 'throttled',
  });

  const rejected = async (): Promise<number> => {
    const r = await cp.kubectl(['get', '--raw', '/metrics']);
    let n = 0;
    for (const m of r.stdout.matchAll(/^apiserver_flowcontrol_rejected_requests_total\{([^}]*)\} (\d+)/gm)) if (m[1]!.includes('flow_schema="faults-throttled"')) n += Number(m[2]);
    return n;
  };
  const started = Date.now();
  // Many workers and no client-side limit: the controller itself sends concurrent requests.
  const controller = await startFaultController(t, { kubeConfig: throttledKc, workers: 8, clientQps: 1000, clientBurst: 1000 });
  const names = ['throttle-a', 'throttle-b', 'throttle-c', 'throttle-d', 'throttle-e', 'throttle-f'];
  await Promise.all(names.map((name) => createJob(namespace, name, { hyperparameters: { kwokRunTime: '3s' } })));
  for (const name of names) t.equal((await waitState(namespace, name, ['Completed', 'Failed'], 150_000))?.status?.state, 'Completed', `${name} completed`);
  t.comment(`all ${names.length} Completed ${secondsSince(started)} s after the controller started`);
  const n = await rejected();
  const errors = await scrapeCounter(controller, /trainingjob_operator_errors_total\{controller="trainingjob",kind="error"\} (\d+)/);
  t.comment(`apiserver rejected ${n} of the controller's requests with 429; ${errors} reconciles failed and were retried`);
  t.ok(n > 0, 'the apiserver throttled the controller (429)');
  for (const name of names) await assertConverged(t, namespace, name, { state: 'Completed', workers: 2 });
  await assertAlive(t, controller);
});

t.test('a refused ConfigMap (ResourceQuota): the siblings it is applied with exist, the worker Job does not until it can be made', async (t) => {
  const namespace = 'faults-quota';
  await createNamespace(namespace);
  // kube-controller-manager publishes kube-root-ca.crt into every namespace; the quota allows that one ConfigMap and no more.
  t.ok(await eventually(() => core.readNamespacedConfigMap({ name: 'kube-root-ca.crt', namespace }), 30_000), 'kube-root-ca.crt published');
  await core.createNamespacedResourceQuota({ namespace, body: { metadata: { name: 'one-configmap' }, spec: { hard: { configmaps: '1' } } } });
  const controller = await startFaultController(t, { kubeConfig: cp.kubeConfig() });
  const errorsBefore = await scrapeCounter(controller, /trainingjob_operator_errors_total\{controller="trainingjob",kind="error"\} (\d+)/);
  const name = 'gated';
  await createJob(namespace, name, { hyperparameters: { kwokRunTime: '3s' } });
  const failing = await eventually(async () => {
    const n = await scrapeCounter(controller, /trainingjob_operator_errors_total\{controller="trainingjob",kind="error"\} (\d+)/);
    return n >= errorsBefore + 3 ? n : undefined;
  }, 30_000, 100);
  t.ok(failing, `reconciles fail while the quota refuses the ConfigMap (${(failing ?? 0) - errorsBefore} errors)`);
  const selector = { namespace, labelSelector: `${TRAININGJOB_LABEL}=${name}` };
  t.equal((await core.listNamespacedConfigMap(selector)).items.length, 0, 'no ConfigMap: the quota refused it');
  t.equal((await core.listNamespacedService(selector)).items.length, 1, 'the Service, applied beside the ConfigMap, exists');
  t.equal((await core.listNamespacedPersistentVolumeClaim(selector)).items.length, 1, 'the checkpoint PVC, applied beside the ConfigMap, exists');
  t.equal((await batch.listNamespacedJob(selector)).items.length, 0, 'no worker Job whose pods would mount a missing ConfigMap');
  const ready = (j: TrainingJob | undefined) => j?.status?.conditions?.find((c) => c.type === 'Ready');
  const shown = await eventually(async () => {
    const r = ready(await getJob(namespace, name));
    return r?.reason === 'ReconcileFailed' ? r : undefined;
  }, 30_000, 200);
  t.match(shown, { status: 'False', reason: 'ReconcileFailed', message: /^the Kubernetes API answered 403: .*exceeded quota: one-configmap/ }, 'kubectl describe shows why the job does not move: Ready=False with the API\'s words');
  // Written once: the retries that keep failing (with backoff) do not write it again, so they cannot wake the job at once.
  const shownVersion = (await getJob(namespace, name)).metadata?.resourceVersion;
  const errorsShown = await scrapeCounter(controller, /trainingjob_operator_errors_total\{controller="trainingjob",kind="error"\} (\d+)/);
  const retried = await eventually(async () => {
    const n = await scrapeCounter(controller, /trainingjob_operator_errors_total\{controller="trainingjob",kind="error"\} (\d+)/);
    return n >= errorsShown + 2 ? n : undefined;
  }, 30_000, 100);
  t.ok(retried, `the reconcile kept failing (${(retried ?? 0) - errorsShown} more errors)`);
  t.equal((await getJob(namespace, name)).metadata?.resourceVersion, shownVersion, 'and the job was not written again meanwhile');
  const freedAt = Date.now();
  await core.deleteNamespacedResourceQuota({ name: 'one-configmap', namespace });
  t.equal((await waitState(namespace, name, ['Completed', 'Failed'], 120_000))?.status?.state, 'Completed', 'once the quota is gone the job runs and completes');
  t.comment(`Completed ${secondsSince(freedAt)} s after the quota was deleted`);
  await assertConverged(t, namespace, name, { state: 'Completed', workers: 2 });
  t.match(ready(await getJob(namespace, name)), { status: 'True', reason: 'TrainingSucceeded' }, 'a reconcile that succeeds writes Ready from the state again');
  await assertAlive(t, controller);
});
