// Shallow, single-ref fetch of a JobRepository's branch, tag or pinned commit into its cache directory.
import git from 'isomorphic-git';
import type { AuthCallback, HttpClient } from 'isomorphic-git';
import type { GitReference } from '../../api/jobrepository.ts';
import { boundedHttp } from './bounded-http.ts';
import { cacheDir } from './cache-dir.ts';
import { GitSyncError, redactUrl } from './errors.ts';
import type { NodeFs } from './node-fs.ts';

export type GitAuth = { username: string; password: string } | { token: string };

export interface FetchRevisionOptions {
  fs: NodeFs;
  http: HttpClient;
  cacheRoot: string;
  namespace: string;
  name: string;
  url: string;
  ref?: GitReference;
  auth?: GitAuth;
  /** Per attempt: an incremental fetch that brings nothing (the ref moved back) is retried once at depth 1. */
  timeoutMs?: number;
  /** Bytes the server may send per attempt (ref advertisement + pack). */
  maxBytes?: number;
  /** isomorphic-git object cache, shared with the tree reads of the same sync. */
  cache?: object;
}

export interface FetchedRevision {
  /** The commit the ref resolved to (an annotated tag is peeled). */
  commit: string;
  gitdir: string;
  /** What was asked of the remote: refs/heads/x, refs/tags/x, HEAD or a commit id. */
  remoteRef: string;
}

export const DEFAULT_FETCH_TIMEOUT_MS = 60_000;
// isomorphic-git holds the whole pack in memory and inflates each object to index it: this bounds the controller's RSS.
export const DEFAULT_FETCH_MAX_BYTES = 32 * 1024 * 1024;
// Our own record of the last fetched commit; it doubles as the "have" that keeps later fetches incremental.
const LOCAL_REF = 'refs/heads/gitsync-fetched';
const FULL_OID = /^[0-9a-f]{40}$/;

function remoteRefOf(ref: GitReference | undefined): string {
  if (ref?.commit !== undefined) {
    if (!FULL_OID.test(ref.commit)) throw new GitSyncError('RefNotFound', `commit "${ref.commit}" is not a full 40-character commit id`, { commit: ref.commit });
    return ref.commit;
  }
  if (ref?.tag !== undefined) return `refs/tags/${ref.tag}`;
  if (ref?.branch !== undefined) return `refs/heads/${ref.branch}`;
  return 'HEAD';
}

function describeRef(ref: GitReference | undefined): string {
  if (ref?.commit !== undefined) return `commit ${ref.commit}`;
  if (ref?.tag !== undefined) return `tag ${ref.tag}`;
  if (ref?.branch !== undefined) return `branch ${ref.branch}`;
  return 'the default branch';
}

function onAuthFor(auth: GitAuth | undefined): AuthCallback | undefined {
  if (!auth) return undefined;
  if ('token' in auth) return () => ({ headers: { Authorization: `Bearer ${auth.token}` } });
  return () => ({ username: auth.username, password: auth.password });
}

// Tags may point at tags; follow them to the commit.
async function peelToCommit(fs: NodeFs, gitdir: string, cache: object, oid: string): Promise<string> {
  let current = oid;
  for (let depth = 0; depth < 10; depth++) {
    const obj = await git.readObject({ fs, gitdir, oid: current, cache, format: 'parsed' });
    if (obj.type === 'commit') return current;
    if (obj.type !== 'tag') break;
    current = (obj.object as { object: string }).object;
  }
  throw new GitSyncError('RefNotFound', `${oid} does not point at a commit`, { oid });
}

async function hasCommit(fs: NodeFs, gitdir: string, cache: object, oid: string): Promise<boolean> {
  try {
    // Objects are indexed by the hash of their content, so finding it is the verification.
    await git.readCommit({ fs, gitdir, oid, cache });
    return true;
  } catch {
    return false;
  }
}

