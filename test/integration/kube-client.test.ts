// The one client every component calls the API through, against a real apiserver: each verb does what the
// apiserver documents (a guarded replace or delete conflicts, an apply owns its fields, a status patch touches
// only status), a missing object is undefined for find and a 404 for get, impersonation is authorized as the
// impersonated user, and every call waits for the limiter it was given.
import t from 'tap';
import { systemClock, type Clock } from '../../clock/clock.ts';
import { createKubeClient, createRateLimiter, isNotFound, statusCode, type ObjectRef } from '../../kube/index.ts';
import { controlPlaneFor, eventually } from '../harness/tap.ts';

const cp = await controlPlaneFor(t);
const client = createKubeClient({ kubeConfig: cp.kubeConfig(), userAgent: 'kube-client-test' });
const configMaps = { version: 'v1', plural: 'configmaps', namespace: 'default' };
const cm = (name: string): ObjectRef => ({ ...configMaps, name });
interface ConfigMap { metadata: { name: string; resourceVersion: string; uid: string; labels?: Record<string, string>; managedFields?: Array<{ manager: string }> }; data?: Record<string, string> }
interface Quota { metadata: { resourceVersion: string; generation?: number }; spec: { hard: Record<string, string> }; status?: { hard?: Record<string, string>; used?: Record<string, string> } }

t.test('create, get, find, list by label, replace guarded by resourceVersion', async (t) => {
  const created = await client.create<ConfigMap>(configMaps, { metadata: { name: 'kc-a', labels: { suite: 'kube-client' } }, data: { v: '1' } });
  t.equal(created.metadata.name, 'kc-a');
  t.same((await client.get<ConfigMap>(cm('kc-a'))).data, { v: '1' });
  t.equal(await client.find(cm('kc-missing')), undefined, 'find: a missing object is undefined');
  const missing = await client.get(cm('kc-missing')).catch((err: unknown) => err);
  t.ok(isNotFound(missing), 'get: a missing object is a 404');
  await client.create(configMaps, { metadata: { name: 'kc-b' }, data: {} });
  const listed = await client.list<ConfigMap>(configMaps, { labelSelector: 'suite=kube-client' });
  t.same(listed.items.map((i) => i.metadata.name), ['kc-a'], 'the label selector reaches the apiserver');
  t.ok(listed.metadata?.resourceVersion, 'a list carries its resourceVersion');
  const replaced = await client.replace<ConfigMap>(cm('kc-a'), { ...created, data: { v: '2' } });
  t.same(replaced.data, { v: '2' });
  const stale = await client.replace(cm('kc-a'), { ...created, data: { v: '3' } }).catch((err: unknown) => err);
  t.equal(statusCode(stale), 409, 'a replace from an older resourceVersion conflicts');
  t.same((await client.get<ConfigMap>(cm('kc-a'))).data, { v: '2' }, 'and changed nothing');
});

t.test('apply owns its fields by manager; merge and JSON patches', async (t) => {
  const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kc-apply' }, data: { a: '1' } };
  const applied = await client.apply<ConfigMap>(cm('kc-apply'), body, { fieldManager: 'kc-one' });
  t.ok(applied.metadata.managedFields?.some((f) => f.manager === 'kc-one'), 'the apply is recorded under its field manager');
  const contested = await client.apply(cm('kc-apply'), { ...body, data: { a: '2' } }, { fieldManager: 'kc-two' }).catch((err: unknown) => err);
  t.equal(statusCode(contested), 409, "another manager's field conflicts without force");
  const forced = await client.apply<ConfigMap>(cm('kc-apply'), { ...body, data: { a: '2' } }, { fieldManager: 'kc-two', force: true });
  t.same(forced.data, { a: '2' }, 'and is taken over with force');
  t.same((await client.patch<ConfigMap>(cm('kc-apply'), { data: { b: '3' } })).data, { a: '2', b: '3' }, 'a merge patch by default');
  const jsonPatched = await client.patch<ConfigMap>(cm('kc-apply'), [{ op: 'test', path: '/data/b', value: '3' }, { op: 'remove', path: '/data/a' }], 'json');
  t.same(jsonPatched.data, { b: '3' }, 'a JSON patch');
  const failedTest = await client.patch(cm('kc-apply'), [{ op: 'test', path: '/data/b', value: 'other' }, { op: 'remove', path: '/data/b' }], 'json').catch((err: unknown) => err);
  t.equal(statusCode(failedTest), 422, "a JSON patch whose test fails is refused whole");
});

