// Where a JobRepository's fetched objects live: one bare git directory per repository.
import { join } from 'node:path';
import { GitSyncError } from './errors.ts';

// Kubernetes names are DNS labels/subdomains; anything else must not become a path.
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function cacheDir({ cacheRoot, namespace, name }: { cacheRoot: string; namespace: string; name: string }): string {
  for (const part of [namespace, name]) {
    if (!NAME.test(part) || part.includes('..')) throw new GitSyncError('InvalidPath', `"${part}" is not a Kubernetes name`, { part });
  }
  return join(cacheRoot, namespace, name);
}
