import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { createCA, issueCertificate, loadCA } from '../../certs/pki.ts';

t.test('CA is self-signed, a CA, and valid for the requested days', async (t) => {
  const now = new Date('2026-01-01T00:00:00Z');
  const ca = createCA('test-ca', 10, now);
  const x = new X509Certificate(ca.certPem);
  t.ok(x.ca, 'basicConstraints CA');
  t.ok(x.verify(x.publicKey), 'self-signed');
  t.equal(new Date(x.validTo).getTime(), now.getTime() + 10 * 86_400_000);
  t.ok(new Date(x.validFrom) < now, 'backdated for clock skew');
});

t.test('server certificate carries DNS and IP SANs and chains to the CA', async (t) => {
  const ca = createCA('test-ca', 10);
  const leaf = issueCertificate(ca, { commonName: 'webhook', usage: 'server', validDays: 5, dnsNames: ['webhook.ns.svc'], ipAddresses: ['127.0.0.1'] });
  const x = new X509Certificate(leaf.certPem);
  t.notOk(x.ca);
  t.ok(x.verify(new X509Certificate(ca.certPem).publicKey), 'signed by the CA');
  t.match(x.subjectAltName ?? '', /DNS:webhook\.ns\.svc/);
  t.match(x.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  t.ok(x.checkPrivateKey((await import('node:crypto')).createPrivateKey(leaf.keyPem)), 'key matches');
});

t.test('client certificate carries organizations and a reloaded CA still signs', async (t) => {
  const ca = loadCA(createCA('test-ca', 10));
  const leaf = issueCertificate(ca, { commonName: 'admin', organization: ['system:masters'], usage: 'client', validDays: 1 });
  const x = new X509Certificate(leaf.certPem);
  t.match(x.subject, /O=system:masters/);
  t.match(x.subject, /CN=admin/);
  t.match(x.keyUsage?.join(',') ?? '', /1\.3\.6\.1\.5\.5\.7\.3\.2/, 'clientAuth extended key usage');
});
