// What must never happen, against a real git server and apiserver: a prune after a failed fetch (the server goes
// down mid-way), a mass prune of a repository emptied by mistake (until confirmed), a file read through a symlink or
// a ".." entry outside `path`, and memory blown by a 50 MB file or a YAML alias bomb.
import t from 'tap';
import { closeSync, openSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { eventually } from '../harness/tap.ts';
import { parseInventory } from '../../api/jobrepository.ts';
import { hermeticGitEnv, type WorkingCopy } from '../../localcluster/git-cli.ts';
import { jobYaml, ready, startGitSyncEnv } from '../fixtures/gitsync-env.ts';
import { CONFIRM_PRUNE_ANNOTATION } from '../../api/annotations.ts';

const env = await startGitSyncEnv(t);
const MiB = 1024 * 1024;
const mb = (n: number) => `${(n / MiB).toFixed(0)} MB`;

// Sum of a counter over the series that carry every one of `labels` (e.g. 'kind="fetch"').
async function metric(name: string, ...labels: string[]): Promise<number> {
  const text = await (await fetch(`${env.controller.metricsUrl}/metrics`)).text();
  const lines = text.split('\n').filter((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)));
  return lines.reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

t.test('the git server down during a sync: no prune, Ready False with the fetch reason, recovery after', async (t) => {
  const ns = 'ml-down';
  await env.namespace(ns);
  const wc = await env.gitRepo('down');
  const first = await wc.commitAndPush({ 'a.yaml': jobYaml('a'), 'b.yaml': jobYaml('b'), 'c.yaml': jobYaml('c') }, 'three');
  await env.createRepository(ns, 'jobs', { url: env.server.url('down'), interval: '2s' });
  await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === first && ready(r)?.status === 'True', 'synced');

  await env.server.down();
  // The push goes straight to the bare repository on disk: the next fetch would see "c" deleted.
  await wc.git('rm', '--quiet', 'c.yaml');
  const second = await wc.commit('drop c');
  await wc.git('push', '--quiet', join(env.server.root, 'down.git'), 'HEAD:refs/heads/main');
  const fetchErrorsBefore = await metric('trainingjob_gitsync_errors_total', 'kind="fetch"', 'namespace="ml-down"');
  const r = await env.repositoryWhen(t, ns, 'jobs', (r) => ready(r)?.status === 'False', 'Ready False while the server is down');
  const cond = ready(r);
  t.equal(cond?.reason, 'FetchFailed', 'reason: the fetch failed');
  t.match(cond?.message, `${env.server.url('down')}: fetch failed`, `the message names the URL: ${cond?.message}`);
  t.equal(r.status?.lastAppliedRevision, first, 'nothing newer applied');
  // Several failed polls, not just one, before looking at the jobs again.
  const failed = await eventually(async () => ((await metric('trainingjob_gitsync_errors_total', 'kind="fetch"', 'namespace="ml-down"')) >= fetchErrorsBefore + 3 ? true : undefined), 30_000);
  t.ok(failed, 'three failed fetches counted in trainingjob_gitsync_errors_total{kind="fetch"}');
  t.same(await env.jobNames(ns), ['a', 'b', 'c'], 'no job pruned while the server is down');
  t.same(parseInventory((await env.getRepository(ns, 'jobs')).status?.inventory).map((e) => e.name), ['a', 'b', 'c'], 'inventory unchanged');
  t.match(await env.describe(ns, 'jobs'), /Warning\s+FetchFailed\s+.*fetch failed/, 'a FetchFailed Warning event in kubectl describe');

  await env.server.up();
  const back = await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === second && ready(r)?.status === 'True', 'recovered: the new revision applied');
  t.match(ready(back), { reason: 'Synced' });
  const names = await eventually(async () => {
    const n = await env.jobNames(ns);
    return n.join(',') === 'a,b' ? n : undefined;
  }, 30_000);
  t.same(names, ['a', 'b'], 'and only now is c pruned');
});

