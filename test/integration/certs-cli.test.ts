// `trainingjob certs generate|inject|rotate|show` as an operator runs them against a real apiserver.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlPlaneFor } from '../harness/tap.ts';
import { repoRoot } from '../../localcluster/binaries.ts';
import { runCommand } from '../../localcluster/controlplane.ts';
import { installCertTargets, injectedBundles, storedSecret } from '../fixtures/cert-targets.ts';
import { ensureCerts } from '../../certs/ensure-certs.ts';
import { createKubeClient } from '../../kube/client.ts';
import { resolveLifetimes } from '../../certs/lifetimes.ts';
import { DEFAULT_SECRET, serviceNames } from '../../certs/names.ts';

const cp = await controlPlaneFor(t);
const dir = mkdtempSync(join(tmpdir(), 'tj-certs-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const cli = (...args: string[]) => runCommand(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), 'certs', ...args], { ...process.env, KUBECONFIG: cp.kubeconfigPath });
const b64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');

t.test('generate writes ca.crt, tls.crt and tls.key offline for the Service names plus extras', async (t) => {
  const out = join(dir, 'gen');
  const res = await cli('generate', '--out', out, '--dns', 'webhook.example.com', '--ip', '10.1.2.3');
  t.equal(res.code, 0, 'exit code 0', { output: res.stderr });
  t.match(res.stdout, `wrote ${join(out, 'tls.key')}`);
  t.match(res.stdout, /DNS names\s+trainingjob-webhook, trainingjob-webhook\.trainingjob-system, .*trainingjob-webhook\.trainingjob-system\.svc\.cluster\.local, localhost, webhook\.example\.com/);
  t.match(res.stdout, /IPs\s+127\.0\.0\.1, 10\.1\.2\.3/);
  t.match(res.stdout, /\((364|365) days left\)/);
  t.notMatch(res.stdout, /BEGIN/, 'no PEM on the terminal');
  const leaf = new X509Certificate(readFileSync(join(out, 'tls.crt')));
  t.ok(leaf.verify(new X509Certificate(readFileSync(join(out, 'ca.crt'))).publicKey), 'tls.crt is signed by ca.crt');
  t.equal(statSync(join(out, 'tls.key')).mode & 0o777, 0o600);
});

t.test('usage mistakes exit 2', async (t) => {
  const noOut = await cli('generate');
  t.equal(noOut.code, 2);
  t.match(noOut.stderr, 'trainingjob certs: generate needs --out DIR');
  const badIp = await cli('generate', '--out', join(dir, 'x'), '--ip', 'nope');
  t.equal(badIp.code, 2);
  t.match(badIp.stderr, '--ip "nope" is not an IP address');
  const unknown = await cli('frobnicate');
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, 'unknown action "frobnicate"');
});

t.test('show without a stored Secret says so and exits 1', async (t) => {
  const res = await cli('show');
  t.equal(res.code, 1);
  t.match(res.stderr, 'trainingjob certs show: Secret trainingjob-system/trainingjob-webhook-certs does not exist');
});

t.test('inject puts a CA file into both webhook configurations and the CRD, once', async (t) => {
  await installCertTargets(cp);
  const caFile = join(dir, 'gen', 'ca.crt');
  const res = await cli('inject', '--ca-file', caFile);
  t.equal(res.code, 0, 'exit code 0', { output: res.stderr });
  t.match(res.stdout, /MutatingWebhookConfiguration\/trainingjob-mutating\s+caBundle injected/);
  t.match(res.stdout, /ValidatingWebhookConfiguration\/trainingjob-validating\s+caBundle injected/);
  t.match(res.stdout, /CustomResourceDefinition\/trainingjobs\.ml\.example\.com\s+caBundle injected/);
  for (const [where, value] of Object.entries(await injectedBundles(cp))) t.equal(value, b64(readFileSync(caFile, 'utf8')), where);
  const again = await cli('inject', '--ca-file', caFile);
  t.equal(again.code, 0);
  t.equal(again.stdout.match(/caBundle already current/g)?.length, 3, 'nothing is rewritten');
  const bad = await cli('inject', '--ca-file', join(dir, 'gen', 'tls.key'));
  t.equal(bad.code, 1);
  t.match(bad.stderr, 'holds no PEM certificate');
});

t.test('show prints subject, names, expiry and days left of the stored certificates, and caBundle drift', async (t) => {
  await ensureCerts({ client: createKubeClient({ kubeConfig: cp.kubeConfig() }), secret: DEFAULT_SECRET, names: serviceNames(), lifetimes: resolveLifetimes(), now: new Date() });
  const res = await cli('show');
  t.equal(res.code, 0, 'exit code 0', { output: res.stderr });
  t.match(res.stdout, 'Secret trainingjob-system/trainingjob-webhook-certs');
  t.match(res.stdout, /subject\s+CN=trainingjob-webhook\.trainingjob-system\.svc/);
  t.match(res.stdout, /DNS names\s+trainingjob-webhook, .*localhost/);
  t.match(res.stdout, /IPs\s+127\.0\.0\.1/);
  t.match(res.stdout, /expires\s+\d{4}-\d\d-\d\dT[\d:.]+Z \((364|365) days left\)/);
  t.match(res.stdout, /CA bundle \(ca\.crt\): 1 certificate\n\s+current\s+CN=trainingjob-webhook-ca-\d+, expires .* \(36\d\d days left\)/);
  t.match(res.stdout, /rotation: not due \(the serving certificate is valid for 36[45] more days\)/);
  // The CA injected by hand earlier is not the stored one.
  t.equal(res.stdout.match(/caBundle differs/g)?.length, 3);
  t.notMatch(res.stdout, /BEGIN|PRIVATE/);
});

t.test('rotate issues a new serving certificate and injects; rotate --ca adds a CA and keeps the old one trusted', async (t) => {
  const before = await storedSecret(cp);
  const res = await cli('rotate');
  t.equal(res.code, 0, 'exit code 0', { output: res.stderr });
  t.match(res.stdout, 'rotated: rotation of the serving certificate was requested');
  t.equal(res.stdout.match(/caBundle injected/g)?.length, 3);
  const mid = await storedSecret(cp);
  t.not(mid.data['tls.crt'], before.data['tls.crt']);
  t.equal(mid.data['ca.crt'], before.data['ca.crt'], 'same CA');

  const ca = await cli('rotate', '--ca');
  t.equal(ca.code, 0, 'exit code 0', { output: ca.stderr });
  t.match(ca.stdout, 'rotated: rotation of the CA was requested');
  const after = await storedSecret(cp);
  for (const [where, value] of Object.entries(await injectedBundles(cp))) t.equal(value, b64(after.data['ca.crt']!), where);
  const show = await cli('show');
  t.match(show.stdout, /CA bundle \(ca\.crt\): 2 certificates\n\s+current\s+CN=.*\n\s+previous\s+CN=/);
  t.equal(show.stdout.match(/caBundle already current/g)?.length, 3);
  t.notMatch(show.stdout + ca.stdout + res.stdout, /BEGIN|PRIVATE/);
});
