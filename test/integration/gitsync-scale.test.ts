// Limits and cost at size: a 50 MB file is refused by its header without being inflated (bytes read from the
// pack counted; RSS reported), and on a repository of 1,000 job files a one-file change is one diff entry and
// one blob read. Speed and memory figures are comments here; the gitsync bench measures them.
// GITSYNC_SCALE_FILES=5000 runs the second test at another size.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'isomorphic-git/http/node';
import { fetchRevision, type FetchRevisionOptions } from '../../controller/gitsource/fetch.ts';
import { changedFiles } from '../../controller/gitsource/changed-files.ts';
import { listManifestFiles } from '../../controller/gitsource/tree.ts';
import { readManifestBlob } from '../../controller/gitsource/manifest-blob.ts';
import { startGitServer } from '../../localcluster/git-server.ts';
import { cloneWorkingCopy, type WorkingCopy } from '../../localcluster/git-cli.ts';

const MiB = 1024 * 1024;
const job = (name: string) => `apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata:\n  name: ${name}\nspec:\n  model: resnet50\n  numWorkers: 2\n`;

async function setup(t: Test): Promise<{ wc: WorkingCopy; opts: FetchRevisionOptions }> {
  const server = await startGitServer();
  t.teardown(() => server.stop());
  server.createRepo('jobs');
  const wc = await cloneWorkingCopy({ url: server.url('jobs') });
  t.teardown(() => wc.remove());
  const cacheRoot = mkdtempSync(join(tmpdir(), 'gitsync-cache-'));
  t.teardown(() => rmSync(cacheRoot, { recursive: true, force: true }));
  return { wc, opts: { fs, http, cacheRoot, namespace: 'team-a', name: 'jobs', url: server.url('jobs'), ref: { branch: 'main' } } };
}

// Peak RSS while `fn` runs, sampled every 10 ms.
async function peakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peak: number; before: number }> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, peak, before };
  } finally {
    clearInterval(timer);
  }
}

const mb = (n: number) => `${(n / MiB).toFixed(0)} MB`;

