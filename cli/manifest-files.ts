// The manifest files named on a command line: files as given, directories searched for *.yaml/*.yml in name
// order (hidden entries skipped, as .git), `-` for standard input.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const STDIN = '-';
export const STDIN_NAME = '<stdin>';

export interface ManifestSource {
  // the name printed in messages: the path as the user wrote it, joined with what was found below a directory
  name: string;
  path: string; // STDIN for standard input
  error?: string;
}

const MANIFEST_FILE = /\.ya?ml$/;

export function readErrorMessage(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}

function walk(dir: string, out: ManifestSource[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    out.push({ name: dir, path: dir, error: readErrorMessage(err) });
    return;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    // Directory symlinks are not followed, so a link cycle cannot loop.
    if (e.isDirectory()) walk(p, out);
    else if (MANIFEST_FILE.test(e.name) && (e.isFile() || e.isSymbolicLink())) out.push({ name: p, path: p });
  }
}

// Every source once, in command-line order; unreadable ones carry an error instead of failing the whole list.
export function manifestSources(args: readonly string[]): ManifestSource[] {
  const out: ManifestSource[] = [];
  for (const arg of args) {
    if (arg === STDIN) {
      out.push({ name: STDIN_NAME, path: STDIN });
      continue;
    }
    let isDir: boolean;
    try {
      isDir = statSync(arg).isDirectory();
    } catch (err) {
      out.push({ name: arg, path: arg, error: readErrorMessage(err) });
      continue;
    }
    if (isDir) walk(arg, out);
    else out.push({ name: arg, path: arg });
  }
  const seen = new Set<string>();
  return out.filter((s) => {
    const key = s.path === STDIN ? STDIN : resolve(s.path);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// Standard input can be read once; its text is kept for a second pass.
export function manifestTextReader(): (source: ManifestSource) => Promise<string> {
  let stdin: Promise<string> | undefined;
  return async (source) => {
    if (source.path === STDIN) return (stdin ??= readStdin());
    return readFileSync(source.path, 'utf8');
  };
}
