// The certificate manager against a real apiserver: Secret storage, caBundle injection and re-injection, replicas racing, rotation.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { controlPlaneFor, eventually } from '../harness/tap.ts';
import { installCertTargets, injectedBundles, recordingLogger, storedSecret } from '../fixtures/cert-targets.ts';
import { startCertManager, type CertManager } from '../../certs/manager.ts';
import { createCertBundle } from '../../certs/bundle.ts';
import { daysToMs, resolveLifetimes } from '../../certs/lifetimes.ts';
import { serviceNames } from '../../certs/names.ts';
import { certFacts, splitPem } from '../../certs/inspect.ts';
import type { ServingPem } from '../../certs/bundle.ts';
import { systemClock } from '../../clock/clock.ts';

const cp = await controlPlaneFor(t);
await installCertTargets(cp);

const lifetimes = resolveLifetimes();
let nowMs = Date.now();
// One clock for every manager here, as replicas share real time; tests move its time forward (timers stay real).
const clock = { ...systemClock, now: () => nowMs };
const log = recordingLogger();
const managers: CertManager[] = [];
t.teardown(async () => {
  for (const m of managers) await m.stop();
});

const b64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');
const chainsToBundle = (leafPem: string, bundlePem: string): boolean => splitPem(bundlePem).some((ca) => new X509Certificate(leafPem).verify(new X509Certificate(ca).publicKey));

async function allInjected(expected: string): Promise<true | undefined> {
  const bundles = await injectedBundles(cp);
  return Object.values(bundles).every((v) => v === expected) ? true : undefined;
}

const rotations: ServingPem[] = [];
let first: CertManager;

