// Issued certificates have the right names, usages, lifetimes and chains; rotation keeps old CAs trusted until they expire.
import t from 'tap';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFromPems, createCertBundle, rotateCertBundle, servingPem } from '../../certs/bundle.ts';
import { writeCertFiles } from '../../certs/cert-files.ts';
import { canonicalIp, certFacts, splitPem } from '../../certs/inspect.ts';
import { daysToMs, resolveLifetimes } from '../../certs/lifetimes.ts';
import { DEFAULT_SECRET, serviceNames } from '../../certs/names.ts';
import { secretFromBundle, storedFromSecret } from '../../certs/secret-store.ts';

const now = new Date('2026-03-01T12:00:00Z');
const lifetimes = resolveLifetimes();
const names = serviceNames();
const bundle = createCertBundle({ names, lifetimes, now });

t.test('the serving certificate names every way to reach the webhook Service, plus loopback', async (t) => {
  const x = new X509Certificate(bundle.tlsCertPem);
  const sans = x.subjectAltName ?? '';
  for (const dns of ['trainingjob-webhook', 'trainingjob-webhook.trainingjob-system', 'trainingjob-webhook.trainingjob-system.svc', 'trainingjob-webhook.trainingjob-system.svc.cluster.local', 'localhost']) {
    t.match(sans, new RegExp(`DNS:${dns.replace(/\./g, '\\.')}(,|$)`), dns);
  }
  t.match(sans, /IP Address:127\.0\.0\.1/);
  t.equal(x.subject, 'CN=trainingjob-webhook.trainingjob-system.svc');
  t.notOk(x.ca);
  t.match(x.keyUsage?.join(',') ?? '', /1\.3\.6\.1\.5\.5\.7\.3\.1/, 'serverAuth');
  t.ok(x.checkPrivateKey(createPrivateKey(bundle.tlsKeyPem)), 'key matches');
});

t.test('names are configurable', async (t) => {
  const custom = serviceNames({ name: 'hook', namespace: 'platform' }, { dnsNames: ['hook.example.com'], ipAddresses: ['10.0.0.7'] });
  t.same(custom.dnsNames, ['hook', 'hook.platform', 'hook.platform.svc', 'hook.platform.svc.cluster.local', 'localhost', 'hook.example.com']);
  t.same(custom.ipAddresses, ['127.0.0.1', '10.0.0.7']);
  const f = certFacts(createCertBundle({ names: custom, lifetimes, now }).tlsCertPem);
  t.same(f.dnsNames, custom.dnsNames);
  t.same(f.ipAddresses, custom.ipAddresses);
});

