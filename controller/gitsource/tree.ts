// The manifests under a JobRepository's `path` at a commit, read from the object store (no checkout):
// regular *.yaml/*.yml blobs only; symlinks and names that would climb out of `path` are per-file problems.
import git from 'isomorphic-git';
import { GitSyncError } from './errors.ts';
import type { NodeFs } from './node-fs.ts';
import { isManifestName, pathSegments, unsafeEntryName } from './tree-path.ts';
import { readWholeObject } from './whole-object.ts';

export interface ManifestBlob {
  /** Path from the repository root, e.g. jobs/team-a/resnet.yaml. */
  file: string;
  oid: string;
}

export interface TreeProblem {
  file: string;
  message: string;
}

export interface TreeReadOptions {
  fs: NodeFs;
  gitdir: string;
  cache?: object;
}

export interface TreeEntry {
  /** The entry's name within its tree (not a path). */
  path: string;
  mode: string;
  oid: string;
  type: 'blob' | 'tree' | 'commit';
}

export type EntryKind = { kind: 'dir' } | { kind: 'manifest' } | { kind: 'ignored' } | { kind: 'problem'; message: string };

const SYMLINK = '120000';

// What an entry is to git sync; `file` is only used in messages.
export function entryKind(entry: TreeEntry): EntryKind {
  if (unsafeEntryName(entry.path)) return { kind: 'problem', message: `tree entry "${entry.path}" would resolve outside path; refused` };
  if (entry.mode === SYMLINK) return { kind: 'problem', message: 'symbolic links are not followed: a manifest must be a regular file inside path' };
  if (entry.type === 'tree') return { kind: 'dir' };
  if (entry.type === 'commit') return isManifestName(entry.path) ? { kind: 'problem', message: 'a submodule is not a manifest file' } : { kind: 'ignored' };
  return isManifestName(entry.path) ? { kind: 'manifest' } : { kind: 'ignored' };
}

