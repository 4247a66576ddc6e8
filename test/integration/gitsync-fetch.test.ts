// fetchRevision against a real `git http-backend` with pushes from the real git CLI: branch, tag, pinned commit,
// credentials, server down, force-push, size limit and timeout.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'isomorphic-git/http/node';
import { fetchRevision, type FetchRevisionOptions } from '../../controller/gitsource/fetch.ts';
import { GitSyncError } from '../../controller/gitsource/errors.ts';
import { listManifestFiles } from '../../controller/gitsource/tree.ts';
import { startGitServer } from '../../localcluster/git-server.ts';
import { cloneWorkingCopy } from '../../localcluster/git-cli.ts';

const job = (name: string) => `apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata:\n  name: ${name}\nspec:\n  model: resnet50\n`;

function cacheRootFor(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'gitsync-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function rejectsWith(t: Test, p: Promise<unknown>, code: string, what: string): Promise<GitSyncError | undefined> {
  try {
    await p;
    t.fail(`${what}: expected ${code}`);
    return undefined;
  } catch (err) {
    t.ok(err instanceof GitSyncError, `${what}: a GitSyncError`);
    t.equal((err as GitSyncError).code, code, what);
    return err as GitSyncError;
  }
}

t.test('branch, tag and pinned commit; new pushes and force-pushes are picked up', async (t) => {
  const server = await startGitServer();
  t.teardown(() => server.stop());
  server.createRepo('jobs');
  const wc = await cloneWorkingCopy({ url: server.url('jobs') });
  t.teardown(() => wc.remove());
  const first = await wc.commitAndPush({ 'jobs/a.yaml': job('a') }, 'first');
  await wc.git('tag', '-a', 'v1', '-m', 'release v1');
  await wc.git('tag', 'light');
  await wc.git('push', '--quiet', 'origin', 'v1', 'light');
  const second = await wc.commitAndPush({ 'jobs/b.yaml': job('b') }, 'second');
  const base: FetchRevisionOptions = { fs, http, cacheRoot: cacheRootFor(t), namespace: 'team-a', name: 'jobs', url: server.url('jobs') };

  const started = performance.now();
  const tip = await fetchRevision({ ...base, ref: { branch: 'main' } });
  t.comment(`fetch of a 2-commit repo: ${(performance.now() - started).toFixed(0)} ms`);
  t.equal(tip.commit, second);
  t.equal(tip.gitdir, join(base.cacheRoot, 'team-a', 'jobs'));
  t.equal(tip.remoteRef, 'refs/heads/main');
  t.equal((await fetchRevision(base)).commit, second, 'no ref: the default branch');
  t.equal((await fetchRevision({ ...base, ref: { tag: 'v1' } })).commit, first, 'annotated tag, peeled to its commit');
  t.equal((await fetchRevision({ ...base, name: 'other', ref: { tag: 'light' } })).commit, first, 'lightweight tag');
  const pinned = await fetchRevision({ ...base, name: 'pinned', ref: { commit: first } });
  t.equal(pinned.commit, first, 'a pinned commit behind the tip');
  t.same((await listManifestFiles({ fs, gitdir: pinned.gitdir, commit: first, path: 'jobs' })).files.map((f) => f.file), ['jobs/a.yaml'], 'its tree is there');

  const third = await wc.commitAndPush({ 'jobs/a.yaml': job('a2') }, 'third');
  t.equal((await fetchRevision({ ...base, ref: { branch: 'main' } })).commit, third, 'a later push');

  await wc.git('reset', '--quiet', '--hard', first);
  wc.write({ 'jobs/c.yaml': job('c') });
  const rewritten = await wc.commit('rewritten');
  await wc.push({ force: true });
  t.equal((await fetchRevision({ ...base, ref: { branch: 'main' } })).commit, rewritten, 'force-push: the new history');

  await rejectsWith(t, fetchRevision({ ...base, ref: { branch: 'nope' } }), 'RefNotFound', 'missing branch');
  await rejectsWith(t, fetchRevision({ ...base, ref: { tag: 'v9' } }), 'RefNotFound', 'missing tag');
  await rejectsWith(t, fetchRevision({ ...base, name: 'ghost', ref: { commit: 'f'.repeat(40) } }), 'RefNotFound', 'unknown commit');
  await rejectsWith(t, fetchRevision({ ...base, ref: { commit: first.slice(0, 12) } }), 'RefNotFound', 'short commit id');
  await rejectsWith(t, fetchRevision({ ...base, name: '../escape' }), 'InvalidPath', 'a name that is not a Kubernetes name');
});