t.test('patchStatus writes the status subresource only', async (t) => {
  const quotas = { version: 'v1', plural: 'resourcequotas', namespace: 'default' };
  await client.create(quotas, { metadata: { name: 'kc-quota' }, spec: { hard: { pods: '5' } } });
  const patched = await client.patchStatus<Quota>({ ...quotas, name: 'kc-quota' }, { spec: { hard: { pods: '9' } }, status: { hard: { pods: '5' }, used: { pods: '1' } } });
  t.same(patched.status?.used, { pods: '1' }, 'the status is written');
  t.same(patched.spec.hard, { pods: '5' }, 'a spec in a status patch is ignored');
});

t.test('delete with preconditions, and with a propagation policy', async (t) => {
  const created = await client.create<ConfigMap>(configMaps, { metadata: { name: 'kc-delete' } });
  const wrongUid = await client.delete(cm('kc-delete'), { preconditions: { uid: '00000000-0000-0000-0000-000000000000' } }).catch((err: unknown) => err);
  t.equal(statusCode(wrongUid), 409, 'a delete for another uid conflicts');
  await client.delete(cm('kc-delete'), { preconditions: { uid: created.metadata.uid }, propagationPolicy: 'Background' });
  t.equal(await client.find(cm('kc-delete')), undefined, 'deleted');
  t.ok(isNotFound(await client.delete(cm('kc-delete')).catch((err: unknown) => err)), 'deleting it again is a 404');
});

t.test('as(user): the apiserver authorizes the call as the impersonated user', async (t) => {
  const asNobody = client.as('system:serviceaccount:default:nobody');
  const refused = await asNobody.get(cm('kc-a')).catch((err: unknown) => err);
  t.equal(statusCode(refused), 403);
  t.match((refused as { body?: { message?: string } }).body?.message, /User "system:serviceaccount:default:nobody" cannot get resource "configmaps"/, 'refused as that user, by name');
  t.ok(await client.get(cm('kc-a')), 'the client it came from still acts as itself');
  // What RBAC grants that user, the impersonating client may do, and the apiserver records who did it.
  const rbac = { group: 'rbac.authorization.k8s.io', version: 'v1', namespace: 'default' };
  await client.create({ ...rbac, plural: 'roles' }, { metadata: { name: 'kc-writer' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create'] }] });
  await client.create({ ...rbac, plural: 'rolebindings' }, { metadata: { name: 'kc-writer' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kc-writer' }, subjects: [{ kind: 'ServiceAccount', name: 'writer', namespace: 'default' }] });
  const asWriter = client.as('system:serviceaccount:default:writer');
  const written = await eventually(() => asWriter.create<ConfigMap>(configMaps, { metadata: { name: 'kc-by-writer' } }), 10_000);
  t.equal(written?.metadata.name, 'kc-by-writer', 'a granted create succeeds as that user');
  t.equal(statusCode(await asWriter.get(cm('kc-by-writer')).catch((err: unknown) => err)), 403, 'and only what was granted (no get)');
});

t.test('every call waits for the limiter the client was given', async (t) => {
  const waits: number[] = [];
  const clock: Clock = { ...systemClock, setTimer: (fn, ms) => (waits.push(ms), systemClock.setTimer(fn, ms)) };
  const limited = createKubeClient({ kubeConfig: cp.kubeConfig(), limiter: createRateLimiter({ qps: 20, burst: 1, clock }) });
  await Promise.all([0, 1, 2, 3].map(() => limited.get(cm('kc-a'))));
  t.equal(waits.filter((ms) => ms > 0 && ms <= 1000).length, 3, 'with burst 1, three of four calls waited for a token');
  waits.length = 0;
  // A second burst, half of it impersonating: as() shares the limiter, it does not get a bucket of its own.
  // (Nobody may read it: the 403s still spent their tokens.)
  const asNobody = limited.as('system:serviceaccount:default:nobody');
  const refused = () => asNobody.find(cm('kc-a')).catch((err: unknown) => statusCode(err));
  const answers = await Promise.all([limited.find(cm('kc-a')), refused(), refused(), limited.find(cm('kc-a'))]);
  t.same([answers[1], answers[2]], [403, 403], 'the impersonating calls reached the apiserver as that user');
  t.ok(waits.filter((ms) => ms > 0 && ms <= 1000).length >= 3, `the impersonating calls waited for the same tokens (${waits.length} waits)`);
});
