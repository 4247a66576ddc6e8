// The size of a git object read from its pack or loose header, so an oversized blob is refused without inflating it.
import { join } from 'node:path';
import { constants, inflateSync } from 'node:zlib';
import { GitSyncError } from './errors.ts';
import type { NodeFs } from './node-fs.ts';

export interface ObjectSizeOptions {
  fs: NodeFs;
  gitdir: string;
  oid: string;
  /** Keeps parsed pack indexes between calls of the same sync. */
  cache?: object;
}

const IDX_MAGIC = 0xff744f63;
const indexCache = new WeakMap<object, Map<string, Buffer>>();

// Inflates only a growing prefix of the stream until `enough` bytes come out: a highly compressible object costs
// at most ~1000x the prefix, never the whole object.
function inflatePrefix(data: Buffer, enough: number): Buffer {
  for (let take = 64; ; take *= 4) {
    let out: Buffer;
    try {
      out = inflateSync(data.subarray(0, take), { finishFlush: constants.Z_SYNC_FLUSH });
    } catch {
      out = Buffer.alloc(0);
    }
    if (out.length >= enough || take >= data.length) return out;
  }
}

// Git's little-endian base-128 varint of delta headers.
function deltaVarint(buf: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    const c = buf[i++];
    if (c === undefined) throw new Error('truncated delta header');
    value += (c & 0x7f) * 2 ** shift;
    shift += 7;
    if ((c & 0x80) === 0) return { value, next: i };
  }
}

export async function readAt(fs: NodeFs, file: string, position: number, length: number): Promise<Buffer> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

// Offset of `oid` in a version-2 pack index, or undefined.
function offsetIn(idx: Buffer, oid: Buffer): number | undefined {
  if (idx.readUInt32BE(0) !== IDX_MAGIC || idx.readUInt32BE(4) !== 2) return undefined;
  const fanout = (i: number) => (i < 0 ? 0 : idx.readUInt32BE(8 + i * 4));
  const total = fanout(255);
  const first = oid[0] ?? 0;
  let lo = fanout(first - 1);
  let hi = fanout(first) - 1;
  const oids = 8 + 256 * 4;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    // sign of (entry - oid)
    const cmp = idx.compare(oid, 0, 20, oids + mid * 20, oids + mid * 20 + 20);
    if (cmp === 0) {
      const offsets = oids + total * 24;
      const small = idx.readUInt32BE(offsets + mid * 4);
      if ((small & 0x80000000) === 0) return small;
      return Number(idx.readBigUInt64BE(offsets + total * 4 + (small & 0x7fffffff) * 8));
    }
    if (cmp < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** A packed object's header: its type number, its size (inflated; of the delta for types 6 and 7) and where its data starts. */
export function packObjectHeader(head: Buffer): { type: number; size: number; length: number } {
  let c = head[0] ?? 0;
  const type = (c >> 4) & 7;
  let size = c & 15;
  let shift = 4;
  let length = 1;
  while (c & 0x80) {
    c = head[length++] ?? 0;
    size += (c & 0x7f) * 2 ** shift;
    shift += 7;
  }
  return { type, size, length };
}

async function packedSize(fs: NodeFs, pack: string, offset: number): Promise<number> {
  const head = await readAt(fs, pack, offset, 4096);
  const { type, size, length } = packObjectHeader(head);
  let i = length;
  if (type >= 1 && type <= 4) return size;
  if (type === 6) {
    // offset to the base, then the deflated delta
    while ((head[i++] ?? 0) & 0x80);
  } else if (type === 7) i += 20;
  else throw new Error(`unknown pack object type ${type}`);
  const delta = inflatePrefix(head.subarray(i), 20);
  const source = deltaVarint(delta, 0);
  return deltaVarint(delta, source.next).value;
}

async function looseSize(fs: NodeFs, file: string): Promise<number> {
  const head = inflatePrefix(await readAt(fs, file, 0, 4096), 32);
  const match = /^[a-z]+ (\d+)\0/.exec(head.subarray(0, 32).toString('latin1'));
  if (!match?.[1]) throw new Error('unreadable loose object header');
  return Number(match[1]);
}

/** Where `oid` lies in the cache's packs (pack file and offset), or undefined when no pack holds it. */
export async function findPacked({ fs, gitdir, oid, cache }: ObjectSizeOptions): Promise<{ pack: string; offset: number } | undefined> {
  const packDir = join(gitdir, 'objects', 'pack');
  const indexes = cache ? (indexCache.get(cache) ?? new Map<string, Buffer>()) : new Map<string, Buffer>();
  if (cache) indexCache.set(cache, indexes);
  const wanted = Buffer.from(oid, 'hex');
  for (const name of (await fs.promises.readdir(packDir)).filter((n) => n.endsWith('.idx'))) {
    const path = join(packDir, name);
    let idx = indexes.get(path);
    if (!idx) {
      idx = await fs.promises.readFile(path);
      indexes.set(path, idx);
    }
    const offset = offsetIn(idx, wanted);
    if (offset !== undefined) return { pack: path.replace(/\.idx$/, '.pack'), offset };
  }
  return undefined;
}

export async function objectSize({ fs, gitdir, oid, cache }: ObjectSizeOptions): Promise<number> {
  if (!/^[0-9a-f]{40}$/.test(oid)) throw new GitSyncError('FetchFailed', `"${oid}" is not an object id`, { oid });
  const loose = join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
  try {
    return await looseSize(fs, loose);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const found = await findPacked({ fs, gitdir, oid, cache });
  if (found) return packedSize(fs, found.pack, found.offset);
  throw new GitSyncError('FetchFailed', `object ${oid} is not in the cache`, { oid });
}