// A depth-1 fetch re-sends the whole tree even when we hold most of it (upload-pack ignores "have" under
// `deepen 1`); `deepen-since` our last commit keeps the haves, so a one-file change brings one blob and its trees.
async function lastFetchedSince(fs: NodeFs, gitdir: string, cache: object): Promise<Date | undefined> {
  try {
    const oid = await git.resolveRef({ fs, gitdir, ref: LOCAL_REF });
    const { commit } = await git.readCommit({ fs, gitdir, oid, cache });
    return new Date(commit.committer.timestamp * 1000);
  } catch {
    return undefined;
  }
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function translate(err: unknown, ctx: { url: string; ref: GitReference | undefined }): GitSyncError {
  if (err instanceof GitSyncError) return err;
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  const where = redactUrl(ctx.url);
  const data = { url: where, cause: code };
  if (code === 'HttpError') {
    const status = (err as { data?: { statusCode?: number } }).data?.statusCode;
    if (status === 401 || status === 403) return new GitSyncError('AuthFailed', `${where}: authentication failed (HTTP ${status}); check the credentials in secretRef`, { ...data, statusCode: status });
    return new GitSyncError('FetchFailed', `${where}: HTTP ${status ?? 'error'}`, { ...data, statusCode: status });
  }
  if (code === 'NotFoundError') return new GitSyncError('RefNotFound', `${where}: ${describeRef(ctx.ref)} not found`, data);
  // upload-pack refuses a want it cannot serve: an unknown or unreachable pinned commit.
  if (ctx.ref?.commit !== undefined && /not our ref|upload-pack: not our|unadvertised object/i.test(message)) {
    return new GitSyncError('RefNotFound', `${where}: commit ${ctx.ref.commit} is not reachable from any branch or tag`, data);
  }
  return new GitSyncError('FetchFailed', `${where}: fetch failed: ${message.split(ctx.url).join(where)}`, data);
}

export async function fetchRevision(opts: FetchRevisionOptions): Promise<FetchedRevision> {
  const { fs, http, url, ref } = opts;
  if (!fs || !http || !url) throw new TypeError('fetchRevision needs fs, http and url');
  const cache = opts.cache ?? {};
  const gitdir = cacheDir(opts);
  const remoteRef = remoteRefOf(ref);
  await fs.promises.mkdir(gitdir, { recursive: true });
  await git.init({ fs, gitdir, bare: true });
  // isomorphic-git records remote refs through a configured remote; the URL on disk carries no credentials.
  await git.addRemote({ fs, gitdir, remote: 'origin', url: redactUrl(url), force: true });

  // A pinned commit never changes: once verified in the cache, the network is not needed.
  if (ref?.commit !== undefined && (await hasCommit(fs, gitdir, cache, ref.commit))) {
    await git.writeRef({ fs, gitdir, ref: LOCAL_REF, value: ref.commit, force: true });
    return { commit: ref.commit, gitdir, remoteRef };
  }

  const since = await lastFetchedSince(fs, gitdir, cache);
  if (since) {
    try {
      const commit = await fetchOnce(opts, { gitdir, remoteRef, cache }, { since });
      if (commit) return { commit, gitdir, remoteRef };
      // Nothing new enough was sent: the ref moved back to a commit older than our last one (reset + force-push).
    } catch (err) {
      // Commits pushed between two syncs come along with `since`, and one of them may hold what the tip no longer
      // does: the next fetch starts over at depth 1 (tip only). Not right away, on a connection still being torn down.
      if (err instanceof GitSyncError && err.code === 'TooLarge') await git.deleteRef({ fs, gitdir, ref: LOCAL_REF }).catch(() => undefined);
      throw err;
    }
  }
  const commit = await fetchOnce(opts, { gitdir, remoteRef, cache }, { depth: 1 });
  if (!commit) throw new GitSyncError('RefNotFound', `${redactUrl(url)}: ${describeRef(ref)} was not received`, { url: redactUrl(url) });
  return { commit, gitdir, remoteRef };
}

// One fetch under its own time and byte limits; the commit it brought, or undefined if the tip did not arrive.
async function fetchOnce(opts: FetchRevisionOptions, at: { gitdir: string; remoteRef: string; cache: object }, shallow: { depth: number } | { since: Date }): Promise<string | undefined> {
  const { fs, http, url, ref, auth } = opts;
  const { gitdir, remoteRef, cache } = at;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_FETCH_MAX_BYTES;
  const where = redactUrl(url);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new GitSyncError('Timeout', `${where}: fetch did not finish within ${timeoutMs} ms`, { url: where, timeoutMs })), timeoutMs);
  const bounded = boundedHttp({
    http,
    signal: controller.signal,
    maxBytes,
    onLimit: () => controller.abort(new GitSyncError('TooLarge', `${where}: the server sent more than ${maxBytes} bytes; refusing a repository this large`, { url: where, maxBytes })),
  });
  const aborted = new Promise<never>((_resolve, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }));
  aborted.catch(() => undefined);
  let running: ReturnType<typeof git.fetch> | undefined;
  try {
    running = git.fetch({ fs, http: bounded, gitdir, url, ref: LOCAL_REF, remoteRef, singleBranch: true, ...shallow, tags: false, onAuth: onAuthFor(auth), cache });
    const fetched = await Promise.race([running, aborted]);
    if (!fetched.fetchHead) throw new GitSyncError('RefNotFound', `${where}: the repository has no commits`, { url: where });
    const commit = await peelToCommit(fs, gitdir, cache, fetched.fetchHead).catch((err: unknown) => {
      if ('since' in shallow) return undefined;
      throw err;
    });
    if (commit === undefined) return undefined;
    if (ref?.commit !== undefined && (commit !== ref.commit || !(await hasCommit(fs, gitdir, cache, commit)))) {
      throw new GitSyncError('RefNotFound', `${where}: commit ${ref.commit} was not received`, { url: where });
    }
    await git.writeRef({ fs, gitdir, ref: LOCAL_REF, value: commit, force: true });
    return commit;
  } catch (err) {
    // An aborted fetch may still be writing into gitdir: let it wind down before anyone fetches there again.
    if (controller.signal.aborted && running) await Promise.race([running.catch(() => undefined), new Promise((r) => setTimeout(r, 5000).unref())]);
    throw translate(controller.signal.aborted ? controller.signal.reason : err, { url, ref });
  } finally {
    clearTimeout(timer);
  }
}
