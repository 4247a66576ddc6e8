// The fetch step of a sync: the commit the later steps read from.
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { V1Secret } from '@kubernetes/client-node';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import type { JobRepository } from '../../api/index.ts';
import type { Clock } from '../../clock/clock.ts';
import type { DialGuard, KubeClient } from '../../kube/index.ts';
import type { EventRecorder } from '../events.ts';
import { GitSyncError, redactUrl } from '../gitsource/errors.ts';
import { fetchRevision, type GitAuth } from '../gitsource/fetch.ts';
import type { GitSyncMetrics } from '../metrics.ts';
import type { ReconcileContext } from '../runtime/index.ts';
import { applyErrorMessage } from './apply-error.ts';
import { involved } from './repository-refs.ts';
import type { Ready } from './sync-status.ts';
import type { SyncState } from './sync-state.ts';

export interface Fetched {
  commit: string;
  gitdir: string;
  /** isomorphic-git's object cache, for every read of this sync. */
  cache: object;
}

export interface FetchStepOptions {
  repo: JobRepository;
  key: string;
  /** Fetch from the remote; else (and when something was fetched before) the last fetched commit is read from the cache. */
  due: boolean;
  /** The requestedAt this sync answers, remembered with the fetch. */
  requestedAt: string | undefined;
  state: SyncState;
  client: KubeClient;
  cacheRoot: string;
  dialGuard: DialGuard | undefined;
  clock: Clock;
  metrics: GitSyncMetrics;
  events: EventRecorder;
  log: ReconcileContext['logger'];
}

/**
 * Fetch: the remote's commit when due (or never fetched), else the last fetched one, out of the cache. Its commit is
 * the lastFetchedRevision the later steps write. A failure decides Ready=False with the GitSyncError's code
 * (FetchFailed for anything else) and its message, and no other status field: nothing is applied or pruned.
 */
export async function fetchStep({ repo, key, due, requestedAt, state, client, cacheRoot, dialGuard, clock, metrics, events, log }: FetchStepOptions): Promise<Fetched | { failed: Ready }> {
  const namespace = repo.metadata!.namespace!;
  const name = repo.metadata!.name!;
  const gitCache = state.gitCacheOf(key);
  const { cache } = gitCache;
  try {
    if (due || !repo.status?.lastFetchedRevision) {
      dialGuard?.(repo.spec.url, `JobRepository ${namespace}/${name}`);
      const fetched = await fetchRevision({ fs, http, cacheRoot, namespace, name, url: repo.spec.url, ...(repo.spec.ref ? { ref: repo.spec.ref } : {}), ...(await authOf(client, repo)), cache });
      gitCache.fetches++;
      const generation = repo.metadata?.generation;
      state.lastSync.set(key, { at: clock.now(), ...(requestedAt ? { requestedAt } : {}), ...(generation !== undefined ? { generation } : {}) });
      return { commit: fetched.commit, gitdir: fetched.gitdir, cache };
    }
    const commit = repo.status.lastFetchedRevision;
    const gitdir = join(cacheRoot, namespace, name);
    await git.readCommit({ fs, gitdir, oid: commit, cache });
    return { commit, gitdir, cache };
  } catch (err) {
    // The next try starts from a fresh object cache, which re-reads the packs on disk.
    state.gitCaches.delete(key);
    const message = err instanceof GitSyncError ? err.message : `fetch of ${redactUrl(repo.spec.url)} failed: ${err instanceof Error ? err.message : String(err)}`;
    metrics.errors.inc({ namespace, name, kind: 'fetch' });
    log.warn({ err: message }, 'fetch failed');
    await events.record(involved(repo), 'Warning', 'FetchFailed', message);
    return { failed: { status: 'False', reason: err instanceof GitSyncError ? err.code : 'FetchFailed', message } };
  }
}

async function authOf(client: KubeClient, repo: JobRepository): Promise<{ auth?: GitAuth }> {
  const ref = repo.spec.secretRef?.name;
  if (!ref) return {};
  // The API's words only: the raw error carries per-request headers, and a message that changes on every try
  // rewrote the status each time, which triggered the next try at once (a hot loop until the Secret appeared).
  const secret = await client.get<V1Secret>({ version: 'v1', plural: 'secrets', namespace: repo.metadata!.namespace!, name: ref }).catch((err: unknown) => {
    throw new Error(`reading Secret ${repo.metadata!.namespace!}/${ref}: ${applyErrorMessage(err)}`);
  });
  const get = (k: string) => (secret.data?.[k] ? Buffer.from(secret.data[k], 'base64').toString('utf8') : undefined);
  const token = get('token');
  if (token) return { auth: { token } };
  const username = get('username');
  const password = get('password');
  return username && password ? { auth: { username, password } } : {};
}
