// Reads PEM certificates into plain facts (names, validity, issuer) with Node's X509 parser.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { CertError } from './errors.ts';

export interface CertFacts {
  subject: string;
  issuer: string;
  serialNumber: string;
  fingerprint256: string;
  dnsNames: string[];
  ipAddresses: string[];
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Each certificate of a PEM bundle, normalised to end in a newline. */
export function splitPem(bundle: string): string[] {
  return [...bundle.matchAll(PEM_CERT)].map((m) => `${m[0]}\n`);
}

function x509(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new CertError('InvalidPem', `${what} is not a PEM certificate: ${err instanceof Error ? err.message : String(err)}`, { what });
  }
}

export function certFacts(pem: string, what = 'certificate'): CertFacts {
  const x = x509(pem, what);
  const sans = (x.subjectAltName ?? '').split(/,\s*/).filter(Boolean);
  return {
    subject: x.subject.replace(/\n/g, ', '),
    issuer: x.issuer.replace(/\n/g, ', '),
    serialNumber: x.serialNumber,
    fingerprint256: x.fingerprint256,
    dnsNames: sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)),
    ipAddresses: sans.filter((s) => s.startsWith('IP Address:')).map((s) => canonicalIp(s.slice(11))),
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    isCA: x.ca,
  };
}

/** IPv6 written as eight lower-case groups (how X509 prints it), so `::1` and `0:0:0:0:0:0:0:1` compare equal. */
export function canonicalIp(ip: string): string {
  if (!isIPv6(ip)) return ip;
  const [head = '', tail] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => g.replace(/^0+(?=.)/, '')).join(':');
}

/** True when `leafPem` names `caPem` as issuer and carries its signature. */
export function signedBy(leafPem: string, caPem: string): boolean {
  const leaf = x509(leafPem, 'certificate');
  const ca = x509(caPem, 'CA certificate');
  return leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
}

/** True when the private key belongs to the certificate. */
export function keyMatches(certPem: string, keyPem: string): boolean {
  try {
    return x509(certPem, 'certificate').checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** Whole days from `now` until `date`, rounded down (negative once past). */
export function daysUntil(date: Date, now: Date): number {
  return Math.floor((date.getTime() - now.getTime()) / 86_400_000);
}