t.test('a repository emptied by mistake: no mass prune until the revision is confirmed', async (t) => {
  const ns = 'ml-empty';
  await env.namespace(ns);
  const wc = await env.gitRepo('empty');
  const first = await wc.commitAndPush({ 'README.md': '# jobs\n', 'a.yaml': jobYaml('a'), 'b.yaml': jobYaml('b'), 'team/c.yaml': jobYaml('c'), 'team/d.yaml': jobYaml('d') }, 'four');
  await env.createRepository(ns, 'jobs', { url: env.server.url('empty'), interval: '2s' });
  await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === first, 'synced');
  t.same(await env.jobNames(ns), ['a', 'b', 'c', 'd']);

  // Only the README survives, and one new job arrives.
  const emptied = await wc.commitAndPush({ 'a.yaml': null, 'b.yaml': null, team: null, 'new.yaml': jobYaml('new') }, 'oops');
  const r = await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastFetchedRevision === emptied && ready(r)?.reason === 'PruneBlocked', 'PruneBlocked');
  const cond = ready(r);
  t.equal(cond?.status, 'False');
  t.equal(cond?.message, `revision ${emptied.slice(0, 12)} would delete 4 of 5 jobs (more than 50%); annotate the JobRepository with ml.example.com/confirm-prune=${emptied} to proceed`);
  t.ok(await env.getJob(ns, 'new'), 'the new job is still applied');
  t.same(await env.jobNames(ns), ['a', 'b', 'c', 'd', 'new'], 'nothing pruned');
  t.same(parseInventory(r.status?.inventory).map((e) => e.name), ['a', 'b', 'c', 'd', 'new'], 'the blocked jobs stay in the inventory');
  t.match(await env.describe(ns, 'jobs'), /Warning\s+PruneBlocked\s+.*would delete 4 of 5 jobs/, 'a PruneBlocked Warning event');
  // Later polls keep it blocked (no forgetting the jobs).
  const polled = await eventually(async () => ((await metric('trainingjob_gitsync_errors_total', 'kind="prune"', 'name="jobs"', 'namespace="ml-empty"')) >= 3 ? true : undefined), 30_000);
  t.ok(polled, 'blocked on three polls');
  t.same(await env.jobNames(ns), ['a', 'b', 'c', 'd', 'new'], 'still nothing pruned');
  t.equal(ready(await env.getRepository(ns, 'jobs'))?.reason, 'PruneBlocked', 'still PruneBlocked');

  // A confirmation for another revision does nothing; the right one lets it proceed.
  await env.annotateRepository(ns, 'jobs', { [CONFIRM_PRUNE_ANNOTATION]: first });
  await env.requestSync(ns, 'jobs');
  const stillBlocked = await env.repositoryWhen(t, ns, 'jobs', (r) => ready(r)?.reason === 'PruneBlocked' && r.metadata?.annotations?.[CONFIRM_PRUNE_ANNOTATION] === first, 'a stale confirmation is not enough');
  t.equal(stillBlocked.status?.inventory?.length, 5);
  await env.annotateRepository(ns, 'jobs', { [CONFIRM_PRUNE_ANNOTATION]: emptied });
  const done = await env.repositoryWhen(t, ns, 'jobs', (r) => ready(r)?.reason === 'Synced' && r.status?.lastAppliedRevision === emptied, 'confirmed: synced');
  t.same(parseInventory(done.status?.inventory).map((e) => e.name), ['new']);
  const names = await eventually(async () => {
    const n = await env.jobNames(ns);
    return n.join(',') === 'new' ? n : undefined;
  }, 30_000);
  t.same(names, ['new'], 'the four jobs pruned after confirmation');

  // The path folder itself gone: never "no files", so nothing is pruned.
  await env.createRepository(ns, 'in-folder', { url: env.server.url('empty'), path: 'team', interval: '2s' });
  const folder = await env.repositoryWhen(t, ns, 'in-folder', (r) => ready(r)?.status === 'False', 'a missing path folder is an error');
  t.match(ready(folder), { reason: 'InvalidPath', message: /path "team" does not exist at/ });
  t.same(await env.jobNames(ns), ['new'], 'nothing touched');
});

function mktree(wc: WorkingCopy, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', ['mktree'], { cwd: wc.dir, env: hermeticGitEnv(), encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout.trim())));
    child.stdin?.end(`${lines.join('\n')}\n`);
  });
}

