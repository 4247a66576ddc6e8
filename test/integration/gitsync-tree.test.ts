// Reading manifests from the fetched object store: the files under `path`, changedFiles for add/change/delete/rename,
// symlinks and crafted ".." entries refused per file, a `path` that climbs out refused outright.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'isomorphic-git/http/node';
import { fetchRevision, type FetchRevisionOptions } from '../../controller/gitsource/fetch.ts';
import { changedFiles } from '../../controller/gitsource/changed-files.ts';
import { listManifestFiles } from '../../controller/gitsource/tree.ts';
import { readManifestBlob } from '../../controller/gitsource/manifest-blob.ts';
import { GitSyncError } from '../../controller/gitsource/errors.ts';
import { startGitServer } from '../../localcluster/git-server.ts';
import { cloneWorkingCopy, type WorkingCopy } from '../../localcluster/git-cli.ts';

const job = (name: string) => `apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata:\n  name: ${name}\nspec:\n  model: resnet50\n`;

async function setup(t: Test): Promise<{ wc: WorkingCopy; fetch: () => Promise<{ commit: string; gitdir: string }> }> {
  const server = await startGitServer();
  t.teardown(() => server.stop());
  server.createRepo('jobs');
  const wc = await cloneWorkingCopy({ url: server.url('jobs') });
  t.teardown(() => wc.remove());
  const cacheRoot = mkdtempSync(join(tmpdir(), 'gitsync-cache-'));
  t.teardown(() => rmSync(cacheRoot, { recursive: true, force: true }));
  const opts: FetchRevisionOptions = { fs, http, cacheRoot, namespace: 'team-a', name: 'jobs', url: server.url('jobs'), ref: { branch: 'main' } };
  return { wc, fetch: () => fetchRevision(opts) };
}

t.test('files under path, and what changed between two commits', async (t) => {
  const { wc, fetch } = await setup(t);
  await wc.commitAndPush({ 'jobs/a.yaml': job('a'), 'jobs/b.yml': job('b'), 'jobs/team/c.yaml': job('c'), 'jobs/README.md': '# jobs', 'other/d.yaml': job('d') }, 'initial');
  const one = await fetch();
  const gitdir = one.gitdir;
  const listing = await listManifestFiles({ fs, gitdir, commit: one.commit, path: './jobs/' });
  t.same(listing.files.map((f) => f.file), ['jobs/a.yaml', 'jobs/b.yml', 'jobs/team/c.yaml'], 'yaml files under path only');
  t.same(listing.problems, []);
  t.same((await listManifestFiles({ fs, gitdir, commit: one.commit, path: './' })).files.length, 4, 'the whole repository');
  const a = listing.files[0]!;
  t.same(await readManifestBlob({ fs, gitdir, file: a.file, oid: a.oid }), { file: 'jobs/a.yaml', text: job('a') });

  await wc.commitAndPush({ 'jobs/a.yaml': job('a2'), 'jobs/b.yml': null, 'jobs/new.yaml': job('n'), 'other/d.yaml': job('d2'), 'jobs/README.md': '# changed' }, 'add change delete');
  const two = await fetch();
  const diff = await changedFiles({ fs, gitdir, oldCommit: one.commit, newCommit: two.commit, path: 'jobs' });
  t.same(diff.changes.map(({ file, change }) => ({ file, change })), [
    { file: 'jobs/a.yaml', change: 'modified' },
    { file: 'jobs/b.yml', change: 'deleted' },
    { file: 'jobs/new.yaml', change: 'added' },
  ], 'changes outside path and to non-yaml files are ignored');
  t.ok(diff.changes.filter((c) => c.change !== 'deleted').every((c) => typeof c.oid === 'string'), 'new blobs named for reading');

  wc.rename('jobs/team/c.yaml', 'jobs/team2/c.yaml');
  await wc.git('mv', 'jobs/new.yaml', 'jobs/renamed.yaml');
  await wc.commit('renames');
  await wc.git('update-index', '--chmod=+x', 'jobs/a.yaml');
  await wc.commit('mode only');
  await wc.push();
  const three = await fetch();
  t.same((await changedFiles({ fs, gitdir, oldCommit: two.commit, newCommit: three.commit, path: 'jobs' })).changes.map(({ file, change }) => ({ file, change })), [
    { file: 'jobs/new.yaml', change: 'deleted' },
    { file: 'jobs/renamed.yaml', change: 'added' },
    { file: 'jobs/team/c.yaml', change: 'deleted' },
    { file: 'jobs/team2/c.yaml', change: 'added' },
  ], 'renames are a delete and an add; a mode change alone is no change');
  t.same((await changedFiles({ fs, gitdir, oldCommit: three.commit, newCommit: three.commit, path: 'jobs' })).changes, [], 'same commit: nothing');

  // A folder replaced by a file of the same name, and back.
  wc.write({ 'jobs/team2': null });
  await wc.commitAndPush({ 'jobs/team2': 'not a folder any more' }, 'dir to file');
  const four = await fetch();
  t.same((await changedFiles({ fs, gitdir, oldCommit: three.commit, newCommit: four.commit, path: 'jobs' })).changes.map((c) => `${c.change} ${c.file}`), ['deleted jobs/team2/c.yaml']);
});

