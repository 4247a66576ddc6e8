// The node's own network namespace (no route out), one persistent private mount namespace that kubelet and
// containerd share (so kubelet's volume mounts are visible to runc, and its sysctl writes stay inside), and
// a cgroup subtree per node that holds every process the node starts, so teardown can find them all.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalClusterError } from '../errors.ts';
import { NODE_IP, NODE_SERVICE_CIDR } from './addresses.ts';

export interface NodeNamespaceRecord {
  netns: string;
  /** Folder whose private bind mount holds the mount namespace's file. */
  mountDir: string;
  /** cgroup path relative to each hierarchy's root. */
  cgroup: string;
  /** Empty mount points this node had to create on the host, removed again with it. */
  hostDirs?: string[];
}

export interface NodeNamespaces extends NodeNamespaceRecord {
  /** Command line that runs `command` inside the node (cgroup, network and mount namespaces). */
  enter(command: string, args: string[]): { command: string; args: string[] };
}

/** Host paths kubelet and containerd use whatever their flags say; each node gets private copies. */
const privatePaths = ['/var/lib/kubelet', '/var/log/pods', '/var/log/containers', '/var/lib/cni', '/run/containerd', '/etc/cni/net.d'];

/** Host-wide sysctls kubelet rewrites at start; inside the mount namespace it sees these values, and the host keeps its own. */
export const kubeletSysctls: Readonly<Record<string, string>> = {
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
  'vm/overcommit_memory': '1',
  'vm/panic_on_oom': '0',
  'kernel/keys/root_maxkeys': '1000000',
  'kernel/keys/root_maxbytes': '25000000',
};

const cgroupRoot = '/sys/fs/cgroup';

