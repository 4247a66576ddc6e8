// The real node's image cache keys: the app image rebuilds when anything its build context ships changes (as on
// disk, committed or not), and only then; .dockerignore is read with Docker's own matching rules.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '../../localcluster/binaries.ts';
import { dependentKeys } from '../../localcluster/realnode/images.ts';
import { contextDigest, contextFiles, dockerIgnored, hashParts, parseDockerignore } from '../../localcluster/realnode/images/context.ts';

const ignored = (file: string, dockerignore: string): boolean => dockerIgnored(file, parseDockerignore(dockerignore));

t.test('.dockerignore: a folder covers what is below it; * stays in one segment, ** crosses them; the last match wins', async (t) => {
  t.ok(ignored('node_modules/a/b.js', 'node_modules'));
  t.ok(ignored('.git/HEAD', '.git'), '.git is excluded');
  t.notOk(ignored('.github/workflows/ci.yml', '.git'), 'but not .github');
  t.ok(ignored('build.log', '*.log'));
  t.notOk(ignored('test/fixtures/build.log', '*.log'), 'as in Docker, *.log is the context root only');
  t.ok(ignored('test/fixtures/build.log', '**/*.log'));
  t.ok(ignored('docs/a/b/c.md', 'docs/**/*.md'));
  t.ok(ignored('docs/c.md', 'docs/**/*.md'), '** matches no folder too');
  t.ok(ignored('coverage/index.html', '/coverage/'), 'leading and trailing slashes are dropped');
  t.notOk(ignored('keep.log', '*.log\n!keep.log'), 'an exception re-includes');
  t.ok(ignored('keep.log', '!keep.log\n*.log'), 'a later line overrides an earlier exception');
  t.ok(ignored('a1.txt', 'a?.txt'));
  t.ok(ignored('ab.txt', 'a[a-c].txt'));
  t.notOk(ignored('ab.txt', 'a[!a-c].txt'));
  t.notOk(ignored('src/x.ts', '# node_modules\n\n'), 'comments and blank lines match nothing');
});

t.test("the repository's build context ships the sources and the build inputs, never node_modules or .git", async (t) => {
  const files = contextFiles(repoRoot);
  for (const f of ['Dockerfile', 'package.json', 'package-lock.json', 'localcluster/realnode/images.ts']) t.ok(files.includes(f), f);
  t.notOk(files.some((f) => f.startsWith('node_modules/') || f.startsWith('.git/')), 'nothing under node_modules/ or .git/');
});

t.test('the context digest follows file content on disk, committed or not, and ignores what the build never sees', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tj-images-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const write = (f: string, text: string): void => {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text);
  };
  write('Dockerfile', 'FROM node:24-bookworm-slim\nCOPY . .\n');
  write('.dockerignore', 'node_modules\n*.log\n');
  write('.gitignore', 'scratch/\n');
  write('package.json', '{"version":"0.1.0"}\n');
  write('src/a.ts', 'export const a = 1;\n');
  t.equal(spawnSync('git', ['init', '-q'], { cwd: dir }).status, 0);
  t.equal(spawnSync('git', ['add', '-A'], { cwd: dir }).status, 0);
  const before = contextDigest(dir);
  t.equal(contextDigest(dir), before, 'stable');

  write('src/a.ts', 'export const a = 2;\n');
  t.not(contextDigest(dir), before, 'an uncommitted edit to a tracked file counts');
  write('src/a.ts', 'export const a = 1;\n');
  t.equal(contextDigest(dir), before, 'and undoing it restores the key');

  write('node_modules/x/index.js', 'x');
  write('debug.log', 'x');
  write('scratch/notes.txt', 'x');
  t.equal(contextDigest(dir), before, 'dockerignored and gitignored files do not count');

  write('src/b.ts', 'export const b = 1;\n');
  t.not(contextDigest(dir), before, 'a new, untracked source is shipped, so it counts');
  rmSync(join(dir, 'src/b.ts'));
  t.equal(contextDigest(dir), before);

  chmodSync(join(dir, 'src/a.ts'), 0o755);
  t.not(contextDigest(dir), before, 'COPY keeps modes, so they count');
  chmodSync(join(dir, 'src/a.ts'), 0o644);

  write('.dockerignore', 'node_modules\n');
  t.not(contextDigest(dir), before, '.dockerignore itself is an input');
});

t.test('the app and worker keys change with the base image they are built FROM', async (t) => {
  const keys = { worker: 'w', context: 'c' };
  const a = dependentKeys(keys, 'a'.repeat(64));
  const b = dependentKeys(keys, 'b'.repeat(64));
  t.not(a.app, b.app);
  t.not(a.worker, b.worker);
  t.not(a.app, a.worker, 'the two never share a key');
  t.not(hashParts(['ab', 'c']), hashParts(['a', 'bc']), 'parts are delimited');
});