t.test('symlinks and entries that climb out of path are refused per file; the rest is read', async (t) => {
  const { wc, fetch } = await setup(t);
  await wc.commitAndPush({ 'secret.yaml': 'apiVersion: v1\nkind: Secret\n', 'jobs/good.yaml': job('good') }, 'initial');
  const before = await fetch();
  wc.symlink('../secret.yaml', 'jobs/link.yaml');
  wc.symlink('..', 'jobs/up');
  await wc.commit('symlinks');
  // Git's porcelain never makes a ".." entry; plumbing does, and receive-pack does not fsck by default.
  const blob = await wc.git('rev-parse', 'HEAD:jobs/good.yaml');
  const evil = await runMktree(wc, [`100644 blob ${blob}\tevil.yaml`]);
  const jobsTree = await wc.git('rev-parse', 'HEAD:jobs');
  const jobsEntries = (await wc.git('ls-tree', jobsTree)).split('\n');
  const crafted = await runMktree(wc, [...jobsEntries, `040000 tree ${evil}\t..`]);
  const rootEntries = (await wc.git('ls-tree', 'HEAD')).split('\n').map((l) => (l.endsWith('\tjobs') ? `040000 tree ${crafted}\tjobs` : l));
  const root = await runMktree(wc, rootEntries);
  const commit = await wc.git('commit-tree', root, '-p', 'HEAD', '-m', 'crafted');
  await wc.git('push', '--quiet', 'origin', `${commit}:refs/heads/main`);
  const after = await fetch();
  t.equal(after.commit, commit);

  const listing = await listManifestFiles({ fs, gitdir: after.gitdir, commit, path: 'jobs' });
  t.same(listing.files.map((f) => f.file), ['jobs/good.yaml'], 'only the regular file');
  t.same(listing.problems, [
    { file: 'jobs/..', message: 'tree entry ".." would resolve outside path; refused' },
    { file: 'jobs/link.yaml', message: 'symbolic links are not followed: a manifest must be a regular file inside path' },
    { file: 'jobs/up', message: 'symbolic links are not followed: a manifest must be a regular file inside path' },
  ]);
  const diff = await changedFiles({ fs, gitdir: after.gitdir, oldCommit: before.commit, newCommit: commit, path: 'jobs' });
  t.same(diff.changes, [], 'nothing new to apply');
  t.same(diff.problems.map((p) => p.file), ['jobs/..', 'jobs/link.yaml', 'jobs/up'], 'the refused entries are reported by the diff too');

  for (const path of ['../', 'jobs/../..', '..\\x']) {
    await t.rejects(listManifestFiles({ fs, gitdir: after.gitdir, commit, path }), { code: 'InvalidPath' }, `path ${path}`);
  }
  await t.rejects(listManifestFiles({ fs, gitdir: after.gitdir, commit, path: 'jobs/up' }), { code: 'InvalidPath', message: /symbolic link/ }, 'a symlinked path');
  await t.rejects(listManifestFiles({ fs, gitdir: after.gitdir, commit, path: 'missing' }), { code: 'InvalidPath', message: /does not exist/ }, 'a path the commit lacks is not "no files"');
  await t.rejects(changedFiles({ fs, gitdir: after.gitdir, oldCommit: before.commit, newCommit: commit, path: 'missing' }), GitSyncError);
});

function runMktree(wc: WorkingCopy, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    import('node:child_process').then(({ execFile }) => {
      const child = execFile('git', ['mktree'], { cwd: wc.dir, encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout.trim())));
      child.stdin?.end(`${lines.join('\n')}\n`);
    }, reject);
  });
}
