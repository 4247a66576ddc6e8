// The one table of certificate lifetimes: how long certificates live and how early they are replaced.
import { CertError } from './errors.ts';

export interface Lifetimes {
  /** Validity of a new self-signed CA. */
  caDays: number;
  /** Validity of a new serving certificate (capped by the CA's remaining life). */
  servingDays: number;
  /** A serving certificate with fewer days left than this is replaced. */
  servingLookaheadDays: number;
  /** A CA with fewer days left than this is replaced; the old CA stays in the bundle until it expires. */
  caLookaheadDays: number;
  /** How often the manager re-checks expiry and the injected caBundles. */
  checkIntervalMs: number;
}

const DAY_MS = 86_400_000;

export const DEFAULT_LIFETIMES: Readonly<Lifetimes> = Object.freeze({
  caDays: 3650,
  servingDays: 365,
  servingLookaheadDays: 30,
  // Longer than a serving certificate lives, so every leaf the old CA signed expires before the old CA does.
  caLookaheadDays: 400,
  checkIntervalMs: 3_600_000,
});

export function daysToMs(days: number): number {
  return days * DAY_MS;
}

/** Merges overrides over the defaults and refuses tables that would rotate in a loop or let a CA expire under its leaves. */
export function resolveLifetimes(overrides: Partial<Lifetimes> = {}): Lifetimes {
  const l: Lifetimes = { ...DEFAULT_LIFETIMES, ...overrides };
  const problems: string[] = [];
  for (const [k, v] of Object.entries(l)) if (!Number.isFinite(v) || v <= 0) problems.push(`${k} must be a positive number, got ${String(v)}`);
  if (l.servingLookaheadDays >= l.servingDays) problems.push(`servingLookaheadDays ${l.servingLookaheadDays} must be less than servingDays ${l.servingDays}`);
  if (l.caLookaheadDays >= l.caDays) problems.push(`caLookaheadDays ${l.caLookaheadDays} must be less than caDays ${l.caDays}`);
  if (l.caLookaheadDays <= l.servingDays) problems.push(`caLookaheadDays ${l.caLookaheadDays} must exceed servingDays ${l.servingDays} so leaves expire before their CA`);
  if (problems.length) throw new CertError('InvalidLifetimes', `invalid certificate lifetimes: ${problems.join('; ')}`, { lifetimes: l });
  return l;
}
