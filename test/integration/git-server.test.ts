// The test git server itself: clone, push, force-push through `git http-backend` with the real git CLI,
// auth refused without credentials, down/up on the same port.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGitServer } from '../../localcluster/git-server.ts';
import { cloneWorkingCopy, runGit } from '../../localcluster/git-cli.ts';

t.test('push and clone through the server', async (t) => {
  const server = await startGitServer();
  t.teardown(() => server.stop());
  server.createRepo('jobs');
  const wc = await cloneWorkingCopy({ url: server.url('jobs') });
  t.teardown(() => wc.remove());
  const first = await wc.commitAndPush({ 'jobs/a.yaml': 'kind: TrainingJob\n' }, 'first');
  const bare = await runGit(['-C', join(server.root, 'jobs.git'), 'rev-parse', 'refs/heads/main']);
  t.equal(bare, first, 'the bare repository has the pushed commit');

  const other = await cloneWorkingCopy({ url: server.url('jobs') });
  t.teardown(() => other.remove());
  t.equal(await other.head(), first);
  t.equal(readFileSync(join(other.dir, 'jobs/a.yaml'), 'utf8'), 'kind: TrainingJob\n');

  // Rewrite history: the new root commit replaces the old one on the server.
  await wc.git('checkout', '--quiet', '--orphan', 'rewrite');
  const rewritten = await wc.commit('rewritten');
  await wc.push({ force: true });
  await other.git('fetch', '--quiet', 'origin');
  t.equal(await other.git('rev-parse', 'origin/main'), rewritten, 'force-push replaced the branch');
  t.not(rewritten, first);
  t.ok(server.requests() > 0);
});

t.test('basic and bearer auth', async (t) => {
  for (const auth of [{ username: 'alice', password: 's3cret' }, { token: 'tok-123' }]) {
    const server = await startGitServer({ auth });
    t.teardown(() => server.stop());
    server.createRepo('private');
    const wc = await cloneWorkingCopy({ url: server.url('private'), authHeader: server.authHeader });
    t.teardown(() => wc.remove());
    const oid = await wc.commitAndPush({ 'a.yaml': 'a: 1\n' }, 'one');
    t.match(await wc.git('ls-remote', 'origin', 'refs/heads/main'), oid, `${'token' in auth ? 'bearer' : 'basic'} auth lets the CLI in`);
    const dir = mkdtempSync(join(tmpdir(), 'git-noauth-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    await t.rejects(runGit(['clone', '--quiet', server.url('private'), dir]), 'no credentials: refused');
  }
});

t.test('down and up on the same port', async (t) => {
  const server = await startGitServer();
  t.teardown(() => server.stop());
  server.createRepo('jobs');
  const wc = await cloneWorkingCopy({ url: server.url('jobs') });
  t.teardown(() => wc.remove());
  const oid = await wc.commitAndPush({ 'a.yaml': 'a: 1\n' }, 'one');
  await server.down();
  await t.rejects(wc.git('ls-remote', 'origin'), 'server down: the CLI cannot reach it');
  await server.up();
  t.match(await wc.git('ls-remote', 'origin', 'refs/heads/main'), oid, 'back on the same port');
});