export function createNodeNamespaces(id: string, dir: string): NodeNamespaces {
  const rec: NodeNamespaceRecord = { netns: `trainingjob-${id}`, mountDir: join(dir, 'mountns'), cgroup: `trainingjob-${id}`, hostDirs: [] };
  const netnsPath = `/run/netns/${rec.netns}`;
  const mountFile = join(rec.mountDir, 'mnt');
  try {
    run('ip', ['netns', 'add', rec.netns]);
    run('ip', ['-n', rec.netns, 'link', 'set', 'lo', 'up']);
    run('ip', ['-n', rec.netns, 'addr', 'add', `${NODE_IP}/32`, 'dev', 'lo']);
    // A local socket's connect() needs a route before kube-proxy's OUTPUT rules can rewrite a ClusterIP; with
    // no default route, the Service range gets one through lo, from the node's address.
    run('ip', ['-n', rec.netns, 'route', 'add', NODE_SERVICE_CIDR, 'dev', 'lo', 'src', NODE_IP]);

    // A persistent mount namespace lives on a bind mount whose propagation is private.
    mkdirSync(rec.mountDir, { recursive: true });
    run('mount', ['--bind', rec.mountDir, rec.mountDir]);
    run('mount', ['--make-private', rec.mountDir]);
    writeFileSync(mountFile, '');
    run('unshare', [`--mount=${mountFile}`, '--propagation', 'private', 'true']);
    const inMounts = (args: string[]): string => run('nsenter', [`--mount=${mountFile}`, '--', ...args]);
    for (const p of privatePaths) {
      const own = join(dir, 'node-root', p.replace(/^\//, '').replace(/\//g, '_'));
      mkdirSync(own, { recursive: true });
      // An empty mount point on the host (its content lives in `own`), removed with the node if it made it.
      if (!existsSync(p)) {
        mkdirSync(p, { recursive: true });
        rec.hostDirs!.push(p);
      }
      inMounts(['mount', '--bind', own, p]);
    }
    const sysctlDir = join(dir, 'sysctl');
    mkdirSync(sysctlDir, { recursive: true });
    for (const [key, value] of Object.entries(kubeletSysctls)) {
      const file = join(sysctlDir, key.replace(/\//g, '.'));
      writeFileSync(file, `${value}\n`);
      inMounts(['mount', '--bind', file, `/proc/sys/${key}`]);
    }

    for (const h of hierarchies()) {
      for (const sub of ['', '/system']) {
        const d = join(cgroupRoot, h, rec.cgroup + sub);
        mkdirSync(d, { recursive: true });
        // A new cpuset cgroup starts with no CPUs; give it its parent's.
        if (h === 'cpuset') for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(d, f), readFileSync(join(d, '..', f)));
      }
    }
  } catch (err) {
    destroyNodeNamespaces(rec);
    throw err;
  }
  const enterScript = join(import.meta.dirname, 'enter.sh');
  return {
    ...rec,
    enter: (command, args) => ({ command: enterScript, args: [`${rec.cgroup}/system`, netnsPath, mountFile, command, ...args] }),
  };
}

/**
 * Kills every process left in the node's cgroups, then removes cgroups, mount namespace, network namespace
 * and the host mount points it made; safe to repeat. Returns what is still there (empty when all is gone).
 */
export function destroyNodeNamespaces(rec: NodeNamespaceRecord): string[] {
  const left: string[] = [];
  const survivors = killCgroupTree(rec.cgroup);
  if (survivors.length) left.push(`processes ${survivors.join(', ')} in cgroup ${rec.cgroup}`);
  for (const h of hierarchies()) if (!removeTree(join(cgroupRoot, h, rec.cgroup))) left.push(`cgroup ${h}/${rec.cgroup}`);
  const mountFile = join(rec.mountDir, 'mnt');
  for (const m of [mountFile, rec.mountDir]) if (isMounted(m) && spawnSync('umount', [m]).status !== 0) left.push(`mount ${m}`);
  if (existsSync(`/run/netns/${rec.netns}`) && spawnSync('ip', ['netns', 'del', rec.netns]).status !== 0) left.push(`network namespace ${rec.netns}`);
  for (const d of [...(rec.hostDirs ?? [])].reverse()) {
    try {
      rmdirSync(d);
    } catch {
      // not empty or already gone: something else uses it now
    }
  }
  return left;
}

/** What the namespace holds, for the containment check: its links and its IPv4 and IPv6 routes. */
export function netnsSnapshot(netns: string): { links: string[]; routes: string[] } {
  const links = run('ip', ['-n', netns, '-o', 'link', 'show']).split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim().split('@')[0]!);
  const routes = ['-4', '-6'].flatMap((family) => run('ip', [family, '-n', netns, 'route', 'show', 'table', 'all']).split('\n').filter(Boolean));
  return { links, routes };
}

/** Links of the calling process's namespace whose peer lives in `netns` (a veth pair would be a way out). */
export function linksInto(netns: string): string[] {
  const peerId = run('ip', ['netns', 'list-id']).split('\n').find((l) => l.includes(` ${netns}`) || l.endsWith(netns));
  const id = peerId ? /nsid (\d+)/.exec(peerId)?.[1] : undefined;
  if (id === undefined) return [];
  return run('ip', ['-o', 'link', 'show']).split('\n').filter((l) => new RegExp(`link-netnsid ${id}\\b`).test(l)).map((l) => l.split(':')[1]!.trim());
}

function isMounted(path: string): boolean {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);
  } catch {
    return false;
  }
}

function hierarchies(): string[] {
  if (!existsSync(cgroupRoot)) return [];
  return readdirSync(cgroupRoot, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
}

/** SIGKILLs the tree until it is empty (up to ~5 s); returns the pids still there. */
function killCgroupTree(cgroup: string): number[] {
  const pidsRoot = join(cgroupRoot, 'pids', cgroup);
  for (let round = 0; round < 50 && existsSync(pidsRoot); round++) {
    const pids = collectPids(pidsRoot);
    if (pids.length === 0) return [];
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    spawnSync('sleep', ['0.1']);
  }
  return existsSync(pidsRoot) ? collectPids(pidsRoot) : [];
}

function collectPids(dir: string): number[] {
  let pids: number[] = [];
  try {
    pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) pids.push(...collectPids(join(dir, e.name)));
  } catch {
    // removed meanwhile
  }
  return pids;
}

/** Removes a cgroup and its children depth-first; false when one is still busy (a task still exiting). */
function removeTree(dir: string): boolean {
  if (!existsSync(dir)) return true;
  let ok = true;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) ok = removeTree(join(dir, e.name)) && ok;
  try {
    rmdirSync(dir);
  } catch {
    return false;
  }
  return ok;
}

function run(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new LocalClusterError('NodeSetupFailed', `\`${command} ${args.join(' ')}\` failed (exit ${r.status}): ${(r.stderr || String(r.error ?? '')).trim()}`, { command });
  }
  return r.stdout;
}
