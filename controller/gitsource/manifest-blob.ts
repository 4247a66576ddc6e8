// One manifest file's text from the object store, refused by its header size before any of it is inflated.
import git from 'isomorphic-git';
import type { NodeFs } from './node-fs.ts';
import { objectSize } from './object-size.ts';
import { readWholeObject } from './whole-object.ts';

export const DEFAULT_MAX_MANIFEST_BYTES = 1024 * 1024;

export interface ReadManifestBlobOptions {
  fs: NodeFs;
  gitdir: string;
  file: string;
  oid: string;
  maxBytes?: number;
  cache?: object;
}

export type ManifestText = { file: string; text: string } | { file: string; message: string };

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export async function readManifestBlob({ fs, gitdir, file, oid, maxBytes = DEFAULT_MAX_MANIFEST_BYTES, cache }: ReadManifestBlobOptions): Promise<ManifestText> {
  const size = await objectSize({ fs, gitdir, oid, cache });
  if (size > maxBytes) return { file, message: `file is ${mib(size)} (${size} bytes); manifest files are limited to ${mib(maxBytes)}` };
  const whole = await readWholeObject({ fs, gitdir, oid, ...(cache ? { cache } : {}) });
  const blob = whole?.type === 'blob' ? whole.content : (await git.readBlob({ fs, gitdir, oid, cache })).blob;
  try {
    return { file, text: new TextDecoder('utf-8', { fatal: true }).decode(blob) };
  } catch {
    return { file, message: 'file is not UTF-8 text' };
  }
}
