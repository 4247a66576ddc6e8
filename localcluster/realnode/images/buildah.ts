// buildah and the other build tools, run with their output appended to one build log; buildah keeps its own
// store under the images cache, so layers (and the base image) are reused across builds and clones.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

export function storeArgs(imagesDir: string): string[] {
  return ['--root', join(imagesDir, 'storage'), '--runroot', join(imagesDir, 'runroot'), '--storage-driver', 'overlay'];
}

/** Runs `command args` in `cwd`, appending the command line and its output to `log`; resolves with stdout. */
export function runLogged(command: string, args: readonly string[], log: string, cwd: string, label = command): Promise<string> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(log, { flags: 'a' });
    out.write(`$ ${command} ${args.join(' ')}\n`);
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      out.write(d);
    });
    child.stderr.on('data', (d: Buffer) => out.write(d));
    let settled = false;
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      out.end(() => (err ? reject(err) : resolve(stdout)));
    };
    // A spawn failure (ENOENT) emits both events; the first decides.
    child.on('error', settle);
    child.on('close', (code, signal) => settle(code === 0 ? undefined : new Error(`${label} exited with ${code ?? signal}`)));
  });
}

export interface Buildah {
  run: (args: readonly string[]) => Promise<string>;
  /** The image id `ref` has in the store, or undefined when the store lacks it. */
  imageId: (ref: string) => string | undefined;
}

export function buildahFor(imagesDir: string, log: string): Buildah {
  const store = storeArgs(imagesDir);
  return {
    run: (args) => runLogged('buildah', [...store, ...args], log, imagesDir, `buildah ${args[0] ?? ''}`),
    imageId: (ref) => {
      const r = spawnSync('buildah', [...store, 'inspect', '--type', 'image', '--format', '{{.FromImageID}}', ref], { encoding: 'utf8' });
      return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
    },
  };
}
