// The real `trainingjob controller` as a separate process for the benchmarks (through
// bench/controller-scale-runner.ts), and its memory read from /proc.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlPlane } from '../localcluster/controlplane.ts';
import { getText } from '../localcluster/http.ts';
import { startProcess, type ManagedProcess } from '../localcluster/process.ts';
import { CONTROLLER_NODE_FLAGS } from '../cli/node-flags.ts';

const runner = join(import.meta.dirname, 'controller-scale-runner.ts');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Memory {
  rssKb: number;
  hwmKb: number;
}

export function memoryOf(pid: number): Memory | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (Linux clear_refs 5), so the next peak is this phase's own. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;

export interface Controller {
  proc: ManagedProcess;
  metricsUrl: string;
  /** The push receiver's base URL. */
  hooksUrl: string;
  scrape(): Promise<string>;
  stop(): Promise<number | null>;
}

/** Client settings of the controller process (its CLI flags). */
export interface ControllerSetting {
  qps: number;
  burst: number;
  workers: number;
}

// BENCH_CONTROLLER_NODE_FLAGS (space-separated) replaces the V8 flags bin/trainingjob.js gives the controller, to compare them.
// `NAME=value` entries among the flags are environment settings for the process (e.g. glibc's MALLOC_ARENA_MAX).
const isEnvSetting = (f: string): boolean => /^[A-Z_][A-Z0-9_]*=/.test(f);

export function defaultNodeFlags(): string[] {
  const override = process.env.BENCH_CONTROLLER_NODE_FLAGS;
  return override === undefined ? [...CONTROLLER_NODE_FLAGS] : override.split(' ').filter(Boolean);
}

/** Starts `trainingjob controller` (through the runner) against `cp`; `extraArgs` are more CLI flags, `nodeFlags` Node/V8 flags. */
export async function startControllerProcess(cp: ControlPlane, s: ControllerSetting, label: string, extraArgs: string[] = [], nodeFlags: readonly string[] = defaultNodeFlags()): Promise<Controller> {
  // Outside the control plane's folder, which is removed at stop: kept for a look afterwards.
  const logPath = join(tmpdir(), `trainingjob-controller-scale-${label}.log`);
  rmSync(logPath, { force: true });
  const proc = startProcess({
    name: 'trainingjob-controller',
    command: process.execPath,
    args: [
      ...nodeFlags.filter((f) => !isEnvSetting(f)),
      runner, '--kubeconfig', cp.kubeconfigPath, '--no-leader-elect', '--loopback-only',
      '--metrics-addr', '127.0.0.1:0', '--health-addr', '127.0.0.1:0', '--hooks-addr', '127.0.0.1:0',
      '--client-qps', String(s.qps), '--client-burst', String(s.burst), '--workers', String(s.workers), ...extraArgs,
    ],
    logPath,
    // The production default level; the log goes to a file, as a pod's would go to its runtime.
    env: { ...process.env, LOG_LEVEL: 'info', ...Object.fromEntries(nodeFlags.filter(isEnvSetting).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])) },
  });
  try {
    // Ports are picked by the kernel (…:0); the controller logs the URLs it bound.
    let urls: { metricsUrl?: string; healthUrl?: string; hooksUrl?: string } = {};
    const deadline = Date.now() + 60_000;
    while (!urls.healthUrl) {
      if (!proc.running()) throw new Error(`controller exited at start; log ${logPath}`);
      if (Date.now() > deadline) throw new Error(`controller did not start within 60 s; log ${logPath}`);
      const line = readFileSync(logPath, 'utf8').split('\n').find((l) => l.includes('"controller started"'));
      if (line) urls = JSON.parse(line) as typeof urls;
      else await sleep(100);
    }
    while ((await getText(`${urls.healthUrl}/readyz`, undefined, 5000).catch(() => ({ status: 0 }))).status !== 200) {
      if (Date.now() > deadline) throw new Error(`controller caches not synced within 60 s; log ${logPath}`);
      await sleep(100);
    }
    const metricsUrl = urls.metricsUrl!;
    return {
      proc,
      metricsUrl,
      hooksUrl: urls.hooksUrl ?? '',
      scrape: async () => (await getText(`${metricsUrl}/metrics`, undefined, 30_000)).body,
      async stop() {
        await proc.stop(15_000);
        return proc.exited;
      },
    };
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

/** Samples VmRSS every 250 ms; the max of the samples backs up VmHWM. */
export function rssSampler(pid: number): { stop(): { maxKb: number; samples: number[] } } {
  const samples: number[] = [];
  const take = (): void => {
    const m = memoryOf(pid);
    if (m) samples.push(m.rssKb);
  };
  take();
  const timer = setInterval(take, 250);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { maxKb: Math.max(...samples), samples };
    },
  };
}
