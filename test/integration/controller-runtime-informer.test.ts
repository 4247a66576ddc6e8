// Informers and the manager against a real apiserver: events, resync, label selectors, a dropped
// watch, an apiserver restart, owner-mapped keys, and the shared client rate limiter.
import t from 'tap';
import { pino } from 'pino';
import { CoreV1Api, setHeaderOptions, type V1ConfigMap } from '@kubernetes/client-node';
import { controlPlaneFor, eventually } from '../harness/tap.ts';
import { startTcpProxy, viaServer } from '../harness/tcp-proxy.ts';
import { createInformer, type Informer } from '../../kube/informer.ts';
import { createManager, watchOf } from '../../controller/runtime/manager.ts';
import { controllerOwnerKey, type KubeObject } from '../../kube/kube-object.ts';
import { systemClock, type Clock } from '../../clock/clock.ts';

const cp = await controlPlaneFor(t);
const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const core = cp.kubeConfig().makeApiClient(CoreV1Api);

type Cm = KubeObject & { data?: Record<string, string> };
interface Recorded { adds: string[]; updates: Array<[string, string | undefined, string | undefined]>; deletes: string[] }

function record(inf: Informer<Cm>): Recorded {
  const r: Recorded = { adds: [], updates: [], deletes: [] };
  inf.on({
    add: (o) => r.adds.push(o.metadata!.name!),
    update: (old, o) => r.updates.push([o.metadata!.name!, old.data?.v, o.data?.v]),
    delete: (o) => r.deletes.push(o.metadata!.name!),
  });
  return r;
}

async function namespace(name: string): Promise<string> {
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

const mergePatch = setHeaderOptions('Content-Type', 'application/merge-patch+json');
const cm = (ns: string, name: string, v: string, labels?: Record<string, string>): V1ConfigMap => ({ metadata: { name, namespace: ns, labels }, data: { v } });

t.test('an informer caches ConfigMaps and reports add, update and delete', async (t) => {
  const ns = await namespace('inf-events');
  await core.createNamespacedConfigMap({ namespace: ns, body: cm(ns, 'pre', '0') });
  const inf = createInformer<Cm>({ kubeConfig: cp.kubeConfig(), resource: { version: 'v1', plural: 'configmaps', namespace: ns }, logger });
  const r = record(inf);
  inf.start();
  t.teardown(() => inf.stop());
  t.equal(await inf.waitForSync(), true);
  t.ok(inf.hasSynced());
  t.same(r.adds, ['pre'], 'the initial list arrives as adds');
  t.equal(inf.get(ns, 'pre')?.kind, 'ConfigMap', 'listed objects carry kind like watched ones');

  await core.createNamespacedConfigMap({ namespace: ns, body: cm(ns, 'one', '1') });
  t.ok(await eventually(async () => (inf.get(ns, 'one') ? true : undefined), 10_000), 'add seen');
  await core.patchNamespacedConfigMap({ namespace: ns, name: 'one', body: { data: { v: '2' } } }, mergePatch);
  t.ok(await eventually(async () => (inf.get(ns, 'one')?.data?.v === '2' ? true : undefined), 10_000), 'update seen');
  t.same(r.updates.find((u) => u[0] === 'one'), ['one', '1', '2'], 'update handlers get old and new');
  await core.deleteNamespacedConfigMap({ namespace: ns, name: 'one' });
  t.ok(await eventually(async () => (inf.get(ns, 'one') ? undefined : true), 10_000), 'delete seen');
  t.same(r.deletes, ['one']);
  t.same(inf.list(ns).map((o) => o.metadata?.name).sort(), ['kube-root-ca.crt', 'pre'].filter((n) => inf.get(ns, n)).sort());
  t.same(inf.list().length, inf.list(ns).length, 'a namespaced informer holds only its namespace');
});

t.test('a label selector limits what is cached, and resync re-delivers objects as updates', async (t) => {
  const ns = await namespace('inf-selector');
  await core.createNamespacedConfigMap({ namespace: ns, body: cm(ns, 'mine', 'a', { app: 'tj' }) });
  await core.createNamespacedConfigMap({ namespace: ns, body: cm(ns, 'other', 'b') });
  const inf = createInformer<Cm>({ kubeConfig: cp.kubeConfig(), resource: { version: 'v1', plural: 'configmaps' }, labelSelector: 'app=tj', resyncMs: 300, logger });
  const r = record(inf);
  inf.start();
  t.teardown(() => inf.stop());
  await inf.waitForSync();
  t.same(inf.list().map((o) => o.metadata?.name), ['mine'], 'all namespaces, selector applied');
  const resynced = await eventually(async () => (r.updates.filter((u) => u[0] === 'mine').length >= 2 ? true : undefined), 5000, 50);
  t.ok(resynced, 'resync delivered the object as an update, repeatedly');
  t.ok(r.updates.every(([, a, b]) => a === b), 'resync updates carry the same object as old and new');
});

t.test('a cache transform trims listed and watched objects before handlers and the cache see them; a manager shares one transform per informer', async (t) => {
  const ns = await namespace('inf-transform');
  await core.createNamespacedConfigMap({ namespace: ns, body: cm(ns, 'listed', '1') });
  const seen: string[] = [];
  const transform = (o: KubeObject): KubeObject => {
    seen.push(o.metadata!.name!);
    return { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata?.name, namespace: o.metadata?.namespace, resourceVersion: o.metadata?.resourceVersion } };
  };
  const inf = createInformer<Cm>({ kubeConfig: cp.kubeConfig(), resource: { version: 'v1', plural: 'configmaps', namespace: ns }, logger, transform });
  const handed: Cm[] = [];
  inf.on({ add: (o) => handed.push(o), update: (_old, o) => handed.push(o) });
  inf.start();
  t.teardown(() => inf.stop());
  await inf.waitForSync();
  const listed = inf.get(ns, 'listed');
  t.same(listed && Object.keys(listed.metadata!).sort(), ['name', 'namespace', 'resourceVersion'], 'a listed object is cached trimmed (no uid, no managedFields)');
  t.equal(listed?.data, undefined, 'its data is gone');
  t.equal(listed?.kind, 'ConfigMap', 'kind is filled before the transform runs');
  await core.createNamespacedConfigMap({ namespace: ns, body: cm(ns, 'watched', '2') });
  t.ok(await eventually(async () => (inf.get(ns, 'watched') ? true : undefined), 10_000), 'watched object cached');
  t.same(Object.keys(inf.get(ns, 'watched')!.metadata!).sort(), ['name', 'namespace', 'resourceVersion'], 'a watched object is cached trimmed');
  t.ok(handed.length >= 2 && handed.every((o) => o.data === undefined && o.metadata?.uid === undefined), 'handlers get the trimmed objects');
  t.ok(seen.includes('listed') && seen.includes('watched'), 'the transform ran on the list and on the watch');

  const mgr = createManager({ kubeConfig: cp.kubeConfig(), logger });
  const trimmed = mgr.informer<Cm>({ version: 'v1', plural: 'configmaps', namespace: ns }, { transform });
  t.equal(mgr.informer({ version: 'v1', plural: 'configmaps', namespace: ns }), trimmed, 'asking without a transform shares the trimmed informer');
  t.equal(mgr.informer({ version: 'v1', plural: 'configmaps', namespace: ns }, { transform }), trimmed, 'asking with the same transform shares it too');
  t.throws(() => mgr.informer({ version: 'v1', plural: 'configmaps', namespace: ns }, { transform: (o) => o }), /different cache transform/, 'a second, different transform is refused');
});