t.test('credentials: basic and token; wrong ones are AuthFailed without the secret in the message', async (t) => {
  const basic = await startGitServer({ auth: { username: 'alice', password: 'pa55-word' } });
  t.teardown(() => basic.stop());
  basic.createRepo('private');
  const wc = await cloneWorkingCopy({ url: basic.url('private'), authHeader: basic.authHeader });
  t.teardown(() => wc.remove());
  const oid = await wc.commitAndPush({ 'a.yaml': job('a') }, 'one');
  const base: FetchRevisionOptions = { fs, http, cacheRoot: cacheRootFor(t), namespace: 'team-a', name: 'private', url: basic.url('private') };
  t.equal((await fetchRevision({ ...base, auth: { username: 'alice', password: 'pa55-word' } })).commit, oid);
  const wrong = await rejectsWith(t, fetchRevision({ ...base, auth: { username: 'alice', password: 'wrong-pa55' } }), 'AuthFailed', 'wrong password');
  t.notMatch(`${wrong?.message} ${JSON.stringify(wrong?.data)}`, /wrong-pa55|pa55-word/);
  await rejectsWith(t, fetchRevision({ ...base, name: 'anon' }), 'AuthFailed', 'no credentials');
  const inUrl = await rejectsWith(t, fetchRevision({ ...base, name: 'inurl', url: basic.url('private').replace('http://', 'http://alice:leaked-pw@') }), 'AuthFailed', 'wrong credentials in the URL');
  t.notMatch(`${inUrl?.message} ${JSON.stringify(inUrl?.data)}`, /leaked-pw/, 'URL credentials are redacted');

  const bearer = await startGitServer({ auth: { token: 'tok-42' } });
  t.teardown(() => bearer.stop());
  bearer.createRepo('private');
  const wc2 = await cloneWorkingCopy({ url: bearer.url('private'), authHeader: bearer.authHeader });
  t.teardown(() => wc2.remove());
  const oid2 = await wc2.commitAndPush({ 'a.yaml': job('a') }, 'one');
  const b2 = { ...base, url: bearer.url('private'), name: 'bearer' };
  t.equal((await fetchRevision({ ...b2, auth: { token: 'tok-42' } })).commit, oid2, 'bearer token');
  await rejectsWith(t, fetchRevision({ ...b2, auth: { token: 'tok-43' } }), 'AuthFailed', 'wrong token');
});

t.test('server down: FetchFailed, and the last fetched commit stays readable', async (t) => {
  const server = await startGitServer();
  t.teardown(() => server.stop());
  server.createRepo('jobs');
  const wc = await cloneWorkingCopy({ url: server.url('jobs') });
  t.teardown(() => wc.remove());
  const oid = await wc.commitAndPush({ 'jobs/a.yaml': job('a') }, 'one');
  const base: FetchRevisionOptions = { fs, http, cacheRoot: cacheRootFor(t), namespace: 'team-a', name: 'jobs', url: server.url('jobs'), ref: { branch: 'main' } };
  const fetched = await fetchRevision(base);
  await server.down();
  const err = await rejectsWith(t, fetchRevision(base), 'FetchFailed', 'server down');
  t.match(err?.message, /ECONNREFUSED|fetch failed/);
  t.same((await listManifestFiles({ fs, gitdir: fetched.gitdir, commit: oid, path: 'jobs' })).files.map((f) => f.file), ['jobs/a.yaml'], 'cache intact');
  await server.up();
  const next = await wc.commitAndPush({ 'jobs/b.yaml': job('b') }, 'two');
  t.equal((await fetchRevision(base)).commit, next, 'recovers once the server is back');
});