t.test('symlinks and ".." entries pointing outside path: refused per file, the rest applied', async (t) => {
  const ns = 'ml-escape';
  await env.namespace(ns);
  const wc = await env.gitRepo('escape');
  await wc.commitAndPush({ 'outside.yaml': jobYaml('outside'), 'jobs/good.yaml': jobYaml('good') }, 'initial');
  wc.symlink('../outside.yaml', 'jobs/link.yaml');
  wc.symlink('..', 'jobs/up');
  wc.symlink('/etc/passwd', 'jobs/passwd.yaml');
  await wc.commit('symlinks');
  // Git's porcelain never writes a ".." entry; plumbing does, and receive-pack does not fsck by default.
  const outsideBlob = await wc.git('rev-parse', 'HEAD:outside.yaml');
  const evil = await mktree(wc, [`100644 blob ${outsideBlob}\tevil.yaml`]);
  const jobsEntries = (await wc.git('ls-tree', 'HEAD:jobs')).split('\n');
  const crafted = await mktree(wc, [...jobsEntries, `040000 tree ${evil}\t..`]);
  const rootEntries = (await wc.git('ls-tree', 'HEAD')).split('\n').map((l) => (l.endsWith('\tjobs') ? `040000 tree ${crafted}\tjobs` : l));
  const root = await mktree(wc, rootEntries);
  const commit = await wc.git('commit-tree', root, '-p', 'HEAD', '-m', 'crafted');
  await wc.git('push', '--quiet', 'origin', `${commit}:refs/heads/main`);

  await env.createRepository(ns, 'jobs', { url: env.server.url('escape'), path: 'jobs', interval: '2s' });
  const r = await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === commit, 'applied');
  t.same(r.status?.errors, [
    { file: 'jobs/..', message: 'tree entry ".." would resolve outside path; refused' },
    { file: 'jobs/link.yaml', message: 'symbolic links are not followed: a manifest must be a regular file inside path' },
    { file: 'jobs/passwd.yaml', message: 'symbolic links are not followed: a manifest must be a regular file inside path' },
    { file: 'jobs/up', message: 'symbolic links are not followed: a manifest must be a regular file inside path' },
  ], 'each refused entry is its own error');
  t.same(await env.jobNames(ns), ['good'], 'only the regular file inside path; nothing from outside.yaml');
  t.match(ready(r), { status: 'False', reason: 'ManifestErrors', message: /4 errors in 4 file\(s\)/ });
  t.match(await env.describe(ns, 'jobs'), /Warning\s+ManifestRejected\s+.*jobs\/link.yaml: symbolic links are not followed/);

  // A path that climbs out of the repository, or is itself a symlink.
  await env.createRepository(ns, 'climb', { url: env.server.url('escape'), path: 'jobs/../..', interval: '2s' });
  const climb = await env.repositoryWhen(t, ns, 'climb', (r) => ready(r)?.status === 'False', 'path with ".." refused');
  t.match(ready(climb), { reason: 'InvalidPath', message: 'path "jobs/../.." must stay inside the repository (no "..")' });
  await env.createRepository(ns, 'via-link', { url: env.server.url('escape'), path: 'jobs/up', interval: '2s' });
  const viaLink = await env.repositoryWhen(t, ns, 'via-link', (r) => ready(r)?.status === 'False', 'symlinked path refused');
  t.match(ready(viaLink), { reason: 'InvalidPath', message: /is not a folder at .* \(it is a symbolic link, which is not followed\)/ });
  t.same(await env.jobNames(ns), ['good'], 'still only good');
});

