// What the app image's cache key covers: every file `COPY . .` ships from the build context (tracked or new,
// as they are on disk, minus .dockerignore's matches), so an edit anywhere the image sees rebuilds it.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LocalClusterError } from '../../errors.ts';

// Always in the key, whatever .dockerignore says: they define the build itself.
const BUILD_INPUTS = ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json'];

export interface IgnoreRule {
  exclude: boolean;
  pattern: RegExp;
}

/** .dockerignore's lines as Docker reads them: `#` comments, `!` exceptions, paths relative to the context root. */
export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const exclude = !line.startsWith('!');
    if (!exclude) line = line.slice(1).trim();
    line = line.replace(/^\/+/, '').replace(/\/+$/, '').replace(/\/{2,}/g, '/');
    if (line && line !== '.') rules.push({ exclude, pattern: globPattern(line) });
  }
  return rules;
}

/** Docker's rule: the last matching line wins, and a line matching a parent folder matches all below it. */
export function dockerIgnored(file: string, rules: readonly IgnoreRule[]): boolean {
  const parts = file.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) if (prefixes.some((p) => rule.pattern.test(p))) ignored = rule.exclude;
  return ignored;
}

// Go's filepath.Match plus `**`, as Docker's patternmatcher: `*` and `?` stay within one path segment.
function globPattern(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/^[!^]/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < glob.length) re += escapeRegExp(glob[++i]!);
    else re += escapeRegExp(c);
  }
  return new RegExp(`^${re}$`);
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Files `COPY . .` ships, sorted: tracked and untracked-but-not-gitignored files that exist, minus .dockerignore's. */
export function contextFiles(root: string): string[] {
  const listed = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (listed.error || listed.status !== 0) {
    throw new LocalClusterError('ImageBuildFailed', `listing the app image's build context with git ls-files failed in ${root}: ${listed.error?.message ?? listed.stderr.trim()}`, { root });
  }
  const ignorePath = join(root, '.dockerignore');
  const rules = existsSync(ignorePath) ? parseDockerignore(readFileSync(ignorePath, 'utf8')) : [];
  const files = new Set(listed.stdout.split('\0').filter((f) => f && !dockerIgnored(f, rules) && isFile(join(root, f))));
  return [...files].sort();
}

/** sha256 over the build inputs and every shipped file's path, mode and current content (not its commit). */
export function contextDigest(root: string): string {
  const h = createHash('sha256');
  const files = [...new Set([...BUILD_INPUTS.filter((f) => isFile(join(root, f))), ...contextFiles(root)])];
  for (const f of files) {
    const path = join(root, f);
    h.update(`${f}\0${statSync(path).mode & 0o777}\0`).update(readFileSync(path)).update('\0');
  }
  return h.digest('hex');
}

/** sha256 of the parts in order, each delimited, so ['ab','c'] and ['a','bc'] differ. */
export function hashParts(parts: readonly (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(String(p.length)).update(':').update(p).update('\0');
  return h.digest('hex');
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
