// `trainingjob webhook --manage-certs` as a process: stores its Secret, serves HTTPS, stops on SIGTERM.
import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import { CoreV1Api } from '@kubernetes/client-node';
import { controlPlaneFor, eventually } from '../harness/tap.ts';
import { installCRDs } from '../harness/manifests.ts';
import { repoRoot } from '../../localcluster/binaries.ts';
import { freePort } from '../../localcluster/ports.ts';
import { getText } from '../../localcluster/http.ts';

const cp = await controlPlaneFor(t);
const core = cp.kubeConfig().makeApiClient(CoreV1Api);
await core.createNamespace({ body: { metadata: { name: 'trainingjob-system' } } });
// /readyz waits for the TrainingJob watch, which needs the CRD.
const crdDir = join(repoRoot, 'manifests', 'crds');
const crds = await installCRDs(cp, readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).map((f) => readFileSync(join(crdDir, f), 'utf8')).join('\n---\n'));
if (crds.code !== 0) throw new Error(`CRDs: ${crds.stderr}`);

t.test('serves with self-managed certificates and exits cleanly', async (t) => {
  const port = await freePort();
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), 'webhook', '--manage-certs', '--host', '127.0.0.1', '--port', String(port), '--kubeconfig', cp.kubeconfigPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  t.teardown(() => child.kill('SIGKILL'));
  const secret = await eventually(() => core.readNamespacedSecret({ name: 'trainingjob-webhook-certs', namespace: 'trainingjob-system' }), 30_000);
  t.ok(secret?.data?.['tls.crt'], 'serving certificate stored in the Secret');
  const ca = Buffer.from(secret!.data!['ca.crt']!, 'base64').toString();
  const health = await eventually(async () => {
    const r = await getText(`https://127.0.0.1:${port}/healthz`, { caPem: ca });
    return r.status === 200 ? r : undefined;
  }, 30_000);
  t.equal(health?.status, 200, 'HTTPS verified against the stored CA');
  const metrics = await getText(`https://127.0.0.1:${port}/metrics`, { caPem: ca });
  t.match(metrics.body, /trainingjob_admission_requests_total/);
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exit 0 on SIGTERM');
  t.match(log, /"msg":"shutting down"/);
  t.notMatch(log, /PRIVATE KEY/, 'no key material in the log');
});

t.test('on SIGTERM with --shutdown-delay it keeps answering, not ready, closing each connection, then exits', async (t) => {
  const port = await freePort();
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), 'webhook', '--manage-certs', '--host', '127.0.0.1', '--port', String(port), '--kubeconfig', cp.kubeconfigPath, '--shutdown-delay', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  t.teardown(() => child.kill('SIGKILL'));
  const secret = await eventually(() => core.readNamespacedSecret({ name: 'trainingjob-webhook-certs', namespace: 'trainingjob-system' }), 30_000);
  const tls = { caPem: Buffer.from(secret!.data!['ca.crt']!, 'base64').toString() };
  const ready = await eventually(async () => ((await getText(`https://127.0.0.1:${port}/readyz`, tls).catch(() => undefined))?.status === 200 ? true : undefined), 30_000);
  t.ok(ready, 'ready before the signal');
  // A keep-alive client, like the apiserver's: the server decides whether the connection stays open.
  const agent = new Agent({ keepAlive: true, ca: tls.caPem });
  t.teardown(() => agent.destroy());
  const get = (path: string) => new Promise<IncomingMessage>((resolve, reject) => request(`https://127.0.0.1:${port}${path}`, { agent }, (res) => res.resume().on('end', () => resolve(res))).on('error', reject).end());
  const before = await get('/healthz');
  t.not(before.headers.connection, 'close', 'connections are kept alive while serving normally');
  const signalled = Date.now();
  child.kill('SIGTERM');
  const notReady = await eventually(async () => ((await getText(`https://127.0.0.1:${port}/readyz`, tls)).status === 503 ? true : undefined), 2_000, 50);
  t.ok(notReady, '/readyz answers 503 at once, so the Service drops this replica');
  const during = await get('/healthz');
  t.equal(during.statusCode, 200, 'still answering during the delay');
  t.equal(during.headers.connection, 'close', 'each answer closes its connection, so callers reconnect through the Service');
  t.equal(await exited, 0, 'exit 0 after the delay');
  t.ok(Date.now() - signalled >= 2_900, `exited after the 3 s delay, not before (${Date.now() - signalled} ms)`);
  t.match(log, /"msg":"draining: still answering while callers move to other replicas"/);
});

t.test('without a certificate source it is a usage error', async (t) => {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), 'webhook'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  t.equal(code, 2);
  t.match(err, /give --cert-dir, --manage-certs, or both/);
});
