// A JobRepository's `path` as tree segments, refusing anything that climbs out of the repository.
import { posix } from 'node:path';
import { GitSyncError } from './errors.ts';

// './', '/jobs/', 'jobs//team-a' → [] / ['jobs'] / ['jobs', 'team-a']; '../x' → InvalidPath.
export function pathSegments(path: string): string[] {
  const normal = posix.normalize(`/${path.replaceAll('\\', '/')}`);
  const segments = normal.split('/').filter((s) => s !== '' && s !== '.');
  if (path.split(/[\\/]/).includes('..') || segments.includes('..')) {
    throw new GitSyncError('InvalidPath', `path "${path}" must stay inside the repository (no "..")`, { path });
  }
  return segments;
}

// A tree entry name git itself would refuse; a crafted tree can still carry one.
export function unsafeEntryName(name: string): boolean {
  return name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\') || name.includes('\0') || name.toLowerCase() === '.git';
}

export function isManifestName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.endsWith('.yaml') || lower.endsWith('.yml');
}
