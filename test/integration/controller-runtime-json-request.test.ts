// requestJson against a real apiserver through a TCP proxy: one kept-alive connection for many
// requests, a pooled connection reset as a request arrives is retried once on a fresh one (never
// a POST), a rotated client certificate is used at once, and errors keep the apiserver's status
// code and message.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import t from 'tap';
import { issueCertificate, loadCA } from '../../certs/pki.ts';
import { controlPlaneFor } from '../harness/tap.ts';
import { startTcpProxy, viaServer } from '../harness/tcp-proxy.ts';
import { requestJson, statusCode } from '../../kube/json-request.ts';

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
  const applied = await requestJson<ConfigMap>(kc, {
    method: 'PATCH', path: `${configMaps}/json-request-retry`, query: { fieldManager: 'json-request-test' }, contentType: 'application/apply-patch+yaml',
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'json-request-retry' }, data: { a: '1' } },
  });
  t.equal(applied.metadata.name, 'json-request-retry', 'the apply succeeded');
  t.equal(proxy.accepted() - before, 1, 'over one new connection');
  const read = await requestJson<ConfigMap>(kc, { path: `${configMaps}/json-request-retry` });
  t.same(read.data, { a: '1' }, 'and the object is stored as sent');
});

t.test('a POST on a reset connection is not sent again: the server may have acted on it', async (t) => {
  await requestJson(kc, { path: '/api/v1/namespaces/default' });
  const before = proxy.accepted();
  proxy.resetNextReuse();
  const err = await requestJson(kc, { method: 'POST', path: configMaps, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'json-request-post' } } }).then(() => undefined, (e: unknown) => e);
  t.match(String(err), /ECONNRESET|socket hang up/, 'the reset reaches the caller');
  t.equal(proxy.accepted() - before, 0, 'no second connection was opened for it');
});

t.test('a client certificate rotated on disk is used by the next request', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tj-json-request-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = loadCA({ certPem: readFileSync(join(cp.dir, 'pki', 'ca.crt'), 'utf8'), keyPem: readFileSync(join(cp.dir, 'pki', 'ca.key'), 'utf8') });
  const certFile = join(dir, 'client.crt');
  const keyFile = join(dir, 'client.key');
  const issue = (commonName: string): void => {
    const pair = issueCertificate(ca, { commonName, organization: ['system:masters'], usage: 'client', validDays: 1 });
    writeFileSync(certFile, pair.certPem);
    writeFileSync(keyFile, pair.keyPem);
  };
  const rotating = new KubeConfig();
  rotating.loadFromOptions({ clusters: [{ ...kc.getCurrentCluster()!, name: 'local' }], users: [{ name: 'rotating', certFile, keyFile }], contexts: [{ name: 'local', cluster: 'local', user: 'rotating' }], currentContext: 'local' });
  const whoami = async (): Promise<string> =>
    (await requestJson<{ status: { userInfo: { username: string } } }>(rotating, { method: 'POST', path: '/apis/authentication.k8s.io/v1/selfsubjectreviews', body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } })).status.userInfo.username;
  issue('rotation-one');
  t.equal(await whoami(), 'rotation-one');
  t.equal(await whoami(), 'rotation-one', 'twice, over the kept-alive connection');
  issue('rotation-two');
  t.equal(await whoami(), 'rotation-two', 'the new certificate, not the pooled connection of the old one');
});

t.test('apiserver errors carry their status code and message', async (t) => {
  const err = await requestJson(kc, { path: `${configMaps}/no-such-map` }).then(() => undefined, (e: unknown) => e);
  t.equal(statusCode(err), 404);
  t.match(String((err as Error).message), /not found/, (err as Error).message);
  const conflict = await requestJson(kc, { method: 'POST', path: configMaps, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'json-request-retry' } } }).then(() => undefined, (e: unknown) => e);
  t.equal(statusCode(conflict), 409, 'a second create of the same name is a conflict');
});
