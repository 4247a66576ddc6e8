// Starts one control-plane process with its output in a log file, and stops it by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { LocalClusterError, tailFile } from './errors.ts';

export interface ManagedProcess {
  name: string;
  pid: number;
  logPath: string;
  /** Resolves with the exit code once the process has gone. */
  exited: Promise<number | null>;
  /** True until the process exits. */
  running(): boolean;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  logPath: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function startProcess(opts: StartOptions): ManagedProcess {
  const fd = openSync(opts.logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(opts.command, opts.args, { stdio: ['ignore', fd, fd], env: opts.env ?? process.env, cwd: opts.cwd });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) {
    throw new LocalClusterError('ProcessExited', `${opts.name} could not be started (${opts.command}); log: ${opts.logPath}`, { name: opts.name });
  }
  let alive = true;
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code, signal) => {
      alive = false;
      resolve(code ?? (signal ? 128 : null));
    });
    child.on('error', () => {
      alive = false;
      resolve(null);
    });
  });
  const pid = child.pid;
  return {
    name: opts.name,
    pid,
    logPath: opts.logPath,
    exited,
    running: () => alive,
    async stop(graceMs = 5000) {
      if (!alive) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Error for a process that exited while we waited on it, naming its log and showing its tail. */
export function exitedError(p: ManagedProcess, code: number | null): LocalClusterError {
  return new LocalClusterError('ProcessExited', `${p.name} exited with code ${code} while starting; log: ${p.logPath}\n${tailFile(p.logPath, 20)}`, { name: p.name, log: p.logPath, code });
}

/**
 * Polls `check` until it returns true; fails fast if `proc` exits, and with the log tail on timeout.
 */
export async function waitUntil(proc: ManagedProcess, what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void proc.exited.then((c) => {
    exitCode = c;
  });
  while (Date.now() < deadline) {
    if (exitCode !== undefined || !proc.running()) throw exitedError(proc, exitCode ?? null);
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new LocalClusterError('StartTimeout', `${proc.name} did not become ${what} within ${Math.round(timeoutMs / 1000)}s; log: ${proc.logPath}\n${tailFile(proc.logPath, 25)}`, { name: proc.name, log: proc.logPath });
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, feeding `input` on stdin, and returns its exit code and output. */
export async function runCommand(command: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    // A command may exit without reading its input (EPIPE): its exit code and output tell the story, not a crash.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}
