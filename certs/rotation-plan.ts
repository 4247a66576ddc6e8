// Decides, from stored certificate facts and the time, whether the CA or the serving certificate must be replaced.
import { daysToMs, type Lifetimes } from './lifetimes.ts';
import { canonicalIp, daysUntil, type CertFacts } from './inspect.ts';
import type { ServingNames } from './names.ts';

export interface StoredCertFacts {
  ca: CertFacts;
  serving: CertFacts;
  /** The serving certificate carries the current CA's signature. */
  servingSignedByCA: boolean;
}

export interface RotationPlan {
  rotateServing: boolean;
  rotateCA: boolean;
  /** One sentence for logs and the CLI. */
  reason: string;
}

const both = (reason: string): RotationPlan => ({ rotateServing: true, rotateCA: true, reason });
const serving = (reason: string): RotationPlan => ({ rotateServing: true, rotateCA: false, reason });

/** Pure: the same facts, time and table always give the same plan. A new CA always brings a new serving certificate. */
export function rotationPlan(stored: StoredCertFacts | undefined, now: Date, lifetimes: Lifetimes, names?: ServingNames): RotationPlan {
  if (!stored) return both('no certificates are stored');
  const { ca, serving: leaf } = stored;
  if (!ca.isCA) return both('the stored CA certificate is not a CA');
  if (ca.notAfter.getTime() - now.getTime() < daysToMs(lifetimes.caLookaheadDays)) {
    return both(`the CA expires in ${daysUntil(ca.notAfter, now)} days (rotated ${lifetimes.caLookaheadDays} days ahead)`);
  }
  if (ca.notBefore > now) return both('the CA is not valid yet');
  if (!stored.servingSignedByCA) return serving('the serving certificate is not signed by the current CA');
  if (leaf.notAfter.getTime() - now.getTime() < daysToMs(lifetimes.servingLookaheadDays)) {
    return serving(`the serving certificate expires in ${daysUntil(leaf.notAfter, now)} days (rotated ${lifetimes.servingLookaheadDays} days ahead)`);
  }
  if (leaf.notBefore > now) return serving('the serving certificate is not valid yet');
  if (names) {
    const missing = [...names.dnsNames.filter((n) => !leaf.dnsNames.includes(n)), ...names.ipAddresses.filter((ip) => !leaf.ipAddresses.includes(canonicalIp(ip)))];
    if (missing.length) return serving(`the serving certificate lacks ${missing.join(', ')}`);
  }
  return { rotateServing: false, rotateCA: false, reason: `the serving certificate is valid for ${daysUntil(leaf.notAfter, now)} more days` };
}
