// Job lists for admission come from the webhook's own TrainingJob watch when it has reached the
// version asked for, and from the apiserver otherwise; either way every persisted job is in them.
import t from 'tap';
import { pino } from 'pino';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { controlPlaneFor } from '../harness/tap.ts';
import { installCRDs } from '../harness/manifests.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInformer } from '../../kube/informer.ts';
import { createKubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/kube-object.ts';
import { kubeClusterFacts } from '../../webhook/cluster-facts.ts';
import { informerJobs } from '../../webhook/informer-jobs.ts';
import { GROUP, TRAININGJOB_PLURAL, V1 } from '../../api/index.ts';
import { systemClock, type Clock } from '../../clock/clock.ts';

const crdDir = join(import.meta.dirname, '..', '..', 'manifests', 'crds');
const cp = await controlPlaneFor(t);
const kc = cp.kubeConfig();
const crds = await installCRDs(cp, readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).map((f) => readFileSync(join(crdDir, f), 'utf8')).join('\n---\n'));
if (crds.code !== 0) throw new Error(`CRDs: ${crds.stderr}`);
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const ns = 'watched-jobs';
await core.createNamespace({ body: { metadata: { name: ns } } });

const job = (name: string) => ({ apiVersion: `${GROUP}/${V1}`, kind: 'TrainingJob', metadata: { name, namespace: ns }, spec: { framework: 'pytorch', model: 'resnet50', dataset: 'imagenet', image: 'pytorch/pytorch:2.3.0', numWorkers: 1, gpusPerWorker: 0, hyperparameters: { epochs: 1 } } });

t.test('served from the watch once it reached the version; from the apiserver when it has not', async (t) => {
  const informer = createInformer<KubeObject>({ kubeConfig: kc, resource: { group: GROUP, version: V1, plural: TRAININGJOB_PLURAL }, logger: pino({ level: 'silent' }), resyncMs: 0 });
  informer.start();
  t.teardown(() => informer.stop());
  t.ok(await informer.waitForSync(), 'synced');
  const served: string[] = [];
  const facts = kubeClusterFacts(createKubeClient({ kubeConfig: kc }));
  // The clock records each catch-up wait, so the test sees that the watch was waited for.
  const waits: number[] = [];
  const clock: Clock = { ...systemClock, setTimer: (fn, ms) => (waits.push(ms), systemClock.setTimer(fn, ms)) };
  const jobs = informerJobs({ informer, fallback: facts.jobs, catchUpMs: 300, onServed: (from) => served.push(from), clock });

  const created = (await custom.createNamespacedCustomObject({ group: GROUP, version: V1, namespace: ns, plural: TRAININGJOB_PLURAL, body: job('a') })) as KubeObject;
  const rv = created.metadata!.resourceVersion!;
  // Asked right after the create: the watch catches up within the wait, and the list has the job.
  const first = await jobs(ns, rv);
  t.same(first.items.map((j) => j.metadata?.name), ['a'], 'the job just created is listed');
  t.same(served, ['watch'], 'by the watch');
  t.ok(BigInt(first.resourceVersion!) >= BigInt(rv), `at a version not older than asked (${first.resourceVersion} ≥ ${rv})`);

  // A version the TrainingJob watch never sees (a ConfigMap write moves etcd's revision past every job event).
  const cm = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'elsewhere' } } });
  const started = performance.now();
  waits.length = 0;
  const second = await jobs(ns, cm.metadata!.resourceVersion!);
  const waited = performance.now() - started;
  t.same(second.items.map((j) => j.metadata?.name), ['a'], 'still every job');
  t.same(served, ['watch', 'apiserver'], 'from the apiserver after the wait');
  t.ok(waits.length >= 2, `after waiting for the watch (${waits.length} waits of ${waits[0]} ms)`);
  t.comment(`fell back after ${waited.toFixed(0)} ms (catch-up 300 ms)`);
  t.ok(BigInt(second.resourceVersion!) >= BigInt(cm.metadata!.resourceVersion!), 'a list at least that new');

  await custom.deleteNamespacedCustomObject({ group: GROUP, version: V1, namespace: ns, plural: TRAININGJOB_PLURAL, name: 'a' });
  const b = (await custom.createNamespacedCustomObject({ group: GROUP, version: V1, namespace: ns, plural: TRAININGJOB_PLURAL, body: job('b') })) as KubeObject;
  const third = await jobs(ns, b.metadata!.resourceVersion!);
  t.same(third.items.map((j) => j.metadata?.name), ['b'], 'a deleted job is gone, a new one is there');
  t.equal(served.at(-1), 'watch');
  t.same((await jobs('other-namespace')).items, [], 'another namespace: nothing');
});
