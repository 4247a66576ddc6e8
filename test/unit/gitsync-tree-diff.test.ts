// changedFiles walks two raw trees side by side and skips identical entries undecoded: these trees are written
// entry by entry into a real object store (isomorphic-git), including names whose git order differs from plain
// string order and trees that are not sorted at all, which git itself would never write but a crafted push can carry.
import t from 'tap';
import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { changedFiles } from '../../controller/gitsource/changed-files.ts';
import { readTreeObject } from '../../controller/gitsource/tree.ts';

type Entry = [mode: string, name: string, oid: string];

const gitdir = mkdtempSync(join(tmpdir(), 'gitsync-tree-diff-'));
t.teardown(() => rmSync(gitdir, { recursive: true, force: true }));
await git.init({ fs, gitdir, bare: true });

const blob = (text: string) => git.writeBlob({ fs, gitdir, blob: Buffer.from(text) });
// Raw tree bytes in exactly the order given (git.writeTree would sort them).
const tree = (entries: Entry[]) =>
  git.writeObject({ fs, gitdir, type: 'tree', format: 'content', object: Buffer.concat(entries.flatMap(([mode, name, oid]) => [Buffer.from(`${mode} ${name}\0`), Buffer.from(oid, 'hex')])) });
const commit = async (jobs: Entry[]) => {
  const root = await tree([['40000', 'jobs', await tree(jobs)]]);
  const author = { name: 'Test', email: 't@example.com', timestamp: 0, timezoneOffset: 0 };
  return git.writeCommit({ fs, gitdir, commit: { tree: root, parent: [], author, committer: author, message: 'test\n' } });
};
const diff = async (before: Entry[], after: Entry[]) =>
  (await changedFiles({ fs, gitdir, oldCommit: await commit(before), newCommit: await commit(after), path: 'jobs', cache: {} })).changes.map((c) => `${c.change} ${c.file}`);

const [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map((x) => blob(`kind: TrainingJob\nmetadata: { name: ${x} }\n`)));

t.test('names whose git order is not string order', async (t) => {
  // Git sorts a folder as its name plus "/": "x-y.yaml" < "x.yaml" < "x" (as "x/") < "x0.yaml".
  const inner = await tree([['100644', 'in.yaml', a!]]);
  const innerChanged = await tree([['100644', 'in.yaml', b!]]);
  const before: Entry[] = [['100644', 'x-y.yaml', a!], ['100644', 'x.yaml', b!], ['40000', 'x', inner], ['100644', 'x0.yaml', c!]];
  t.same(await diff(before, before), [], 'same trees: nothing');
  t.same(await diff(before, [['100644', 'x-y.yaml', a!], ['100644', 'x.yaml', b!], ['40000', 'x', innerChanged], ['100644', 'x0.yaml', d!]]), ['modified jobs/x/in.yaml', 'modified jobs/x0.yaml']);
  t.same(await diff(before, [['100644', 'x-y.yaml', a!], ['40000', 'x', inner], ['100644', 'x0.yaml', c!]]), ['deleted jobs/x.yaml'], 'a file before a folder of the same stem');
  t.same(await diff(before, [['100644', 'w.yaml', d!], ...before, ['100644', 'z.yaml', d!]]), ['added jobs/w.yaml', 'added jobs/z.yaml'], 'added first and last');
  t.same(await diff(before, [['100644', 'x-y.yaml', a!], ['100755', 'x.yaml', b!], ['40000', 'x', inner], ['100644', 'x0.yaml', c!]]), [], 'a mode-only change leaves the content alone');
});

t.test('a file that becomes a folder of the same name, and back', async (t) => {
  const folder = await tree([['100644', 'in.yaml', a!]]);
  const asFile: Entry[] = [['100644', 'p.yaml', a!]];
  const asFolder: Entry[] = [['40000', 'p.yaml', folder]];
  t.same(await diff(asFile, asFolder), ['deleted jobs/p.yaml', 'added jobs/p.yaml/in.yaml']);
  t.same(await diff(asFolder, asFile), ['added jobs/p.yaml', 'deleted jobs/p.yaml/in.yaml']);
});

t.test('trees that are not sorted still yield every difference and nothing more', async (t) => {
  const before: Entry[] = [['100644', 'c.yaml', c!], ['100644', 'a.yaml', a!], ['100644', 'b.yaml', b!]];
  t.same(await diff(before, [['100644', 'a.yaml', a!], ['100644', 'b.yaml', b!], ['100644', 'c.yaml', c!]]), [], 'the same entries in another order');
  t.same(await diff(before, [['100644', 'b.yaml', d!], ['100644', 'c.yaml', c!], ['100644', 'e.yaml', a!]]), ['deleted jobs/a.yaml', 'modified jobs/b.yaml', 'added jobs/e.yaml']);
});

t.test('a tree read once is served again without the object store', async (t) => {
  const oid = await tree([['100644', 'a.yaml', a!]]);
  const cache = {};
  const first = await readTreeObject({ fs, gitdir, cache }, oid);
  fs.rmSync(join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2)));
  t.same(await readTreeObject({ fs, gitdir, cache }, oid), first, 'remembered for the same cache');
  await t.rejects(readTreeObject({ fs, gitdir, cache: {} }, oid), 'a new cache reads the store again');
});
