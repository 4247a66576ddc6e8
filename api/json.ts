// Plain-JSON helpers for objects that arrive from the wire and may hold anything.
import rfdc from 'rfdc';
export type JsonObject = Record<string, unknown>;

export function isPlainObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

// rfdc: a plain-data deep copy several times cheaper than structuredClone, which serializes (most of a mutate's time).
const copy = rfdc({ proto: false, circles: false });

export function cloneJson<T>(v: T): T {
  return copy(v);
}