/** Node's fs, counting the bytes read out of pack files through any of the calls the git code makes. */
function countingFs(): { fs: typeof fs; packBytes: () => number } {
  let bytes = 0;
  const isPack = (p: unknown): boolean => String(p).endsWith('.pack');
  const promises = new Proxy(fs.promises, {
    get(target, prop, receiver) {
      if (prop === 'open') {
        return async (...args: Parameters<typeof fs.promises.open>) => {
          const handle = await target.open(...args);
          if (!isPack(args[0])) return handle;
          const read = handle.read.bind(handle) as (...a: unknown[]) => Promise<{ bytesRead: number }>;
          (handle as unknown as { read: typeof read }).read = async (...a) => {
            const r = await read(...a);
            bytes += r.bytesRead;
            return r;
          };
          return handle;
        };
      }
      if (prop === 'readFile') {
        return async (...args: Parameters<typeof fs.promises.readFile>) => {
          const data = await target.readFile(...args);
          if (isPack(args[0])) bytes += data.length;
          return data;
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  const counted = new Proxy(fs, {
    get(target, prop, receiver) {
      if (prop === 'promises') return promises;
      if (prop === 'readFile') {
        return (path: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
          const cb = rest.pop() as (err: unknown, data?: Buffer | string) => void;
          (target.readFile as (...a: unknown[]) => void)(path, ...rest, (err: unknown, data?: Buffer | string) => {
            if (!err && data && isPack(path)) bytes += data.length;
            cb(err, data);
          });
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return { fs: counted, packBytes: () => bytes };
}

t.test('a 50 MB file is refused per file, without reading it into memory', async (t) => {
  const { wc, opts } = await setup(t);
  mkdirSync(join(wc.dir, 'jobs'), { recursive: true });
  // YAML-like text in 1 MiB pieces (compresses, as real YAML does, so the pack stays under the fetch limit).
  const fd = openSync(join(wc.dir, 'jobs', 'big.yaml'), 'w');
  for (let i = 0; i < 50; i++) {
    const lines: string[] = [];
    for (let size = 0; size < MiB; ) {
      const line = `key-${i}-${lines.length}: ${randomBytes(12).toString('hex')}\n`;
      lines.push(line);
      size += line.length;
    }
    writeSync(fd, lines.join('').slice(0, MiB));
  }
  closeSync(fd);
  await wc.commitAndPush({ 'jobs/good.yaml': job('good') }, 'a big file');

  const fetched = await peakRss(() => fetchRevision(opts));
  t.comment(`fetch with a 50 MB YAML blob: RSS ${mb(fetched.before)} → peak ${mb(fetched.peak)}`);
  const { commit, gitdir } = fetched.value;
  const cache = {};
  const listing = await listManifestFiles({ fs, gitdir, commit, path: 'jobs', cache });
  const big = listing.files.find((f) => f.file === 'jobs/big.yaml')!;
  const good = listing.files.find((f) => f.file === 'jobs/good.yaml')!;
  const counting = countingFs();
  // A fresh object cache: the listing's cache may already hold pack data, which the count would not see.
  const read = await peakRss(() => readManifestBlob({ fs: counting.fs, gitdir, file: big.file, oid: big.oid, cache: {} }));
  t.comment(`refusing the 50 MB file: RSS ${mb(read.before)} → peak ${mb(read.peak)}`);
  t.same(read.value, { file: 'jobs/big.yaml', message: 'file is 50.0 MiB (52428800 bytes); manifest files are limited to 1.0 MiB' });
  t.ok(counting.packBytes() < 64 * 1024, `the refusal reads the object's header only (${counting.packBytes()} bytes of the pack)`);
  t.same(await readManifestBlob({ fs, gitdir, file: good.file, oid: good.oid, cache }), { file: 'jobs/good.yaml', text: job('good') }, 'its neighbour is read');
  t.comment(`fetch: RSS +${mb(fetched.peak - fetched.before)}`);
});

t.test('50 MB that does not compress is refused by the fetch byte limit, before it is held in memory', async (t) => {
  const { wc, opts } = await setup(t);
  mkdirSync(join(wc.dir, 'jobs'), { recursive: true });
  const fd = openSync(join(wc.dir, 'jobs', 'big.yaml'), 'w');
  for (let i = 0; i < 50; i++) writeSync(fd, randomBytes(MiB));
  closeSync(fd);
  await wc.commitAndPush({ 'jobs/good.yaml': job('good') }, 'a big random file');
  const fetched = await peakRss(() => fetchRevision(opts).catch((err: unknown) => err));
  t.match(fetched.value, { code: 'TooLarge' }, 'default limit (32 MiB)');
  t.comment(`refused pack: RSS ${mb(fetched.before)} → peak ${mb(fetched.peak)}`);
});

t.test('a one-file change on a large repository: one diff entry, one blob read', async (t) => {
  const n = Number(process.env.GITSYNC_SCALE_FILES ?? 1000);
  const { wc, opts } = await setup(t);
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) files[`jobs/job-${String(i).padStart(5, '0')}.yaml`] = job(`job-${i}`);
  await wc.commitAndPush(files, `${n} jobs`);

  let started = performance.now();
  const first = await fetchRevision(opts);
  const initialFetch = performance.now() - started;
  started = performance.now();
  const cache = {};
  const listing = await listManifestFiles({ fs, gitdir: first.gitdir, commit: first.commit, path: 'jobs', cache });
  let reads = 0;
  for (const f of listing.files) {
    reads++;
    await readManifestBlob({ fs, gitdir: first.gitdir, file: f.file, oid: f.oid, cache });
  }
  const initialRead = performance.now() - started;
  t.equal(listing.files.length, n);
  t.equal(reads, n);

  await wc.commitAndPush({ 'jobs/job-00042.yaml': job('job-42-changed') }, 'one change');
  started = performance.now();
  const second = await fetchRevision(opts);
  const incrementalFetch = performance.now() - started;
  started = performance.now();
  const cache2 = {};
  const diff = await changedFiles({ fs, gitdir: second.gitdir, oldCommit: first.commit, newCommit: second.commit, path: 'jobs', cache: cache2 });
  const diffTime = performance.now() - started;
  t.same(diff.changes.map((c) => `${c.change} ${c.file}`), ['modified jobs/job-00042.yaml']);
  reads = 0;
  for (const c of diff.changes) {
    reads++;
    const text = await readManifestBlob({ fs, gitdir: second.gitdir, file: c.file, oid: c.oid!, cache: cache2 });
    t.match(text, { text: /job-42-changed/ });
  }
  const changedRead = performance.now() - started;
  t.equal(reads, 1, 'only the changed file is read');
  t.comment(`${n} files: initial fetch ${initialFetch.toFixed(0)} ms, list+read all ${initialRead.toFixed(0)} ms; one-file change: fetch ${incrementalFetch.toFixed(0)} ms, changedFiles ${diffTime.toFixed(1)} ms, diff+read ${changedRead.toFixed(1)} ms`);
});
