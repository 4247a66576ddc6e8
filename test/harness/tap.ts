// Test glue: a control plane per test file, torn down (and its logs shown on failure) by tap.
import type { Test } from 'tap';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../../localcluster/controlplane.ts';
import { nonLoopbackAddresses, readClusterAddresses } from './loopback-audit.ts';
import { NODE_POD_CIDR, NODE_PRIVATE_RANGES, NODE_SERVICE_CIDR } from '../../localcluster/realnode/addresses.ts';
import { linksInto, netnsSnapshot } from '../../localcluster/realnode/namespaces.ts';

export async function controlPlaneFor(t: Test, opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const cp = await startControlPlane({ progress: (l) => t.comment(l), ...opts });
  t.teardown(async () => {
    const audit = await auditLoopback(t, cp).then(() => undefined, (err: unknown) => err);
    if (!t.passing() || audit) t.comment(`control-plane logs:\n${cp.logTails(40)}`);
    await cp.stop();
    if (audit) throw audit;
  });
  return cp;
}

/**
 * Throws (a teardown error fails the test file, message shown) if anything in the cluster names an
 * address outside loopback. Runs before every stop.
 */
async function auditLoopback(t: Test, cp: ControlPlane): Promise<void> {
  if (!cp.processes.find((p) => p.name === 'kube-apiserver')?.running()) {
    t.comment('loopback audit not run: this test left kube-apiserver stopped');
    return;
  }
  let found: string[];
  try {
    found = nonLoopbackAddresses(await readClusterAddresses(cp.server, cp.admin), cp.realNode ? NODE_PRIVATE_RANGES : []);
    // A real node's private addresses are contained only while its namespace has no way out.
    if (cp.realNode) found.push(...routesOut(cp.realNode.namespace.netns));
  } catch (err) {
    throw new Error(`loopback audit could not read the cluster: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (found.length > 0) throw new Error(`loopback audit: addresses outside 127.0.0.0/8 and ::1 in the test cluster:\n  ${found.join('\n  ')}`);
}

/**
 * What could carry traffic out of the node's namespace: a link but lo, the bridge and veths; a host link
 * whose peer is in it; any route but the local table's, the pod subnet on the bridge, the Service range
 * on lo and IPv6 link-local ones.
 */
export function routesOut(netns: string): string[] {
  const { links, routes } = netnsSnapshot(netns);
  const allowedRoute = (r: string): boolean =>
    /^(local|broadcast|multicast|anycast) /.test(r) ||
    r.startsWith(`${NODE_POD_CIDR} dev cni0 `) ||
    r.startsWith(`${NODE_SERVICE_CIDR} dev lo `) ||
    /^fe80::\/64 dev (cni0|veth\S+) /.test(r);
  return [
    ...links.filter((l) => l !== 'lo' && l !== 'cni0' && !l.startsWith('veth')).map((l) => `node namespace ${netns}: link ${l}`),
    ...linksInto(netns).map((l) => `host link ${l} has its peer in node namespace ${netns}`),
    ...routes.filter((r) => !allowedRoute(r)).map((r) => `node namespace ${netns}: route ${r}`),
  ];
}

/** kubectl against the test cluster, returning stdout; a non-zero exit throws with kubectl's stderr. */
export function kubectlOrThrow(cp: Pick<ControlPlane, 'kubectl'>): (args: string[], input?: string) => Promise<string> {
  return async (args, input) => {
    const r = await cp.kubectl(args, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${r.code}): ${r.stderr}`);
    return r.stdout;
  };
}

/**
 * Polls until `fn` returns a value (not undefined) or the timeout passes; returns the last value.
 * If the last try threw, the timeout is an error that carries it, so a failure says why.
 */
export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 250): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let v: T | undefined;
    let lastError: unknown;
    try {
      v = await fn();
    } catch (err) {
      v = undefined;
      lastError = err;
    }
    if (v !== undefined) return v;
    if (Date.now() > deadline) {
      if (lastError === undefined) return undefined;
      throw new Error(`eventually: nothing within ${timeoutMs} ms; the last try failed: ${lastError instanceof Error ? lastError.message : String(lastError)}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