t.test('lifetimes come from the table; the leaf chains to the CA', async (t) => {
  const ca = certFacts(bundle.caCertPem);
  const leaf = certFacts(bundle.tlsCertPem);
  t.ok(ca.isCA);
  t.equal(ca.notAfter.getTime(), now.getTime() + daysToMs(lifetimes.caDays));
  t.equal(leaf.notAfter.getTime(), now.getTime() + daysToMs(lifetimes.servingDays));
  t.match(ca.subject, /^CN=trainingjob-webhook-ca-\d+$/);
  t.match(ca.subject.slice(3), /^[A-Za-z0-9 '()+,\-./:=?]+$/, 'PrintableString characters only: Go\'s x509 in the apiserver refuses others');
  t.equal(leaf.issuer, ca.subject);
  const x = new X509Certificate(bundle.tlsCertPem);
  t.ok(x.verify(new X509Certificate(bundle.caCertPem).publicKey), 'signed by the CA');
  t.equal(bundle.caBundlePem, bundle.caCertPem, 'a new bundle trusts just its CA');
});

t.test('a serving-only rotation keeps the CA and the bundle', async (t) => {
  const later = new Date(now.getTime() + daysToMs(340));
  const r = rotateCertBundle(bundle, { rotateCA: false, rotateServing: true }, { names, lifetimes, now: later });
  t.equal(r.caCertPem, bundle.caCertPem);
  t.equal(r.caBundlePem, bundle.caBundlePem);
  t.not(r.tlsKeyPem, bundle.tlsKeyPem, 'a fresh key too');
  t.ok(new X509Certificate(r.tlsCertPem).verify(new X509Certificate(bundle.caCertPem).publicKey));
  t.same(rotateCertBundle(bundle, { rotateCA: false, rotateServing: false }, { names, lifetimes, now }), bundle, 'an empty plan changes nothing');
});

t.test('a CA rotation puts the new CA first and keeps the old one until it expires', async (t) => {
  const later = new Date(now.getTime() + daysToMs(lifetimes.caDays - 390));
  const r = rotateCertBundle(bundle, { rotateCA: true, rotateServing: true }, { names, lifetimes, now: later });
  const cas = splitPem(r.caBundlePem);
  t.equal(cas.length, 2);
  t.equal(cas[0], r.caCertPem, 'new CA first');
  t.equal(cas[1]?.trim(), bundle.caCertPem.trim(), 'old CA still trusted');
  t.ok(new X509Certificate(r.tlsCertPem).verify(new X509Certificate(r.caCertPem).publicKey), 'leaf from the new CA');
  // Once the old CA has expired, the next CA rotation drops it.
  const muchLater = new Date(now.getTime() + daysToMs(lifetimes.caDays + 1));
  const again = rotateCertBundle(r, { rotateCA: true, rotateServing: true }, { names, lifetimes, now: muchLater });
  const left = splitPem(again.caBundlePem).map((p) => certFacts(p).subject);
  t.equal(left.length, 2);
  t.notOk(left.includes(certFacts(bundle.caCertPem).subject), 'the expired CA is gone');
});

t.test('a leaf never outlives its CA', async (t) => {
  const short = resolveLifetimes({ caDays: 500, caLookaheadDays: 400 });
  const b = createCertBundle({ names, lifetimes: short, now });
  const nearCaEnd = new Date(now.getTime() + daysToMs(300));
  const r = rotateCertBundle(b, { rotateCA: false, rotateServing: true }, { names, lifetimes: short, now: nearCaEnd });
  t.ok(certFacts(r.tlsCertPem).notAfter <= certFacts(b.caCertPem).notAfter);
});

t.test('the Secret holds tls.crt, tls.key, ca.crt and ca.key and reads back; foreign labels survive an update', async (t) => {
  const secret = secretFromBundle(DEFAULT_SECRET, bundle);
  t.equal(secret.type, 'kubernetes.io/tls');
  t.same(Object.keys(secret.data ?? {}).sort(), ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
  t.equal(secret.metadata?.resourceVersion, undefined, 'a create carries no resourceVersion');
  const read = storedFromSecret({ ...secret, metadata: { ...secret.metadata, resourceVersion: '42', labels: { ...secret.metadata?.labels, team: 'ml' }, annotations: { note: 'x' } } }, DEFAULT_SECRET);
  t.same(read.bundle, bundle);
  const update = secretFromBundle(DEFAULT_SECRET, bundle, read);
  t.equal(update.metadata?.resourceVersion, '42', 'the update is guarded by the version read');
  t.equal(update.metadata?.labels?.team, 'ml');
  t.same(update.metadata?.annotations, { note: 'x' });
});

t.test('the current CA is found by its key whatever the bundle order; mismatches are refused', async (t) => {
  const other = createCertBundle({ names, lifetimes, now });
  const mixed = bundleFromPems({ caBundlePem: other.caCertPem + bundle.caCertPem, caKeyPem: bundle.caKeyPem, tlsCertPem: bundle.tlsCertPem, tlsKeyPem: bundle.tlsKeyPem }, 'test');
  t.equal(mixed.caCertPem.trim(), bundle.caCertPem.trim());
  t.throws(() => bundleFromPems({ caBundlePem: other.caCertPem, caKeyPem: bundle.caKeyPem, tlsCertPem: bundle.tlsCertPem, tlsKeyPem: bundle.tlsKeyPem }, 'test'), { code: 'InvalidSecret', message: /no certificate in ca.crt matches ca.key/ });
  t.throws(() => bundleFromPems({ ...bundle, tlsKeyPem: other.tlsKeyPem }, 'test'), { code: 'InvalidSecret', message: /tls.key does not match tls.crt/ });
  t.throws(() => storedFromSecret({ data: { 'tls.crt': 'eA==' } }, DEFAULT_SECRET), { code: 'InvalidSecret', message: /lacks tls.key, ca.crt, ca.key/ });
  t.throws(() => certFacts('not a pem', 'ca.crt'), { code: 'InvalidPem' });
});

t.test('cert files: the key is private to its owner', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tj-certs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const paths = writeCertFiles(join(dir, 'sub'), servingPem(bundle));
  t.equal(readFileSync(paths.cert, 'utf8'), bundle.tlsCertPem);
  t.equal(readFileSync(paths.ca, 'utf8'), bundle.caBundlePem);
  t.equal(statSync(paths.key).mode & 0o777, 0o600);
  t.notOk(Object.values(servingPem(bundle)).some((pem) => pem === bundle.caKeyPem), 'the CA key never leaves the Secret');
});

t.test('IPv6 canonical form matches X509 printing', async (t) => {
  t.equal(canonicalIp('::1'), '0:0:0:0:0:0:0:1');
  t.equal(canonicalIp('FD00::10:1'), 'fd00:0:0:0:0:0:10:1');
  t.equal(canonicalIp('10.0.0.1'), '10.0.0.1');
});
