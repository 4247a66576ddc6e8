// Loopback-only dialling for a controller started by a local cluster or a test: a target outside
// 127.0.0.0/8 and ::1 is refused before any packet or DNS lookup leaves, and reported.
import { BlockList, isIP } from 'node:net';

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** True for `localhost`, 127.0.0.0/8, ::1 and IPv4-mapped 127.x; false for every other name or address. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  const family = isIP(h);
  // BlockList also matches IPv4-mapped IPv6 (::ffff:127.0.0.1) against the IPv4 subnet.
  return family !== 0 && loopback.check(h, family === 4 ? 'ipv4' : 'ipv6');
}

/** True when every address of `cidr` (a.b.c.d/n or an IPv6 /n) is loopback. */
export function isLoopbackCidr(cidr: string): boolean {
  const [address, bits] = cidr.split('/');
  const prefix = Number(bits);
  const family = isIP(address ?? '');
  if (!address || !Number.isInteger(prefix)) return false;
  if (family === 4) return prefix >= 8 && prefix <= 32 && isLoopbackHost(address);
  return family === 6 && prefix === 128 && isLoopbackHost(address);
}

export class NonLoopbackDialError extends Error {
  readonly code = 'NonLoopbackDial';
  readonly target: string;
  readonly purpose: string;
  constructor(target: string, purpose: string) {
    super(`refused to dial ${target} (${purpose}): this controller runs loopback-only, and only 127.0.0.0/8 and ::1 may be dialled`);
    this.name = 'NonLoopbackDialError';
    this.target = target;
    this.purpose = purpose;
  }
}

/** Checks a URL before it is dialled; throws NonLoopbackDialError (after reporting it) for any other host. */
export type DialGuard = (url: string, purpose: string) => void;

export function loopbackOnly(onViolation: (err: NonLoopbackDialError) => void): DialGuard {
  return (url, purpose) => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (parsed && isLoopbackHost(parsed.hostname)) return;
    // The target lands in logs, events and status: never with the credentials a URL may carry.
    if (parsed) parsed.username = parsed.password = '';
    const err = new NonLoopbackDialError(parsed ? parsed.toString() : '<unparsable url>', purpose);
    onViolation(err);
    throw err;
  };
}
