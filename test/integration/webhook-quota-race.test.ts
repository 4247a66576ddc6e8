// 40 concurrent creates through the apiserver, spread over 2 webhook replicas, never admit past quota.
import t from 'tap';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { controlPlaneFor } from '../harness/tap.ts';
import { installPlatform } from '../../localcluster/platform.ts';

const cp = await controlPlaneFor(t);
const platform = await installPlatform({ kubeConfig: cp.kubeConfig(), replicas: 2 });
t.teardown(() => platform.stop());
const kc = cp.kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const group = 'ml.example.com';
const version = 'v1';
const namespace = 'race';

await core.createNamespace({ body: { metadata: { name: namespace, labels: { team: 'race' } } } });
await custom.createClusterCustomObject({
  group, version, plural: 'trainingpolicies',
  body: { apiVersion: `${group}/${version}`, kind: 'TrainingPolicy', metadata: { name: 'race-quota' }, spec: { namespaceSelector: { matchLabels: { team: 'race' } }, gpuQuota: 16, overQuota: 'Reject' } },
});

const job = (i: number) => ({
  apiVersion: `${group}/${version}`,
  kind: 'TrainingJob',
  metadata: { name: `job-${String(i).padStart(2, '0')}`, namespace },
  spec: { image: 'pytorch/pytorch:2.3.1', numWorkers: 1, gpusPerWorker: 2 },
});

t.test('40 concurrent 2-GPU creates against quota 16 admit exactly 8', async (t) => {
  const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => custom.createNamespacedCustomObject({ group, version, namespace, plural: 'trainingjobs', body: job(i) })));
  const admitted = results.filter((r) => r.status === 'fulfilled').length;
  const reasons = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as { body?: string }).body ?? r.reason)] : []));
  t.equal(admitted, 8, 'exactly quota / demand jobs admitted');
  t.ok(reasons.every((m) => /GPU quota 16: \d+ in use, this job asks 2 \(1 worker × 2 GPUs\)/.test(m)), 'every refusal is the quota message', { sample: reasons[0] });
  const list = (await custom.listNamespacedCustomObject({ group, version, namespace, plural: 'trainingjobs' })) as { items: Array<{ spec: { numWorkers: number; gpusPerWorker: number } }> };
  const gpus = list.items.reduce((s, j) => s + j.spec.numWorkers * j.spec.gpusPerWorker, 0);
  t.equal(list.items.length, 8, 'persisted jobs');
  t.equal(gpus, 16, 'GPUs held never exceed the quota');
});

const served = async (webhook: string): Promise<number[]> => Promise.all(platform.replicas.map(async (r) => {
  const text = await r.metrics.registry.getSingleMetricAsString('trainingjob_admission_requests_total');
  return [...text.matchAll(new RegExp(`webhook="${webhook}".* (\\d+)$`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);
}));

t.test('both replicas took part, each create in one webhook call', async (t) => {
  const mutating = await served('mutate-trainingjob');
  for (const [i, n] of mutating.entries()) t.ok(n > 0, `replica ${i} answered ${n} mutating reviews`);
  t.ok(mutating.reduce((a, b) => a + b, 0) >= 40, 'every create reached the mutating step');
  t.same(await served('validate-trainingjob'), [0, 0], 'named creates never call the validating step (matchConditions)');
});

t.test('generateName creates are reserved by the validating step and hold the quota too', async (t) => {
  const ns = 'race-generated';
  await core.createNamespace({ body: { metadata: { name: ns, labels: { team: 'race' } } } });
  const unnamed = () => ({ ...job(0), metadata: { generateName: 'sweep-', namespace: ns } });
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => custom.createNamespacedCustomObject({ group, version, namespace: ns, plural: 'trainingjobs', body: unnamed() })));
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 8, 'quota 16 / 2 GPUs');
  const list = (await custom.listNamespacedCustomObject({ group, version, namespace: ns, plural: 'trainingjobs' })) as { items: unknown[] };
  t.equal(list.items.length, 8, 'persisted jobs');
  t.ok((await served('validate-trainingjob')).reduce((a, b) => a + b, 0) >= 20, 'each generateName create reached the validating step');
});

t.test('a deleted job frees its GPUs for the next create', async (t) => {
  // Which 8 of the 40 won the race is random: free one that exists.
  const list = (await custom.listNamespacedCustomObject({ group, version, namespace, plural: 'trainingjobs' })) as { items: Array<{ metadata: { name: string } }> };
  await custom.deleteNamespacedCustomObject({ group, version, namespace, plural: 'trainingjobs', name: list.items[0]!.metadata.name });
  await t.resolves(custom.createNamespacedCustomObject({ group, version, namespace, plural: 'trainingjobs', body: job(99) }));
  await t.rejects(custom.createNamespacedCustomObject({ group, version, namespace, plural: 'trainingjobs', body: job(98) }), 'full again');
});
