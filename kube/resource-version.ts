// resourceVersions are opaque to clients, but etcd's are integers that grow with every write; those compare in
// order, anything else for equality only (never newer).

const integer = /^\d+$/;

/** Whether `version` is strictly newer than `than`. */
export function newerVersion(version: string | undefined, than: string | undefined): boolean {
  return Boolean(version && than && integer.test(version) && integer.test(than) && BigInt(version) > BigInt(than));
}

/** The newest of some resourceVersions (anything not an integer keeps the last given). */
export function newestVersion(versions: ReadonlyArray<string | undefined>): string | undefined {
  let best: string | undefined;
  for (const v of versions) {
    if (!v) continue;
    if (!best || !integer.test(v) || !integer.test(best) || BigInt(v) > BigInt(best)) best = v;
  }
  return best;
}
