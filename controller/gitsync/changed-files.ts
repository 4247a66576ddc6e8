// Which manifest files differ between two commits under `path`: a walk of both trees that descends only into
// subtrees whose oids differ and compares blob oids, so no blob is read and unchanged folders cost nothing.
import { GitSyncError } from './errors.ts';
import { entryKind, joinFile, readTreeEntries, subtreeAt, type TreeEntry, type TreeProblem, type TreeReadOptions } from './tree.ts';

export interface FileChange {
  file: string;
  change: 'added' | 'modified' | 'deleted';
  /** The new blob, for added and modified files. */
  oid?: string;
}

export interface ChangedFilesOptions extends TreeReadOptions {
  oldCommit: string;
  newCommit: string;
  path: string;
}

export interface ChangedFiles {
  changes: FileChange[];
  /** Entries that became unreadable in the new commit (symlinks, unsafe names); unchanged ones are not repeated. */
  problems: TreeProblem[];
}

async function entriesOf(opts: TreeReadOptions, oid: string | undefined): Promise<Map<string, TreeEntry>> {
  if (oid === undefined) return new Map();
  return new Map((await readTreeEntries(opts, oid)).map((e) => [e.path, e]));
}

async function diffTrees(opts: TreeReadOptions, oldOid: string | undefined, newOid: string | undefined, prefix: string, out: ChangedFiles): Promise<void> {
  if (oldOid === newOid) return;
  const [before, after] = await Promise.all([entriesOf(opts, oldOid), entriesOf(opts, newOid)]);
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const o = before.get(name);
    const n = after.get(name);
    if (o && n && o.oid === n.oid && o.mode === n.mode) continue;
    const file = joinFile(prefix, name);
    const ok = o ? entryKind(o) : undefined;
    const nk = n ? entryKind(n) : undefined;
    if (ok?.kind === 'dir' || nk?.kind === 'dir') {
      await diffTrees(opts, ok?.kind === 'dir' ? o?.oid : undefined, nk?.kind === 'dir' ? n?.oid : undefined, file, out);
    }
    if (nk?.kind === 'problem') out.problems.push({ file, message: nk.message });
    const wasManifest = ok?.kind === 'manifest';
    const isManifest = nk?.kind === 'manifest';
    if (wasManifest && isManifest) {
      // A mode-only change (chmod +x) leaves the content alone.
      if (o?.oid !== n?.oid) out.changes.push({ file, change: 'modified', oid: n?.oid });
    } else if (wasManifest) out.changes.push({ file, change: 'deleted' });
    else if (isManifest) out.changes.push({ file, change: 'added', oid: n?.oid });
  }
}

/** Added, modified and deleted manifest files from `oldCommit` to `newCommit`; a rename is a delete plus an add. */
export async function changedFiles(opts: ChangedFilesOptions): Promise<ChangedFiles> {
  const cached = { ...opts, cache: opts.cache ?? {} };
  const [before, after] = await Promise.all([subtreeAt(cached, opts.oldCommit, opts.path), subtreeAt(cached, opts.newCommit, opts.path)]);
  if (after.oid === undefined) throw new GitSyncError('InvalidPath', `path "${opts.path}" does not exist at ${opts.newCommit.slice(0, 12)}`, { path: opts.path, commit: opts.newCommit });
  const out: ChangedFiles = { changes: [], problems: [] };
  await diffTrees(cached, before.oid, after.oid, after.prefix, out);
  const byFile = (a: { file: string }, b: { file: string }) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
  out.changes.sort(byFile);
  out.problems.sort(byFile);
  return out;
}
