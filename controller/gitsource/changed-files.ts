// Which manifest files differ between two commits under `path`: a walk of both trees that descends only into
// subtrees whose oids differ and compares entries byte for byte, so no blob is read and unchanged entries cost nothing.
import { GitSyncError } from './errors.ts';
import { decodeEntry, entryKind, entrySpan, joinFile, readTreeObject, subtreeAt, type EntrySpan, type TreeEntry, type TreeProblem, type TreeReadOptions } from './tree.ts';

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

// Git's tree order (base_name_compare): bytes of the name, a tree's name followed by "/".
function gitOrder(a: Buffer, sa: EntrySpan, b: Buffer, sb: EntrySpan): number {
  const la = sa.nul - sa.space - 1;
  const lb = sb.nul - sb.space - 1;
  const common = Math.min(la, lb);
  const cmp = a.compare(b, sb.space + 1, sb.space + 1 + common, sa.space + 1, sa.space + 1 + common);
  if (cmp !== 0) return cmp;
  const next = (buf: Buffer, s: EntrySpan, len: number) => (len > common ? buf[s.space + 1 + common]! : buf.toString('latin1', s.start, s.space).padStart(6, '0') === '040000' ? 0x2f : 0);
  return next(a, sa, la) - next(b, sb, lb);
}

/**
 * The entries of two raw trees that are not byte-identical in both, by name. Both are walked side by side in git's
 * order and identical entries are skipped undecoded, so a one-file change in a 5,000-entry folder decodes two entries.
 * Order only decides which side moves on: every entry lands in a pair or in its side's map, so a tree that is not
 * sorted still yields every difference (an unchanged entry then shows up on both sides and is dropped by name).
 */
function differingEntries(before: Buffer, after: Buffer): { before: Map<string, TreeEntry>; after: Map<string, TreeEntry> } {
  const out = { before: new Map<string, TreeEntry>(), after: new Map<string, TreeEntry>() };
  let i = 0;
  let j = 0;
  while (i < before.length && j < after.length) {
    const o = entrySpan(before, i);
    const n = entrySpan(after, j);
    if (o.end - o.start === n.end - n.start && before.compare(after, n.start, n.end, o.start, o.end) === 0) {
      i = o.end;
      j = n.end;
      continue;
    }
    const order = gitOrder(before, o, after, n);
    if (order <= 0) {
      const e = decodeEntry(before, o);
      out.before.set(e.path, e);
      i = o.end;
    }
    if (order >= 0) {
      const e = decodeEntry(after, n);
      out.after.set(e.path, e);
      j = n.end;
    }
  }
  for (; i < before.length; ) {
    const o = entrySpan(before, i);
    const e = decodeEntry(before, o);
    out.before.set(e.path, e);
    i = o.end;
  }
  for (; j < after.length; ) {
    const n = entrySpan(after, j);
    const e = decodeEntry(after, n);
    out.after.set(e.path, e);
    j = n.end;
  }
  return out;
}

const NO_TREE = Buffer.alloc(0);

async function diffTrees(opts: TreeReadOptions, oldOid: string | undefined, newOid: string | undefined, prefix: string, out: ChangedFiles): Promise<void> {
  if (oldOid === newOid) return;
  const [oldTree, newTree] = await Promise.all([oldOid === undefined ? NO_TREE : readTreeObject(opts, oldOid), newOid === undefined ? NO_TREE : readTreeObject(opts, newOid)]);
  const { before, after } = differingEntries(oldTree, newTree);
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
