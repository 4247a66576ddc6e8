// The set of PEMs the webhook needs — CA, trust bundle, serving pair — and how a new or rotated set is issued.
import { createCA, issueCertificate, loadCA } from './pki.ts';
import { certFacts, daysUntil, keyMatches, signedBy, splitPem, type CertFacts } from './inspect.ts';
import { CA_COMMON_NAME, type ServingNames } from './names.ts';
import { CertError } from './errors.ts';
import type { Lifetimes } from './lifetimes.ts';
import type { RotationPlan, StoredCertFacts } from './rotation-plan.ts';

export interface CertBundle {
  /** The CA that signs new serving certificates. */
  caCertPem: string;
  caKeyPem: string;
  /** What clients trust: the current CA first, then older CAs that have not expired yet. */
  caBundlePem: string;
  tlsCertPem: string;
  tlsKeyPem: string;
}

/** What the webhook server needs to serve TLS; never includes the CA key. */
export interface ServingPem {
  certPem: string;
  keyPem: string;
  caPem: string;
}

export interface IssueOptions {
  names: ServingNames;
  lifetimes: Lifetimes;
  now: Date;
}

export function servingPem(bundle: CertBundle): ServingPem {
  return { certPem: bundle.tlsCertPem, keyPem: bundle.tlsKeyPem, caPem: bundle.caBundlePem };
}

// forge writes CRLF; plain LF keeps stored PEMs byte-comparable with what splitPem returns.
const lf = (pem: string): string => pem.replace(/\r\n/g, '\n');

function newCA(lifetimes: Lifetimes, now: Date): { certPem: string; keyPem: string } {
  // A timestamp tells CA generations apart; '-' not '@', which PrintableString lacks and Go's x509 (the apiserver) rejects.
  const ca = createCA(`${CA_COMMON_NAME}-${Math.floor(now.getTime() / 1000)}`, lifetimes.caDays, now);
  return { certPem: lf(ca.certPem), keyPem: lf(ca.keyPem) };
}

function issueServing(ca: { certPem: string; keyPem: string }, { names, lifetimes, now }: IssueOptions): { certPem: string; keyPem: string } {
  // A leaf must not outlive the CA that vouches for it.
  const caDaysLeft = daysUntil(certFacts(ca.certPem, 'CA certificate').notAfter, now);
  const validDays = Math.max(1, Math.min(lifetimes.servingDays, caDaysLeft));
  const leaf = issueCertificate(loadCA(ca), { commonName: names.commonName, dnsNames: names.dnsNames, ipAddresses: names.ipAddresses, usage: 'server', validDays, now });
  return { certPem: lf(leaf.certPem), keyPem: lf(leaf.keyPem) };
}

export function createCertBundle(opts: IssueOptions): CertBundle {
  const ca = newCA(opts.lifetimes, opts.now);
  const leaf = issueServing(ca, opts);
  return { caCertPem: ca.certPem, caKeyPem: ca.keyPem, caBundlePem: ca.certPem, tlsCertPem: leaf.certPem, tlsKeyPem: leaf.keyPem };
}

/** Applies a rotation plan; a new CA joins the bundle in front of the old ones, which stay until they expire. */
export function rotateCertBundle(bundle: CertBundle, plan: Pick<RotationPlan, 'rotateCA' | 'rotateServing'>, opts: IssueOptions): CertBundle {
  if (!plan.rotateCA && !plan.rotateServing) return bundle;
  const ca = plan.rotateCA ? newCA(opts.lifetimes, opts.now) : { certPem: bundle.caCertPem, keyPem: bundle.caKeyPem };
  const leaf = issueServing(ca, opts);
  const older = splitPem(bundle.caBundlePem).filter((pem) => pem.trim() !== ca.certPem.trim() && certFacts(pem).notAfter > opts.now);
  return { caCertPem: ca.certPem, caKeyPem: ca.keyPem, caBundlePem: [ca.certPem, ...older].join(''), tlsCertPem: leaf.certPem, tlsKeyPem: leaf.keyPem };
}

/** Builds a bundle from stored PEMs, finding the current CA as the bundle entry that matches the CA key. */
export function bundleFromPems(pems: { caBundlePem: string; caKeyPem: string; tlsCertPem: string; tlsKeyPem: string }, where: string): CertBundle {
  const cas = splitPem(pems.caBundlePem);
  if (!cas.length) throw new CertError('InvalidSecret', `${where}: ca.crt holds no certificate`, { where });
  const caCertPem = cas.find((pem) => keyMatches(pem, pems.caKeyPem));
  if (!caCertPem) throw new CertError('InvalidSecret', `${where}: no certificate in ca.crt matches ca.key`, { where });
  if (!keyMatches(pems.tlsCertPem, pems.tlsKeyPem)) throw new CertError('InvalidSecret', `${where}: tls.key does not match tls.crt`, { where });
  return { caCertPem, caKeyPem: pems.caKeyPem, caBundlePem: pems.caBundlePem, tlsCertPem: pems.tlsCertPem, tlsKeyPem: pems.tlsKeyPem };
}

export function factsOf(bundle: CertBundle): StoredCertFacts {
  const serving: CertFacts = certFacts(bundle.tlsCertPem, 'tls.crt');
  return { ca: certFacts(bundle.caCertPem, 'CA certificate'), serving, servingSignedByCA: signedBy(bundle.tlsCertPem, bundle.caCertPem) };
}
