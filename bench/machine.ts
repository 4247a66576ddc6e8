// How busy the machine was during a measurement, and how much of that was us: the benchmark
// process and its descendants (servers, etcd, kube-apiserver) vs everything else (other
// engineers' builds and tests on the same 2 cores), plus hypervisor steal. Linux /proc only.
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';

const HZ = 100; // USER_HZ: /proc reports CPU time in 1/100 s

interface Snapshot {
  at: number;
  busy: number;
  steal: number;
  tree: Map<number, number>;
}

function procStat(pid: number): { ppid: number; jiffies: number; reaped: number } | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { ppid: Number(fields[1]), jiffies: Number(fields[11]) + Number(fields[12]), reaped: Number(fields[13]) + Number(fields[14]) };
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSecondsOf(pid: number): number {
  const s = procStat(pid);
  return s ? s.jiffies / HZ : NaN;
}

function ownTree(): Map<number, number> {
  const all = new Map<number, { ppid: number; jiffies: number; reaped: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = procStat(Number(name));
    if (s) all.set(Number(name), s);
  }
  const tree = new Map<number, number>();
  const inTree = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === process.pid) return true;
      p = all.get(p)?.ppid ?? 0;
    }
    return false;
  };
  // With the CPU of children already reaped (e.g. a load generator that has exited), counted once below.
  for (const [pid, s] of all) if (inTree(pid)) tree.set(pid, s.jiffies + s.reaped);
  return tree;
}

function snapshot(): Snapshot {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return { at: performance.now(), busy: user + nice + system + irq + softirq, steal, tree: ownTree() };
}

export interface MachineLoad {
  seconds: number;
  /** Cores busy in total, used by us, used by everything else, and stolen by the hypervisor. */
  busy: number;
  ours: number;
  others: number;
  steal: number;
}

export function startMeter(): () => MachineLoad {
  const a = snapshot();
  return () => {
    const b = snapshot();
    const seconds = (b.at - a.at) / 1000;
    let ours = 0;
    for (const [pid, j] of b.tree) ours += j - (a.tree.get(pid) ?? 0);
    // A child gone since `a` is now in its parent's reaped time; subtract what `a` already had of it.
    for (const [pid, j] of a.tree) if (!b.tree.has(pid)) ours -= j;
    const cores = (j: number): number => j / HZ / seconds;
    const busy = cores(b.busy - a.busy);
    // Per-process times and /proc/stat tick on different clocks: ours can read a few % above busy.
    // A grandchild reaped by init after its parent exited drops out: ours may undercount, never below 0.
    ours = Math.max(0, ours);
    return { seconds, busy, ours: cores(ours), others: Math.max(0, busy - cores(ours)), steal: cores(b.steal - a.steal) };
  };
}

export function describeLoad(l: MachineLoad): string {
  return `machine busy ${l.busy.toFixed(2)} cores of ${cpus().length} over ${l.seconds.toFixed(0)} s: this benchmark ${l.ours.toFixed(2)}, other processes ${l.others.toFixed(2)}, hypervisor steal ${l.steal.toFixed(2)}`;
}