t.test('after the watch connection is dropped the informer re-watches and misses nothing', async (t) => {
  const ns = await namespace('inf-drop');
  const apiUrl = new URL(cp.server);
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(apiUrl.port) });
  t.teardown(() => proxy.close());
  const kc = viaServer(cp.kubeConfig(), `https://127.0.0.1:${proxy.port}`);
  const inf = createInformer<Cm>({ kubeConfig: kc, resource: { version: 'v1', plural: 'configmaps', namespace: ns }, logger, backoff: { initialMs: 200, maxMs: 2000 } });
  const r = record(inf);
  inf.start();
  t.teardown(() => inf.stop());
  await inf.waitForSync();
  const watchesBefore = inf.stats().watches;
  for (let i = 0; i < 3; i++) {
    t.ok(await eventually(async () => (proxy.connections() >= 1 ? true : undefined), 15_000, 50), 'the watch is connected through the proxy');
    t.ok(proxy.dropAll() >= 1, 'a watch connection was open and got cut');
    await core.createNamespacedConfigMap({ namespace: ns, body: cm(ns, `after-drop-${i}`, String(i)) });
    t.ok(await eventually(async () => (inf.get(ns, `after-drop-${i}`) ? true : undefined), 15_000, 100), `object created after drop ${i} seen`);
  }
  t.ok(inf.stats().watches > watchesBefore, `re-watched (${inf.stats().watches - watchesBefore} new watches)`);
  t.equal(r.adds.filter((n) => n.startsWith('after-drop')).length, 3, 'each seen once as an add');
});

