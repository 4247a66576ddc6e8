// resource.Quantity parsed to an exact fraction, so "1" and "1000m" compare equal without float error.
import type { Quantity } from './meta.ts';

export interface Fraction {
  num: bigint;
  den: bigint;
}

const QUANTITY = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE])|[eE]([+-]?[0-9]+))?$/;
const BINARY: Record<string, bigint> = { Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n };
const DECIMAL_EXPONENT: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

// Undefined for text that is not a Quantity.
export function parseQuantity(q: Quantity): Fraction | undefined {
  if (typeof q === 'number') return Number.isInteger(q) ? { num: BigInt(q), den: 1n } : undefined;
  const m = QUANTITY.exec(q.trim());
  if (!m) return undefined;
  const [, sign, digits = '', binary, decimal, exponent] = m;
  const [whole = '', fractional = ''] = digits.split('.');
  let num = BigInt(`${whole || '0'}${fractional}`);
  let den = 10n ** BigInt(fractional.length);
  if (sign === '-') num = -num;
  if (binary) num *= BINARY[binary] ?? 1n;
  const power = decimal ? (DECIMAL_EXPONENT[decimal] ?? 0) : exponent ? Number(exponent) : 0;
  if (power >= 0) num *= 10n ** BigInt(power);
  else den *= 10n ** BigInt(-power);
  return { num, den };
}

// -1, 0 or 1 like a comparator; undefined when either side is not a Quantity.
export function compareQuantities(a: Quantity, b: Quantity): number | undefined {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  if (!x || !y) return undefined;
  const left = x.num * y.den;
  const right = y.num * x.den;
  return left < right ? -1 : left > right ? 1 : 0;
}

// Whole units, rounded up as the apiserver does for counted resources like nvidia.com/gpu.
export function quantityToInteger(q: Quantity): number | undefined {
  const f = parseQuantity(q);
  if (!f) return undefined;
  const whole = f.num / f.den;
  return Number(f.num % f.den === 0n || f.num < 0n ? whole : whole + 1n);
}