t.test('a 50 MB file and a YAML alias bomb: refused with limits, the test process RSS bounded', async (t) => {
  const ns = 'ml-limits';
  await env.namespace(ns);
  const wc = await env.gitRepo('limits');
  // YAML-ish text that compresses like real YAML does, so the pack stays under the fetch limit.
  const fd = openSync(join(wc.dir, 'big.yaml'), 'w');
  writeSync(fd, 'apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata:\n  name: big\nspec:\n  model: resnet50\n  hyperparameters:\n');
  for (let written = 0, i = 0; written < 50 * MiB; i++) {
    const chunk = Array.from({ length: 4096 }, (_, k) => `    p${i}_${k}: ${(i * 4096 + k) % 9973}\n`).join('');
    writeSync(fd, chunk);
    written += chunk.length;
  }
  closeSync(fd);
  const bomb = [
    'apiVersion: ml.example.com/v1',
    'kind: TrainingJob',
    'metadata:',
    '  name: bomb',
    'x:',
    '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    '  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
    '  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
    '  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    '  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
    '  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
    '  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
    '  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]',
    '  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]',
    'spec:',
    '  model: resnet50',
    '  hyperparameters: {layers: *i}',
    '',
  ].join('\n');
  wc.write({ 'bomb.yaml': bomb, 'good.yaml': jobYaml('good') });
  const rev = await wc.commit('a big file, a bomb and a good job');
  await wc.push();

  global.gc?.();
  const before = process.memoryUsage.rss();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  const started = performance.now();
  await env.createRepository(ns, 'jobs', { url: env.server.url('limits'), interval: '2s' });
  const r = await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === rev, 'applied', 90_000);
  clearInterval(timer);
  t.comment(`sync with a 50 MB file and an alias bomb: ${((performance.now() - started) / 1000).toFixed(1)} s; test process RSS ${mb(before)} → peak ${mb(peak)} (+${mb(peak - before)})`);
  t.same(r.status?.errors?.map((e) => e.file), ['big.yaml', 'bomb.yaml']);
  t.match(r.status?.errors?.find((e) => e.file === 'big.yaml'), { file: 'big.yaml', message: /^file is 50\.\d MiB \(\d+ bytes\); manifest files are limited to 1\.0 MiB$/ }, 'the 50 MB file refused by size', { errors: r.status?.errors });
  const b = r.status?.errors?.find((e) => e.file === 'bomb.yaml');
  t.match(b, { file: 'bomb.yaml', message: 'aliases expand past the limit of 100; refusing what looks like an alias bomb ("billion laughs")' }, 'the bomb refused by alias count');
  t.ok(typeof b?.line === 'number' && b.line > 1, `with a line (${b?.line})`);
  t.same(await env.jobNames(ns), ['good'], 'the good job applied next to them');
  t.ok(peak - before < 400 * MiB, `RSS growth bounded (+${mb(peak - before)} < 400 MB)`);

  // 50 MB that does not compress: the fetch itself is refused (TooLarge), nothing applied or pruned; removing it recovers.
  const fd2 = openSync(join(wc.dir, 'random.yaml'), 'w');
  for (let i = 0; i < 50; i++) writeSync(fd2, randomBytes(MiB));
  closeSync(fd2);
  await wc.commit('50 MB of random bytes');
  await wc.push();
  const before2 = process.memoryUsage.rss();
  let peak2 = before2;
  const timer2 = setInterval(() => {
    peak2 = Math.max(peak2, process.memoryUsage.rss());
  }, 10);
  const tooLarge = await env.repositoryWhen(t, ns, 'jobs', (r) => ready(r)?.reason === 'TooLarge', 'TooLarge', 90_000);
  clearInterval(timer2);
  t.comment(`refused 50 MB random pack: RSS ${mb(before2)} → peak ${mb(peak2)} (+${mb(peak2 - before2)})`);
  t.match(ready(tooLarge), { status: 'False', message: /the server sent more than 33554432 bytes; refusing a repository this large/ });
  t.equal(tooLarge.status?.lastAppliedRevision, rev, 'nothing newer applied');
  t.same(await env.jobNames(ns), ['good'], 'nothing pruned');
  t.ok(peak2 - before2 < 400 * MiB, `RSS growth bounded (+${mb(peak2 - before2)} < 400 MB)`);
  const removed = await wc.commitAndPush({ 'random.yaml': null }, 'remove it');
  const ok = await env.repositoryWhen(t, ns, 'jobs', (r) => r.status?.lastAppliedRevision === removed, 'recovered once the file is gone', 90_000);
  t.same(ok.status?.errors?.map((e) => e.file), ['big.yaml', 'bomb.yaml'], 'back to the per-file errors');
});
