// Whether this machine can run the real node: Linux, root (namespaces, cgroups, mounts), and the Debian
// tools it drives. The reason comes back as a sentence, for the CLI's fallback note and the tier's skip.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const tools: readonly [string, string][] = [
  ['/usr/sbin/runc', 'runc'], ['/usr/lib/cni/bridge', 'containernetworking-plugins'], ['/usr/lib/cni/host-local', 'containernetworking-plugins'],
  ['/usr/lib/cni/portmap', 'containernetworking-plugins'], ['/usr/sbin/iptables', 'iptables'], ['/usr/sbin/conntrack', 'conntrack'],
];

/** Undefined when the real node can run here; otherwise why not. */
export function realNodeUnsupported(): string | undefined {
  if (process.platform !== 'linux') return `the real node needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'the real node needs root (network and mount namespaces, cgroups, bind mounts)';
  for (const cmd of ['ip', 'nsenter', 'unshare', 'mount']) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) return `\`${cmd}\` is not on PATH (Debian packages iproute2 and util-linux)`;
  }
  const missing = tools.filter(([path]) => !existsSync(path));
  if (missing.length) return `missing ${missing.map(([p]) => p).join(', ')} (Debian packages: ${[...new Set(missing.map(([, pkg]) => pkg))].join(' ')}; scripts/ensure-deps.sh installs them)`;
  // The harness lays out the node's cgroups per v1 hierarchy (this machine kind's layout).
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return 'this host has only cgroup v2; the harness sets up the node\'s cgroups on cgroup v1 hierarchies';
  if (!existsSync('/sys/fs/cgroup/pids')) return 'no cgroup v1 pids hierarchy under /sys/fs/cgroup';
  return undefined;
}
