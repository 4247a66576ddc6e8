// The manifests under a JobRepository's `path` at a commit, read from the object store (no checkout):
// regular *.yaml/*.yml blobs only; symlinks and names that would climb out of `path` are per-file problems.
import git from 'isomorphic-git';
import { GitSyncError } from './errors.ts';
import type { NodeFs } from './node-fs.ts';
import { isManifestName, pathSegments, unsafeEntryName } from './tree-path.ts';

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
  let at = 0;
  while (at < buf.length) {
    const space = buf.indexOf(0x20, at);
    const nul = buf.indexOf(0, space + 1);
    if (space < 0 || nul < 0 || nul + 21 > buf.length) throw new GitSyncError('FetchFailed', 'malformed tree object in the cache', {});
    const mode = buf.toString('latin1', at, space).padStart(6, '0');
    const path = buf.toString('utf8', space + 1, nul);
    const oid = buf.toString('hex', nul + 1, nul + 21);
    entries.push({ path, mode, oid, type: mode === '040000' ? 'tree' : mode === '160000' ? 'commit' : 'blob' });
    at = nul + 21;
  }
  return entries;
}

export async function readTreeEntries({ fs, gitdir, cache }: TreeReadOptions, oid: string): Promise<TreeEntry[]> {
  const { object, type } = await git.readObject({ fs, gitdir, oid, cache, format: 'content' });
  if (type !== 'tree') throw new GitSyncError('FetchFailed', `object ${oid} is a ${type}, not a tree`, { oid });
  return parseTree(object as Uint8Array);
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
