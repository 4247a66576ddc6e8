// requestJson against a real apiserver through a TCP proxy: one kept-alive connection for many
// requests, a pooled connection reset as a request arrives is retried once on a fresh one, and
// errors keep the apiserver's status code and message.
import t from 'tap';
import { controlPlaneFor } from '../harness/tap.ts';
import { startTcpProxy, viaServer } from '../harness/tcp-proxy.ts';
import { requestJson, statusCode } from '../../controller/runtime/json-request.ts';

const cp = await controlPlaneFor(t);
const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(cp.server).port) });
t.teardown(() => proxy.close());
const kc = viaServer(cp.kubeConfig(), `https://127.0.0.1:${proxy.port}`);
const configMaps = '/api/v1/namespaces/default/configmaps';
interface ConfigMap { metadata: { name: string; resourceVersion: string }; data?: Record<string, string> }

t.test('sequential requests share one kept-alive connection', async (t) => {
  const before = proxy.accepted();
  for (let i = 0; i < 20; i++) await requestJson(kc, { path: '/api/v1/namespaces/default' });
  t.equal(proxy.accepted() - before, 1, '20 requests, 1 connection (was one TLS handshake each)');
});

t.test('a kept-alive connection reset as a request arrives: the request goes again on a new connection, once', async (t) => {
  await requestJson(kc, { path: '/api/v1/namespaces/default' });
  const before = proxy.accepted();
  proxy.resetNextReuse();
  const created = await requestJson<ConfigMap>(kc, { method: 'POST', path: configMaps, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'json-request-retry' }, data: { a: '1' } } });
  t.equal(created.metadata.name, 'json-request-retry', 'the create succeeded');
  t.equal(proxy.accepted() - before, 1, 'over one new connection');
  const read = await requestJson<ConfigMap>(kc, { path: `${configMaps}/json-request-retry` });
  t.same(read.data, { a: '1' }, 'and the object is stored as sent');
});

t.test('apiserver errors carry their status code and message', async (t) => {
  const err = await requestJson(kc, { path: `${configMaps}/no-such-map` }).then(() => undefined, (e: unknown) => e);
  t.equal(statusCode(err), 404);
  t.match(String((err as Error).message), /not found/, (err as Error).message);
  const conflict = await requestJson(kc, { method: 'POST', path: configMaps, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'json-request-retry' } } }).then(() => undefined, (e: unknown) => e);
  t.equal(statusCode(conflict), 409, 'a second create of the same name is a conflict');
});
