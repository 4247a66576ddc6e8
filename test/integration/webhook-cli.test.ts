// `trainingjob webhook --manage-certs` as a process: stores its Secret, serves HTTPS, stops on SIGTERM.
import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { controlPlaneFor, eventually } from '../harness/tap.ts';
import { repoRoot } from '../../localcluster/binaries.ts';
import { freePort } from '../../localcluster/ports.ts';
import { getText } from '../../localcluster/http.ts';

const cp = await controlPlaneFor(t);
const core = cp.kubeConfig().makeApiClient(CoreV1Api);
await core.createNamespace({ body: { metadata: { name: 'trainingjob-system' } } });

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

t.test('without a certificate source it is a usage error', async (t) => {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), 'webhook'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  t.equal(code, 2);
  t.match(err, /give --cert-dir, --manage-certs, or both/);
});