t.test('the informer recovers after kube-apiserver is restarted', async (t) => {
  const ns = await namespace('inf-restart');
  await core.createNamespacedConfigMap({ namespace: ns, body: cm(ns, 'doomed', 'x') });
  const inf = createInformer<Cm>({ kubeConfig: cp.kubeConfig(), resource: { version: 'v1', plural: 'configmaps', namespace: ns }, logger, backoff: { initialMs: 200, maxMs: 2000 } });
  const r = record(inf);
  inf.start();
  t.teardown(() => inf.stop());
  await inf.waitForSync();
  const t0 = Date.now();
  await cp.restartProcess('kube-apiserver', { downMs: 1500 });
  t.comment(`kube-apiserver down and back in ${Date.now() - t0} ms`);
  const fresh = cp.kubeConfig().makeApiClient(CoreV1Api);
  await fresh.createNamespacedConfigMap({ namespace: ns, body: cm(ns, 'after-restart', 'y') });
  await fresh.deleteNamespacedConfigMap({ namespace: ns, name: 'doomed' });
  const t1 = Date.now();
  t.ok(await eventually(async () => (inf.get(ns, 'after-restart') && !inf.get(ns, 'doomed') ? true : undefined), 30_000, 100), 'changes after the restart reach the cache');
  t.comment(`cache caught up ${Date.now() - t1} ms after the writes; stats ${JSON.stringify(inf.stats())}`);
  t.ok(inf.stats().failures >= 1, 'the outage was noticed as failures (with backoff), not a silent stall');
  t.same(r.deletes, ['doomed']);
  t.ok(inf.hasSynced());
});

t.test('a manager maps child events to owner keys and rate-limits its clients', async (t) => {
  const ns = await namespace('mgr');
  const parent = await core.createNamespacedConfigMap({ namespace: ns, body: cm(ns, 'parent', 'p') });
  // The clock records the waits scheduled while `recording`: the limiter's token waits among them.
  const waits: number[] = [];
  let recording = false;
  const clock: Clock = { ...systemClock, setTimer: (fn, ms) => (recording && waits.push(ms), systemClock.setTimer(fn, ms)) };
  const mgr = createManager({ kubeConfig: cp.kubeConfig(), logger, clientQps: 4, clientBurst: 1, clock });
  const parents = mgr.informer<Cm>({ version: 'v1', plural: 'configmaps', namespace: ns }, { labelSelector: 'role=parent' });
  const children = mgr.informer<Cm>({ version: 'v1', plural: 'configmaps', namespace: ns }, { labelSelector: 'role=child' });
  t.equal(mgr.informer({ version: 'v1', plural: 'configmaps', namespace: ns }, { labelSelector: 'role=child' }), children, 'informers are shared per resource and selector');
  const reconciled: string[] = [];
  const client = mgr.client;
  mgr.addController({
    name: 'parents',
    workers: 2,
    watches: [watchOf(parents), watchOf(children, controllerOwnerKey({ apiVersion: 'v1', kind: 'ConfigMap' }))],
    reconcile: async (key) => {
      reconciled.push(key);
      return undefined;
    },
  });
  const ctrl = new AbortController();
  const running = mgr.start(ctrl.signal);
  await core.patchNamespacedConfigMap({ namespace: ns, name: 'parent', body: { metadata: { labels: { role: 'parent' } } } }, mergePatch);
  t.ok(await eventually(async () => (reconciled.includes(`${ns}/parent`) ? true : undefined), 10_000), 'the parent itself is reconciled');
  t.ok(mgr.hasSynced() && mgr.isLeader(), 'synced, and leading without an election');
  reconciled.length = 0;
  await core.createNamespacedConfigMap({
    namespace: ns,
    body: {
      metadata: { name: 'child', namespace: ns, labels: { role: 'child' }, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'parent', uid: parent.metadata!.uid!, controller: true }] },
      data: { v: 'c' },
    },
  });
  t.ok(await eventually(async () => (reconciled.includes(`${ns}/parent`) ? true : undefined), 10_000), 'a child event reconciles its owner');
  t.notOk(reconciled.includes(`${ns}/child`), 'children are not reconciled under their own key');

  const started = Date.now();
  recording = true;
  await Promise.all([0, 1, 2, 3, 4].map(() => client.get({ version: 'v1', plural: 'configmaps', namespace: ns, name: 'parent' })));
  recording = false;
  const tokenWaits = waits.filter((ms) => ms > 0 && ms <= 1000);
  t.ok(tokenWaits.length >= 4, `with burst 1, at least 4 of 5 calls waited for a token (waits ${tokenWaits.join(', ')} ms)`);
  t.comment(`5 calls at 4 qps with burst 1 took ${Date.now() - started} ms`);
  ctrl.abort();
  await running;
  t.equal(mgr.isLeader(), false);
});