t.test('the first manager stores a tls Secret and injects the caBundle into every webhook entry and the CRD', async (t) => {
  first = await startCertManager({ kubeConfig: cp.kubeConfig(), logger: log, clock, onRotate: (pem) => void rotations.push(pem) });
  managers.push(first);
  const secret = await storedSecret(cp);
  t.equal(secret.type, 'kubernetes.io/tls');
  t.same(Object.keys(secret.data).sort(), ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
  t.equal(first.current().certPem, secret.data['tls.crt'], 'the server is handed what is stored');
  t.equal(first.current().caPem, secret.data['ca.crt']);
  const bundles = await injectedBundles(cp);
  t.equal(Object.keys(bundles).length, 5, 'two mutating entries, two validating entries, one CRD');
  for (const [where, value] of Object.entries(bundles)) t.equal(value, b64(secret.data['ca.crt']!), where);
  t.ok(chainsToBundle(secret.data['tls.crt']!, secret.data['ca.crt']!), 'the serving cert chains to the injected bundle');
  t.same(certFacts(secret.data['tls.crt']!).dnsNames, serviceNames().dnsNames);
  t.equal(rotations.length, 0, 'onRotate is for changes, not the first certificate');
});

t.test('a caBundle overwritten by hand is re-injected', async (t) => {
  const secret = await storedSecret(cp);
  const expected = b64(secret.data['ca.crt']!);
  const foreign = b64(createCertBundle({ names: serviceNames(), lifetimes, now: new Date() }).caCertPem);
  const patched = await cp.kubectl(['patch', 'validatingwebhookconfiguration', 'trainingjob-validating', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/webhooks/1/clientConfig/caBundle', value: foreign }])]);
  t.equal(patched.code, 0, 'exit code 0', { output: patched.stderr });
  const crd = await cp.kubectl(['patch', 'crd', 'trainingjobs.ml.example.com', '--type=merge', '-p', JSON.stringify({ spec: { conversion: { webhook: { clientConfig: { caBundle: foreign } } } } })]);
  t.equal(crd.code, 0, 'exit code 0', { output: crd.stderr });
  t.equal(await eventually(() => allInjected(expected), 20_000), true, 'the watch undid both overwrites');
  t.ok(log.records.some((r) => r.msg === 'injected caBundle' && (r.obj as { kind: string }).kind === 'CustomResourceDefinition'));
});

t.test('a webhook configuration deleted and re-created gets the caBundle again', async (t) => {
  const secret = await storedSecret(cp);
  const fresh = await cp.kubectl(['get', 'mutatingwebhookconfiguration', 'trainingjob-mutating', '-o', 'json']);
  const obj = JSON.parse(fresh.stdout) as { metadata: Record<string, unknown>; webhooks: { clientConfig: { caBundle?: string } }[] };
  for (const w of obj.webhooks) delete w.clientConfig.caBundle;
  obj.metadata = { name: 'trainingjob-mutating' };
  t.equal((await cp.kubectl(['delete', 'mutatingwebhookconfiguration', 'trainingjob-mutating'])).code, 0);
  const created = await cp.kubectl(['create', '-f', '-'], { input: JSON.stringify(obj) });
  t.equal(created.code, 0, 'exit code 0', { output: created.stderr });
  t.equal(await eventually(() => allInjected(b64(secret.data['ca.crt']!)), 20_000), true);
});

t.test('replicas starting at the same moment end with one shared Secret', async (t) => {
  const secret = { name: 'race-certs', namespace: 'trainingjob-system' };
  const none = { mutatingWebhookConfigurations: [], validatingWebhookConfigurations: [], crds: [] };
  const racers = await Promise.all([1, 2, 3].map(() => startCertManager({ kubeConfig: cp.kubeConfig(), logger: recordingLogger(), clock, secret, targets: none, watch: false })));
  managers.push(...racers);
  const stored = await storedSecret(cp, 'race-certs');
  for (const [i, m] of racers.entries()) t.equal(m.current().certPem, stored.data['tls.crt'], `replica ${i + 1} serves the stored certificate`);
  t.equal(stored.resourceVersion, (await storedSecret(cp, 'race-certs')).resourceVersion, 'nobody rewrites it afterwards');
  const list = await cp.kubectl(['get', 'secrets', '-n', 'trainingjob-system', '-l', 'app.kubernetes.io/component=webhook-certs', '-o', 'name']);
  t.same(list.stdout.trim().split('\n').sort(), ['secret/race-certs', 'secret/trainingjob-webhook-certs']);
});

t.test('near expiry the serving certificate rotates; every replica picks it up, still chained to the bundle', async (t) => {
  const peerRotations: ServingPem[] = [];
  const peerLog = recordingLogger();
  const peer = await startCertManager({ kubeConfig: cp.kubeConfig(), logger: peerLog, clock, onRotate: (pem) => void peerRotations.push(pem) });
  managers.push(peer);
  const before = first.current();
  t.equal(peer.current().certPem, before.certPem, 'the second replica adopts the stored certificate');
  const leafExpiry = certFacts(before.certPem).notAfter.getTime();
  nowMs = leafExpiry - daysToMs(40);
  t.equal((await first.sync()).certPem, before.certPem, '40 days before expiry nothing changes');
  nowMs = leafExpiry - daysToMs(20);
  const after = await first.sync();
  t.not(after.certPem, before.certPem, '20 days before expiry a new serving certificate');
  t.equal(after.caPem, before.caPem, 'same CA, same bundle');
  t.ok(chainsToBundle(after.certPem, after.caPem));
  t.ok(certFacts(after.certPem).notAfter.getTime() > leafExpiry, 'it lives past the old one');
  t.same(rotations.map((r) => r.certPem), [after.certPem], 'onRotate got the new certificate');
  t.equal((await eventually(async () => (peerRotations.length ? peerRotations : undefined), 20_000))?.[0]?.certPem, after.certPem, 'the other replica learned of it from the Secret');
  // Both replicas share the clock, so either may be the one that rotates; the other adopts the Secret.
  const rotated = [...log.records, ...peerLog.records].filter((r) => r.msg === 'rotated webhook certificates');
  t.equal(rotated.length, 1, 'rotated once, by one replica');
  t.match(rotated[0]?.obj, { reason: /expires in 20 days/, rotateCA: false });
});

t.test('near the CA expiry a new CA is issued; the old one stays in every caBundle during the overlap', async (t) => {
  const before = first.current();
  const oldCa = splitPem(before.caPem)[0]!;
  nowMs = certFacts(oldCa).notAfter.getTime() - daysToMs(lifetimes.caLookaheadDays - 10);
  const after = await first.sync();
  const cas = splitPem(after.caPem);
  t.equal(cas.length, 2, 'new CA and old CA');
  t.equal(cas[1], oldCa, 'the old CA second');
  t.ok(new X509Certificate(after.certPem).verify(new X509Certificate(cas[0]!).publicKey), 'the new leaf is signed by the new CA');
  t.ok(chainsToBundle(before.certPem, after.caPem), 'a replica still serving the previous leaf stays trusted');
  t.equal(await eventually(() => allInjected(b64(after.caPem)), 20_000), true, 'the two-CA bundle is injected everywhere');
  t.equal((await storedSecret(cp)).data['ca.crt'], after.caPem);
});

t.test('no key or PEM reaches the log', async (t) => {
  t.ok(log.records.length > 5);
  t.notMatch(JSON.stringify(log.records), /BEGIN|PRIVATE KEY|ca\.key/);
});
