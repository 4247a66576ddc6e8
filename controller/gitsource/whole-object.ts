// A packed object stored whole (not as a delta), inflated by Node's zlib and checked against its id. isomorphic-git
// inflates with pako in JavaScript, which costs a 5,000-entry tree several milliseconds per read (tens when the
// controller's --optimize-for-size has flushed pako's compiled code between syncs); zlib takes under one.
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import type { NodeFs } from './node-fs.ts';
import { findPacked, packObjectHeader, readAt } from './object-size.ts';

const TYPES = ['', 'commit', 'tree', 'blob', 'tag'] as const;

export interface WholeObjectOptions {
  fs: NodeFs;
  gitdir: string;
  oid: string;
  cache?: object;
}

/** The object's content and type, or undefined when it is loose, a delta or unreadable here (the caller falls back). */
export async function readWholeObject({ fs, gitdir, oid, cache }: WholeObjectOptions): Promise<{ type: string; content: Buffer } | undefined> {
  if (!/^[0-9a-f]{40}$/.test(oid)) return undefined;
  const found = await findPacked({ fs, gitdir, oid, cache }).catch(() => undefined);
  if (!found) return undefined;
  const head = await readAt(fs, found.pack, found.offset, 32);
  const { type: typeNumber, size, length: at } = packObjectHeader(head);
  const type = TYPES[typeNumber];
  if (!type) return undefined;
  // Deflate never grows data by more than 5 bytes per 16 KiB block plus its header and checksum.
  const deflated = await readAt(fs, found.pack, found.offset + at, size + 5 * Math.ceil(size / 16_384) + 64);
  let content: Buffer;
  try {
    content = inflateSync(deflated);
  } catch {
    return undefined;
  }
  if (content.byteLength !== size) return undefined;
  const id = createHash('sha1').update(`${type} ${size}\0`).update(content).digest('hex');
  return id === oid ? { type, content } : undefined;
}
