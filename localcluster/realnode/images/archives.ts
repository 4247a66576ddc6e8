// The cached docker-archive tarballs: named by image and cache key, each with its image id noted beside it
// (the app's and worker's keys include the base's id), and old ones pruned.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalClusterError } from '../../errors.ts';

// Every edit makes a new app archive of ~450 MB: keep the newest and the one before it (a branch switched back to).
const KEEP_ARCHIVES = 2;

export function archivePath(dir: string, name: string, key: string): string {
  return join(dir, `${name}-${key.slice(0, 16)}.tar`);
}

/** The image id an archive holds (its config digest), from the note written beside it, or else from the archive itself. */
export function archiveImageId(archive: string): string {
  try {
    const id = readFileSync(`${archive}.id`, 'utf8').trim();
    if (id) return id;
  } catch {
    // No note (written by hand or by an older build): read the archive.
  }
  const id = configId(archive);
  writeFileSync(`${archive}.id`, `${id}\n`);
  return id;
}

/** Notes the id of a freshly written archive; done before it takes its final name, so a cached archive always has one. */
export function noteImageId(partial: string, archive: string): void {
  writeFileSync(`${archive}.id`, `${configId(partial)}\n`);
}

function configId(archive: string): string {
  const r = spawnSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  let config = '';
  try {
    config = r.status === 0 ? ((JSON.parse(r.stdout) as { Config?: string }[])[0]?.Config ?? '') : '';
  } catch {
    // Not JSON: reported below.
  }
  const id = /^([0-9a-f]{64})(?:\.json)?$/.exec(config)?.[1];
  if (!id) throw new LocalClusterError('ImageBuildFailed', `${archive} is not a docker-archive of one image (${r.stderr?.trim() || 'no usable manifest.json'}); delete it to rebuild`, { archive });
  return id;
}

/** Removes all but the newest archives of `name` besides `current`, with their notes and logs. */
export function pruneArchives(dir: string, name: string, current: string): void {
  const pattern = new RegExp(`^${name}-[0-9a-f]{16}\\.tar$`);
  const older = readdirSync(dir)
    .filter((f) => pattern.test(f) && join(dir, f) !== current)
    .map((f) => ({ path: join(dir, f), mtime: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  // A process importing one right now keeps reading it: unlinking leaves open files intact.
  for (const { path } of older.slice(KEEP_ARCHIVES - 1)) for (const f of [path, `${path}.id`, `${path}.build.log`]) rmSync(f, { force: true });
}
