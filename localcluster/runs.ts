// A machine-wide record of running control planes, so processes left by a killed test run are reaped.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheRoot, pidAlive } from './binaries.ts';
import { destroyNodeNamespaces, type NodeNamespaceRecord } from './realnode/namespaces.ts';

export interface RunRecord {
  /** The Node process that owns the control plane; when it is gone, the run is stale. */
  ownerPid: number;
  dir: string;
  /** pid → executable path, checked before a kill so a reused pid is never hit. */
  pids: Record<string, string>;
  keepDir?: boolean;
  /** The real node's namespaces and cgroups, removed with the run. */
  node?: NodeNamespaceRecord;
}

function runsDir(): string {
  return join(dirname(cacheRoot()), 'runs');
}

function recordPath(id: string): string {
  return join(runsDir(), `${id}.json`);
}

export function writeRun(id: string, rec: RunRecord): void {
  mkdirSync(runsDir(), { recursive: true });
  writeFileSync(recordPath(id), JSON.stringify(rec));
}

export function removeRun(id: string): void {
  rmSync(recordPath(id), { force: true });
}

/** True when `pid` is alive and still runs `exe` (guards against pid reuse). */
export function pidRuns(pid: number, exe: string): boolean {
  if (!pidAlive(pid)) return false;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return cmd === exe;
  } catch {
    return false;
  }
}

export function killRecorded(rec: RunRecord): void {
  for (const [pid, exe] of Object.entries(rec.pids)) {
    if (pidRuns(Number(pid), exe)) process.kill(Number(pid), 'SIGKILL');
  }
}

/** Kills processes of runs whose owner died without tearing down (e.g. a test killed by timeout). */
export function reapStaleRuns(): number {
  if (!existsSync(runsDir())) return 0;
  let reaped = 0;
  for (const f of readdirSync(runsDir())) {
    if (!f.endsWith('.json')) continue;
    const id = f.slice(0, -5);
    let rec: RunRecord;
    try {
      rec = JSON.parse(readFileSync(recordPath(id), 'utf8')) as RunRecord;
    } catch {
      continue;
    }
    if (pidAlive(rec.ownerPid)) continue;
    killRecorded(rec);
    // What could not be removed stays on record (and its folder on disk) for the next reaper.
    if (rec.node && destroyNodeNamespaces(rec.node).length) continue;
    if (!rec.keepDir) rmSync(rec.dir, { recursive: true, force: true });
    removeRun(id);
    reaped++;
  }
  return reaped;
}
