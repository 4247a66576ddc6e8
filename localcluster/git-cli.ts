// The real `git` CLI for tests: a working clone of a served repository, and commits/pushes of files in it.
// Asynchronous on purpose: the git server usually runs in the same process and must keep answering.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// No user or system config, no prompts: tests behave the same on every machine.
export function hermeticGitEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: tmpdir(),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'Test Author',
    GIT_AUTHOR_EMAIL: 'author@example.com',
    GIT_COMMITTER_NAME: 'Test Author',
    GIT_COMMITTER_EMAIL: 'author@example.com',
  };
}

export interface WorkingCopy {
  dir: string;
  /** Runs git in the clone; returns trimmed stdout. */
  git(...args: string[]): Promise<string>;
  /** Writes (string/Buffer) or deletes (null) files, relative to the clone. */
  write(files: Record<string, string | Buffer | null>): void;
  symlink(target: string, file: string): void;
  rename(from: string, to: string): void;
  /** `git add -A` + commit; returns the new commit oid. */
  commit(message: string): Promise<string>;
  push(opts?: { force?: boolean; ref?: string }): Promise<void>;
  /** write + commit + push in one go; returns the commit oid. */
  commitAndPush(files: Record<string, string | Buffer | null>, message: string): Promise<string>;
  head(): Promise<string>;
  remove(): void;
}

export interface CloneOptions {
  url: string;
  /** Authorization header value the server expects, passed as http.extraHeader. */
  authHeader?: string;
  branch?: string;
}

/** Runs the git CLI hermetically; rejects with git's stderr on a non-zero exit. */
export function runGit(args: string[], opts: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd: opts.cwd, env: hermeticGitEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`git ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout.trim());
    });
  });
}

export async function cloneWorkingCopy(opts: CloneOptions): Promise<WorkingCopy> {
  const dir = mkdtempSync(join(tmpdir(), 'git-wc-'));
  const auth = opts.authHeader ? ['-c', `http.extraHeader=Authorization: ${opts.authHeader}`] : [];
  const run = (args: string[], cwd?: string): Promise<string> => runGit([...auth, ...args], { cwd });
  // Cloning an empty repository only warns; the first push creates the branch.
  await run(['clone', '--quiet', opts.url, dir]);
  const branch = opts.branch ?? 'main';
  await run(['checkout', '--quiet', '-B', branch], dir);
  const wc: WorkingCopy = {
    dir,
    git: (...args) => run(args, dir),
    write(files) {
      for (const [file, content] of Object.entries(files)) {
        const full = join(dir, file);
        if (content === null) rmSync(full, { recursive: true, force: true });
        else {
          mkdirSync(dirname(full), { recursive: true });
          writeFileSync(full, content);
        }
      }
    },
    symlink(target, file) {
      const full = join(dir, file);
      mkdirSync(dirname(full), { recursive: true });
      symlinkSync(target, full);
    },
    rename(from, to) {
      mkdirSync(dirname(join(dir, to)), { recursive: true });
      renameSync(join(dir, from), join(dir, to));
    },
    async commit(message) {
      await run(['add', '-A'], dir);
      await run(['-c', 'user.name=Test Author', '-c', 'user.email=author@example.com', 'commit', '--quiet', '--allow-empty', '-m', message], dir);
      return wc.head();
    },
    async push(pushOpts = {}) {
      await run(['push', '--quiet', ...(pushOpts.force ? ['--force'] : []), 'origin', `HEAD:${pushOpts.ref ?? `refs/heads/${branch}`}`], dir);
    },
    async commitAndPush(files, message) {
      wc.write(files);
      const oid = await wc.commit(message);
      await wc.push();
      return oid;
    },
    head: () => run(['rev-parse', 'HEAD'], dir),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  return wc;
}

/** A bare repository `<name>.git` in `root`, pushable over smart HTTP, whose one commit on main holds what `fill` writes. */
export async function seedBareRepo(root: string, name: string, message: string, fill: (dir: string) => void): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'git-seed-'));
  try {
    fill(work);
    const bare = join(root, `${name}.git`);
    await runGit(['init', '--quiet', '--initial-branch=main', work]);
    await runGit(['-C', work, 'add', '-A']);
    await runGit(['-C', work, '-c', 'user.name=Platform Team', '-c', 'user.email=platform@example.com', 'commit', '--quiet', '--allow-empty', '-m', message]);
    await runGit(['clone', '--quiet', '--bare', work, bare]);
    await runGit(['-C', bare, 'config', 'http.receivepack', 'true']);
    return bare;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