export function joinFile(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}/${name}`;
}

// Parsed here rather than by git.readTree, which throws on a whole tree when one entry is named "..":
// we want that entry refused on its own and its siblings still read.
export function parseTree(content: Uint8Array): TreeEntry[] {
  const buf = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  const entries: TreeEntry[] = [];
  for (let at = 0; at < buf.length; ) {
    const span = entrySpan(buf, at);
    entries.push(decodeEntry(buf, span));
    at = span.end;
  }
  return entries;
}

/** Where one raw tree entry lies: `<mode> <name>\0<20-byte oid>` from `start` to `end`. */
export interface EntrySpan {
  start: number;
  space: number;
  nul: number;
  end: number;
}

export function entrySpan(buf: Buffer, start: number): EntrySpan {
  const space = buf.indexOf(0x20, start);
  const nul = space < 0 ? -1 : buf.indexOf(0, space + 1);
  if (space < 0 || nul < 0 || nul + 21 > buf.length) throw new GitSyncError('FetchFailed', 'malformed tree object in the cache', {});
  return { start, space, nul, end: nul + 21 };
}

export function decodeEntry(buf: Buffer, { start, space, nul }: EntrySpan): TreeEntry {
  const mode = buf.toString('latin1', start, space).padStart(6, '0');
  const path = buf.toString('utf8', space + 1, nul);
  const oid = buf.toString('hex', nul + 1, nul + 21);
  return { path, mode, oid, type: mode === '040000' ? 'tree' : mode === '160000' ? 'commit' : 'blob' };
}

// Raw tree objects by oid, per isomorphic-git cache: the next sync diffs from the tree this one read, and
// re-inflating a 5,000-entry tree (pako, in JavaScript) is most of a one-file diff. Bounded by bytes, least recent out.
const TREE_MEMO_BYTES = 2 * 1024 * 1024;
const treeMemos = new WeakMap<object, { bytes: number; trees: Map<string, Buffer> }>();

function remember(cache: object | undefined, oid: string, tree: Buffer): void {
  if (!cache || tree.byteLength > TREE_MEMO_BYTES / 2) return;
  let memo = treeMemos.get(cache);
  if (!memo) treeMemos.set(cache, (memo = { bytes: 0, trees: new Map() }));
  memo.trees.set(oid, tree);
  memo.bytes += tree.byteLength;
  for (const [old, buf] of memo.trees) {
    if (memo.bytes <= TREE_MEMO_BYTES) break;
    memo.trees.delete(old);
    memo.bytes -= buf.byteLength;
  }
}

/** A tree object's raw content (entries as git stores them). */
export async function readTreeObject({ fs, gitdir, cache }: TreeReadOptions, oid: string): Promise<Buffer> {
  const memo = cache ? treeMemos.get(cache) : undefined;
  const known = memo?.trees.get(oid);
  if (known && memo) {
    // Most recently used last.
    memo.trees.delete(oid);
    memo.trees.set(oid, known);
    return known;
  }
  const whole = await readWholeObject({ fs, gitdir, oid, ...(cache ? { cache } : {}) });
  const { object, type } = whole ? { object: whole.content, type: whole.type } : await git.readObject({ fs, gitdir, oid, cache, format: 'content' });
  if (type !== 'tree') throw new GitSyncError('FetchFailed', `object ${oid} is a ${type}, not a tree`, { oid });
  const content = object as Uint8Array;
  const tree = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  remember(cache, oid, tree);
  return tree;
}

export async function readTreeEntries(opts: TreeReadOptions, oid: string): Promise<TreeEntry[]> {
  return parseTree(await readTreeObject(opts, oid));
}

/**
 * The tree oid of `path` at `commit`, or undefined when the commit has no such folder.
 * A symlink or a file where the folder should be is InvalidPath: its target could lie outside the repository.
 */
export async function subtreeAt(opts: TreeReadOptions, commit: string, path: string): Promise<{ oid: string | undefined; prefix: string }> {
  const segments = pathSegments(path);
  let oid: string | undefined = (await git.readCommit({ fs: opts.fs, gitdir: opts.gitdir, oid: commit, cache: opts.cache })).commit.tree;
  for (const segment of segments) {
    const entry: TreeEntry | undefined = (await readTreeEntries(opts, oid)).find((e) => e.path === segment);
    if (!entry) return { oid: undefined, prefix: segments.join('/') };
    if (entry.type !== 'tree' || entry.mode === SYMLINK) {
      throw new GitSyncError('InvalidPath', `path "${path}" is not a folder at ${commit.slice(0, 12)}${entry.mode === SYMLINK ? ' (it is a symbolic link, which is not followed)' : ''}`, { path, commit });
    }
    oid = entry.oid;
  }
  return { oid, prefix: segments.join('/') };
}

export interface ListManifestFilesOptions extends TreeReadOptions {
  commit: string;
  /** The JobRepository's spec.path. */
  path: string;
}

export interface ManifestListing {
  files: ManifestBlob[];
  problems: TreeProblem[];
}

async function collect(opts: TreeReadOptions, oid: string, prefix: string, out: ManifestListing): Promise<void> {
  for (const entry of await readTreeEntries(opts, oid)) {
    const file = joinFile(prefix, entry.path);
    const what = entryKind(entry);
    if (what.kind === 'dir') await collect(opts, entry.oid, file, out);
    else if (what.kind === 'manifest') out.files.push({ file, oid: entry.oid });
    else if (what.kind === 'problem') out.problems.push({ file, message: what.message });
  }
}

/** Every manifest file under `path` at `commit`. A `path` missing at that commit is InvalidPath, never "no files". */
export async function listManifestFiles(opts: ListManifestFilesOptions): Promise<ManifestListing> {
  const cached = { ...opts, cache: opts.cache ?? {} };
  const { oid, prefix } = await subtreeAt(cached, opts.commit, opts.path);
  if (oid === undefined) throw new GitSyncError('InvalidPath', `path "${opts.path}" does not exist at ${opts.commit.slice(0, 12)}`, { path: opts.path, commit: opts.commit });
  const out: ManifestListing = { files: [], problems: [] };
  await collect(cached, oid, prefix, out);
  return out;
}