t.test('a pack over the byte limit is TooLarge; a server that hangs is Timeout', async (t) => {
  const server = await startGitServer();
  t.teardown(() => server.stop());
  server.createRepo('jobs');
  const wc = await cloneWorkingCopy({ url: server.url('jobs') });
  t.teardown(() => wc.remove());
  // Random bytes do not compress: the pack is about as large as the file.
  await wc.commitAndPush({ 'blob.bin': Buffer.from(Array.from({ length: 256 * 1024 }, () => Math.floor(Math.random() * 256))) }, 'big');
  const base: FetchRevisionOptions = { fs, http, cacheRoot: cacheRootFor(t), namespace: 'team-a', name: 'jobs', url: server.url('jobs') };
  const err = await rejectsWith(t, fetchRevision({ ...base, maxBytes: 64 * 1024 }), 'TooLarge', 'pack over the limit');
  t.equal(err?.data.maxBytes, 65536);
  t.ok((await fetchRevision({ ...base, maxBytes: 1024 * 1024 })).commit, 'under the limit it is fetched');

  const sockets = new Set<import('node:net').Socket>();
  const hang = createServer(() => undefined);
  hang.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    hang.close();
  });
  const port = (hang.address() as { port: number }).port;
  const started = Date.now();
  const timedOut = await rejectsWith(t, fetchRevision({ ...base, name: 'hang', url: `http://127.0.0.1:${port}/x.git`, timeoutMs: 300 }), 'Timeout', 'no answer');
  t.equal(timedOut?.data.timeoutMs, 300, "the fetch's own 300 ms timeout ended it, not a default");
  t.comment(`gave up after ${Date.now() - started} ms (timeout 300 ms)`);
});

t.test('a one-file change brings only what changed; a reset to an older, never-fetched commit still arrives', async (t) => {
  const server = await startGitServer();
  t.teardown(() => server.stop());
  server.createRepo('jobs');
  const wc = await cloneWorkingCopy({ url: server.url('jobs') });
  t.teardown(() => wc.remove());
  const files: Record<string, string> = {};
  for (let i = 0; i < 2000; i++) files[`jobs/job-${String(i).padStart(4, '0')}.yaml`] = job(`job-${i}`);
  const initial = await wc.commitAndPush(files, '2000 jobs');
  let bytes = 0;
  const counting: FetchRevisionOptions['http'] = {
    async request(req) {
      const res = await http.request(req);
      const body = res.body;
      return body ? { ...res, body: (async function* () { for await (const c of body) { bytes += c.length; yield c; } })() } : res;
    },
  };
  const base: FetchRevisionOptions = { fs, http: counting, cacheRoot: cacheRootFor(t), namespace: 'team-a', name: 'jobs', url: server.url('jobs'), ref: { branch: 'main' } };
  await fetchRevision(base);
  const full = bytes;
  const changed = await wc.commitAndPush({ 'jobs/job-0042.yaml': job('changed') }, 'one file');
  bytes = 0;
  t.equal((await fetchRevision(base)).commit, changed);
  t.comment(`2,000 files: first fetch ${full} bytes, one-file change ${bytes} bytes`);
  // The changed directory's tree object (2,000 entries) is most of what is left: no thin packs in isomorphic-git.
  t.ok(bytes < full * 0.6, `the one-file fetch is not a whole new snapshot (${bytes} of ${full} bytes)`);

  await wc.git('reset', '--quiet', '--hard', initial);
  await wc.push({ force: true });
  const fresh: FetchRevisionOptions = { ...base, name: 'fresh' };
  await wc.commitAndPush({ 'jobs/job-0001.yaml': job('newer') }, 'newer');
  t.equal((await fetchRevision(fresh)).commit, await wc.head(), 'a new cache starts at the tip');
  await wc.git('reset', '--quiet', '--hard', initial);
  await wc.push({ force: true });
  const back = await fetchRevision(fresh);
  t.equal(back.commit, initial, 'reset + force-push to a commit older than any we fetched');
  t.same((await listManifestFiles({ fs, gitdir: back.gitdir, commit: initial, path: 'jobs' })).files.length, 2000, 'its whole tree is there');
});
