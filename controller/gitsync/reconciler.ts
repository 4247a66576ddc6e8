// The JobRepository reconciler: get → suspend → fetch (a failure never prunes) → the files to
// read (all on first sync, else the git diff plus files of drifted jobs) → apply each TrainingJob
// on its own by server-side apply as the repository's service account (one bad file never blocks
// the others) → guarded prune of jobs this repository created → status, events and metrics.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { ApiException, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CONTROLLER_NAME, GROUP, JOBREPOSITORY_KIND, JOBREPOSITORY_PLURAL, TRAININGJOB_PLURAL, V1, formatInventoryEntry, manifestPath, parseInventory, pruneEnabled, syncInterval, type InventoryEntry, type JobRepository, type SyncError, type TrainingJob } from '../../api/index.ts';
import { deepEqual } from '../../api/json.ts';
import type { EventRecorder } from '../events.ts';
import { splitKey, type DialGuard, type KubeObject } from '../../kube/index.ts';
import { watchOf, type Manager, type ReconcileContext, type ReconcileResult } from '../runtime/index.ts';
import { setCondition } from '../trainingjob/conditions.ts';
import { changedFiles } from '../gitsource/changed-files.ts';
import { apiErrorMessage } from '../../kube/api-error.ts';
import { GitSyncError, redactUrl } from '../gitsource/errors.ts';
import { fetchRevision, type GitAuth } from '../gitsource/fetch.ts';
import { readManifestBlob } from '../gitsource/manifest-blob.ts';
import { manifestsOfFile } from './manifests.ts';
import { GITOPS_MANAGER, REPOSITORY_LABEL, SOURCE_PATH_ANNOTATION, repositoryLabelValue, repositoryOfJob } from './source-metadata.ts';
import { nextInventory, parseInterval, prunePlan, type FileOutcome } from './sync-plan.ts';
import { listManifestFiles } from '../gitsource/tree.ts';

export const REQUESTED_AT_ANNOTATION = `${GROUP}/requestedAt`;
export const CONFIRM_PRUNE_ANNOTATION = `${GROUP}/confirm-prune`;
// Fetches one isomorphic-git cache serves before a fresh one: each fetch adds a pack that the cache may come to hold.
const GIT_CACHE_FETCHES = 20;

export interface GitSyncMetrics {
  duration: Histogram<'result'>;
  lastSuccess: Gauge<'namespace' | 'name'>;
  revision: Gauge<'namespace' | 'name' | 'revision'>;
  errors: Counter<'namespace' | 'name' | 'kind'>;
}

export function createGitSyncMetrics(registry: Registry): GitSyncMetrics {
  const registers = [registry];
  return {
    duration: new Histogram({ name: 'trainingjob_gitsync_duration_seconds', help: 'Time of one JobRepository sync, by result.', labelNames: ['result'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers }),
    lastSuccess: new Gauge({ name: 'trainingjob_gitsync_last_success_timestamp_seconds', help: 'When the repository last synced without a fetch failure.', labelNames: ['namespace', 'name'], registers }),
    revision: new Gauge({ name: 'trainingjob_gitsync_revision_info', help: '1 for the revision last applied.', labelNames: ['namespace', 'name', 'revision'], registers }),
    errors: new Counter({ name: 'trainingjob_gitsync_errors_total', help: 'Sync problems by kind: fetch, file (per-file errors), prune.', labelNames: ['namespace', 'name', 'kind'], registers }),
  };
}

/** Drops a repository's gauges when it is deleted (all) or suspended (last success), so the staleness alert never fires for it. */
export async function forgetRepository(m: GitSyncMetrics, namespace: string, name: string, opts: { keepRevision?: boolean } = {}): Promise<void> {
  m.lastSuccess.remove({ namespace, name });
  if (opts.keepRevision) return;
  for (const { labels } of (await m.revision.get()).values) {
    if (labels.namespace === namespace && labels.name === name) m.revision.remove({ namespace, name, revision: String(labels.revision) });
  }
}

export interface GitSyncOptions {
  manager: Manager;
  events: EventRecorder;
  metrics: GitSyncMetrics;
  /** Where fetched repositories are cached. */
  cacheRoot: string;
  workers?: number;
  /** Checked before every fetch: a local cluster's or a test's controller refuses non-loopback repository hosts. */
  dialGuard?: DialGuard;
}

const isApiError = (err: unknown, code: number): boolean => err instanceof ApiException && err.code === code;

/** The message of a refused apply as the user should read it (the webhook's words, verbatim). */
export function applyErrorMessage(err: unknown): string {
  const message = apiErrorMessage(err);
  return err instanceof ApiException && /immutable/.test(message) ? `${message} (to change it, rename the job: a new name makes a new TrainingJob)` : message;
}

export interface JobRepositoryController {
  /**
   * Starts a sync here at once when this replica leads, for the requestedAt value about to be written: the
   * annotation's own watch event then finds it answered instead of fetching a second time.
   */
  syncNow(namespace: string, name: string, requestedAt: string): void;
}

export function registerJobRepositoryController(opts: GitSyncOptions): JobRepositoryController {
  const { manager, events, metrics } = opts;
  const now = (): Date => new Date(manager.clock.now());
  const custom = manager.apiClient(CustomObjectsApi);
  const core = manager.apiClient(CoreV1Api);
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const repos = manager.informer<JobRepository & KubeObject>({ group: GROUP, version: V1, plural: JOBREPOSITORY_PLURAL });
  // The TrainingJob controller's informer: a second, label-selected cache would hold thousands of the same jobs again.
  const jobs = manager.informer<TrainingJob & KubeObject>({ group: GROUP, version: V1, plural: TRAININGJOB_PLURAL });
  // Per repository: when it last synced and which requestedAt it answered (a new leader syncs everything once).
  const lastSync = new Map<string, { at: number; requestedAt?: string; generation?: number }>();
  // requestedAt values a push hook received here, not yet seen on the object.
  const requestedHere = new Map<string, string>();
  // The status this replica last wrote, by uid: right after our own write the informer may still
  // hold the previous one, and syncing from it would redo (or undo) the last sync. Only the leader
  // writes, and a new leader starts empty and reads the cache.
  const written = new Map<string, NonNullable<JobRepository['status']>>();
  const current = (repo: JobRepository): JobRepository => {
    const mine = repo.metadata?.uid ? written.get(repo.metadata.uid) : undefined;
    return mine ? { ...repo, status: mine } : repo;
  };
  // isomorphic-git's object cache per repository, kept across syncs: a fresh one re-reads and re-verifies every pack
  // index and pack of the cache dir on each reconcile. Renewed after a few fetches, so the packs it holds stay few.
  const gitCaches = new Map<string, { cache: object; fetches: number }>();
  const gitCacheOf = (key: string): { cache: object; fetches: number } => {
    let entry = gitCaches.get(key);
    if (!entry || entry.fetches >= GIT_CACHE_FETCHES) gitCaches.set(key, (entry = { cache: {}, fetches: 0 }));
    return entry;
  };
  // Verdicts by job object: the informer replaces an object on every change, so an unchanged job is judged once.
  const driftOf = new WeakMap<object, boolean>();
  // Parsed inventories by the status array they came from: every reconcile of a repository reads the same one.
  const parsedInventories = new WeakMap<readonly unknown[], InventoryEntry[]>();

  // The repository lives in the job's namespace.
  const repoOfJob = (j: TrainingJob & KubeObject): string[] => {
    const repository = repositoryOfJob(j);
    return repository && j.metadata?.namespace ? [`${j.metadata.namespace}/${repository}`] : [];
  };

  const controller = manager.addController({
    name: 'jobrepository',
    workers: opts.workers ?? 2,
    watches: [watchOf(repos), watchOf(jobs, repoOfJob)],
    reconcile: (key, ctx) => reconcile(key, ctx),
  });

  const syncNow = (namespace: string, name: string, requestedAt: string): void => {
    if (!manager.isLeader()) return;
    requestedHere.set(`${namespace}/${name}`, requestedAt);
    controller.queue.add(`${namespace}/${name}`);
  };

  async function reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const started = process.hrtime.bigint();
    let result = 'success';
    try {
      return await sync(key, ctx);
    } catch (err) {
      result = 'error';
      throw err;
    } finally {
      metrics.duration.observe({ result }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  async function sync(key: string, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const { namespace = '', name } = splitKey(key);
    const cached = repos.get(namespace, name);
    if (!cached) {
      lastSync.delete(key);
      gitCaches.delete(key);
      await forgetRepository(metrics, namespace, name);
      return;
    }
    if (cached.metadata?.deletionTimestamp && cached.metadata.uid) written.delete(cached.metadata.uid);
    const repo = current(cached);
    const log = ctx.logger.child({ jobrepository: key });
    const intervalMs = parseInterval(syncInterval(repo)) ?? 300_000;
    // Jitter spreads many repositories with the same interval over time.
    const requeue = { requeueAfterMs: Math.round(intervalMs * (0.9 + Math.random() * 0.2)) };
    if (repo.spec.suspend) {
      await forgetRepository(metrics, namespace, name, { keepRevision: true });
      await writeStatus(repo, { ...repo.status }, { type: 'Ready', status: 'False', reason: 'Suspended', message: 'syncing is suspended (spec.suspend)' });
      return;
    }
    const requestedAt = requestedHere.get(key) ?? repo.metadata?.annotations?.[REQUESTED_AT_ANNOTATION];
    requestedHere.delete(key);
    const last = lastSync.get(key);
    const generation = repo.metadata?.generation;
    // Due from 0.9× on: the jittered requeue may come that early, and waiting another full interval would double it.
    const due = !last || manager.clock.now() - last.at >= intervalMs * 0.9 || last.requestedAt !== requestedAt || last.generation !== generation;

    const gitCache = gitCacheOf(key);
    const { cache } = gitCache;
    const phase = { start: performance.now(), fetched: 0, read: 0, applied: 0 };
    let commit: string;
    let gitdir: string;
    try {
      if (due || !repo.status?.lastFetchedRevision) {
        opts.dialGuard?.(repo.spec.url, `JobRepository ${namespace}/${name}`);
        const fetched = await fetchRevision({ fs, http, cacheRoot: opts.cacheRoot, namespace, name, url: repo.spec.url, ...(repo.spec.ref ? { ref: repo.spec.ref } : {}), ...(await authOf(repo)), cache });
        commit = fetched.commit;
        gitdir = fetched.gitdir;
        gitCache.fetches++;
        lastSync.set(key, { at: manager.clock.now(), ...(requestedAt ? { requestedAt } : {}), ...(generation !== undefined ? { generation } : {}) });
      } else {
        commit = repo.status.lastFetchedRevision;
        gitdir = join(opts.cacheRoot, namespace, name);
        await git.readCommit({ fs, gitdir, oid: commit, cache });
      }
    } catch (err) {
      // A failed fetch changes nothing in the cluster: no apply, and above all no prune.
      gitCaches.delete(key);
      const message = err instanceof GitSyncError ? err.message : `fetch of ${redactUrl(repo.spec.url)} failed: ${err instanceof Error ? err.message : String(err)}`;
      metrics.errors.inc({ namespace, name, kind: 'fetch' });
      log.warn({ err: message }, 'fetch failed');
      await writeStatus(repo, { ...repo.status }, { type: 'Ready', status: 'False', reason: err instanceof GitSyncError ? err.code : 'FetchFailed', message });
      await events.record(involved(repo), 'Warning', 'FetchFailed', message);
      return { requeueAfterMs: Math.min(requeue.requeueAfterMs, 30_000) };
    }

    phase.fetched = performance.now();
    const path = manifestPath(repo);
    const previous = { inventory: previousInventory(repo), errors: repo.status?.errors ?? [] };
    const prevRevision = repo.status?.lastAppliedRevision;
    // A cache that lost the last applied commit (a restarted pod, an emptied cache dir) cannot diff from it: read everything.
    const full = !prevRevision || repo.status?.observedGeneration !== generation || !(await inCache(gitdir, prevRevision, cache));
    const toRead = new Map<string, string | undefined>(); // file → blob (undefined: deleted)
    const problems: SyncError[] = [];
    try {
      if (full) {
        const listing = await listManifestFiles({ fs, gitdir, commit, path, cache });
        for (const f of listing.files) toRead.set(f.file, f.oid);
        problems.push(...listing.problems.map((p) => ({ file: p.file, message: p.message })));
      } else {
        if (prevRevision !== commit) {
          const diff = await changedFiles({ fs, gitdir, oldCommit: prevRevision, newCommit: commit, path, cache });
          for (const c of diff.changes) toRead.set(c.file, c.change === 'deleted' ? undefined : c.oid);
          problems.push(...diff.problems.map((p) => ({ file: p.file, message: p.message })));
        }
        // Drift: a git-managed job deleted or edited by hand gets its file applied again.
        const drifted = previous.inventory.filter((e) => e.file && !toRead.has(e.file) && isDrifted(jobs.get(namespace, e.name)));
        // Files refused last time are retried on each poll: quota frees up, RBAC gets granted, the webhook comes back.
        const retry = due ? [...new Set(previous.errors.map((e) => e.file))].filter((f) => !toRead.has(f)) : [];
        if (drifted.length || retry.length) {
          const listing = await listManifestFiles({ fs, gitdir, commit, path, cache });
          const blobs = new Map(listing.files.map((f) => [f.file, f.oid]));
          for (const e of drifted) toRead.set(e.file!, blobs.get(e.file!));
          for (const f of retry) if (blobs.has(f)) toRead.set(f, blobs.get(f));
          if (drifted.length) log.info({ jobs: drifted.map((e) => e.name) }, 'correcting drift');
        }
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await writeStatus(repo, { ...repo.status, lastFetchedRevision: commit }, { type: 'Ready', status: 'False', reason: err instanceof GitSyncError ? err.code : 'ReadFailed', message });
      await events.record(involved(repo), 'Warning', 'ReadFailed', message);
      return requeue;
    }

    phase.read = performance.now();
    const outcomes: FileOutcome[] = [];
    for (const [file, oid] of toRead) outcomes.push(oid ? await applyFile(repo, file, oid, gitdir, commit, cache, log) : { file, jobs: [], errors: [] });
    const touched = new Set([...toRead.keys(), ...problems.map((p) => p.file)]);
    const next = nextInventory(previous, [...outcomes, ...problems.map((p) => ({ file: p.file, jobs: previous.inventory.filter((e) => e.file === p.file), errors: [p] }))], touched, full);

    const plan = prunePlan(previous.inventory, next.inventory, { prune: pruneEnabled(repo), revision: commit, ...(repo.metadata?.annotations?.[CONFIRM_PRUNE_ANNOTATION] ? { confirmed: repo.metadata.annotations[CONFIRM_PRUNE_ANNOTATION] } : {}) });
    let inventory = next.inventory;
    const pruned: string[] = [];
    if (plan.blocked) {
      // Until confirmed, the jobs stay and stay in the inventory.
      inventory = [...inventory, ...previous.inventory.filter((e) => !inventory.some((n) => n.name === e.name))].sort((a, b) => a.name.localeCompare(b.name));
      metrics.errors.inc({ namespace, name, kind: 'prune' });
      await events.record(involved(repo), 'Warning', 'PruneBlocked', plan.blocked);
    }
    for (const jobName of plan.delete) {
      // Only jobs this repository created: the label says so.
      const live = jobs.get(namespace, jobName);
      if (!live || live.metadata?.labels?.[REPOSITORY_LABEL] !== repositoryLabelValue({ namespace, name })) continue;
      try {
        // As the repository's ServiceAccount, like the applies: it may only delete what it may manage.
        await custom.deleteNamespacedCustomObject({ group: GROUP, version: V1, namespace, plural: TRAININGJOB_PLURAL, name: jobName }, actingAs(repo));
        pruned.push(jobName);
      } catch (err) {
        if (isApiError(err, 404)) continue;
        await events.record(involved(repo), 'Warning', 'PruneFailed', `${jobName}: ${applyErrorMessage(err)}`);
        throw err;
      }
    }

    phase.applied = performance.now();
    const newErrors = next.errors.filter((e) => !previous.errors.some((p) => deepEqual(p, e)));
    for (const e of newErrors) await events.record(involved(repo), 'Warning', 'ManifestRejected', `${e.file}${e.line ? `:${e.line}` : ''}: ${e.message}`);
    if (next.errors.length) metrics.errors.inc({ namespace, name, kind: 'file' }, newErrors.length);
    const applied = outcomes.flatMap((o) => o.jobs).length;
    if (toRead.size || pruned.length || prevRevision !== commit) {
      await events.record(involved(repo), 'Normal', 'Synced', `revision ${commit.slice(0, 12)}: ${toRead.size} files read, ${applied} jobs applied, ${pruned.length} pruned${next.errors.length ? `, ${next.errors.length} errors` : ''}`);
    }
    const ready = plan.blocked
      ? { status: 'False' as const, reason: 'PruneBlocked', message: plan.blocked }
      : next.errors.length
        ? { status: 'False' as const, reason: 'ManifestErrors', message: `revision ${commit.slice(0, 12)} applied with ${next.errors.length} error${next.errors.length === 1 ? '' : 's'} in ${new Set(next.errors.map((e) => e.file)).size} file(s); first: ${next.errors[0]!.file}${next.errors[0]!.line ? `:${next.errors[0]!.line}` : ''}: ${next.errors[0]!.message}` }
        : { status: 'True' as const, reason: 'Synced', message: `revision ${commit.slice(0, 12)}: ${inventory.length} jobs` };
    // A blocked prune leaves the sync unfinished: the next one diffs from the same revision again, so the deletions are
    // still seen (and a confirmation can let them proceed) instead of being forgotten.
    const done = plan.blocked ? { lastAppliedRevision: prevRevision, observedGeneration: repo.status?.observedGeneration } : { lastAppliedRevision: commit, observedGeneration: generation };
    await writeStatus(repo, { ...repo.status, lastFetchedRevision: commit, inventory: inventory.map(formatInventoryEntry), errors: next.errors, ...done }, { type: 'Ready', ...ready });
    metrics.lastSuccess.set({ namespace, name }, manager.clock.now() / 1000);
    if (toRead.size || pruned.length || prevRevision !== commit) {
      const ms = (a: number, b: number) => Math.round(b - a);
      log.info({ revision: commit, files: toRead.size, applied, pruned: pruned.length, errors: next.errors.length, inventory: inventory.length, ms: { fetch: ms(phase.start, phase.fetched), read: ms(phase.fetched, phase.read), apply: ms(phase.read, phase.applied), status: ms(phase.applied, performance.now()) } }, 'synced');
    }
    if (done.lastAppliedRevision === commit) {
      if (prevRevision && prevRevision !== commit) metrics.revision.remove({ namespace, name, revision: prevRevision });
      metrics.revision.set({ namespace, name, revision: commit }, 1);
    }
    return requeue;
  }

  async function inCache(gitdir: string, oid: string, cache: object): Promise<boolean> {
    try {
      await git.readCommit({ fs, gitdir, oid, cache });
      return true;
    } catch {
      return false;
    }
  }

  /** The last sync's inventory; the jobs' labels stand in for entries that no longer parse. */
  function previousInventory(repo: JobRepository): InventoryEntry[] {
    const stored = repo.status?.inventory ?? [];
    let parsed = parsedInventories.get(stored);
    if (!parsed) parsedInventories.set(stored, (parsed = parseInventory(stored)));
    if (parsed.length === stored.length) return parsed;
    // Entries an earlier version wrote as objects come back as {} under today's schema: the jobs' own labels still say
    // which ones this repository created, so none of them escapes a prune.
    const namespace = repo.metadata!.namespace!;
    const label = repositoryLabelValue({ namespace, name: repo.metadata!.name! });
    const known = new Set(parsed.map((e) => e.name));
    const labelled = jobs.list(namespace).filter((j) => j.metadata?.labels?.[REPOSITORY_LABEL] === label && !known.has(j.metadata.name!));
    return [...parsed, ...labelled.map((j) => ({ name: j.metadata!.name!, ...(j.metadata?.annotations?.[SOURCE_PATH_ANNOTATION] ? { file: j.metadata.annotations[SOURCE_PATH_ANNOTATION] } : {}) }))];
  }

  // Edited by someone else after our last apply (a field manager other than ours, newer than ours), or gone.
  function isDrifted(job: (TrainingJob & KubeObject) | undefined): boolean {
    if (!job) return true;
    let drifted = driftOf.get(job);
    if (drifted === undefined) driftOf.set(job, (drifted = editedByOthers(job)));
    return drifted;
  }

  function editedByOthers(job: TrainingJob & KubeObject): boolean {
    const fields = (job.metadata as { managedFields?: Array<{ manager?: string; time?: string; fieldsV1?: { 'f:spec'?: unknown } }> } | undefined)?.managedFields ?? [];
    const ours = fields.filter((f) => f.manager === GITOPS_MANAGER).map((f) => f.time ?? '').sort().at(-1) ?? '';
    // managedFields times have whole seconds: an edit in the same second as our apply counts (a spare re-apply is harmless).
    return fields.some((f) => f.manager !== GITOPS_MANAGER && f.manager !== CONTROLLER_NAME && f.fieldsV1?.['f:spec'] !== undefined && (f.time ?? '') >= ours);
  }

  async function applyFile(repo: JobRepository, file: string, oid: string, gitdir: string, revision: string, cache: object, log: ReconcileContext['logger']): Promise<FileOutcome> {
    const namespace = repo.metadata!.namespace!;
    const blob = await readManifestBlob({ fs, gitdir, file, oid, cache });
    if ('message' in blob) return { file, jobs: [], errors: [{ file, message: blob.message }] };
    const entries = manifestsOfFile({ file, text: blob.text, repository: { namespace, name: repo.metadata!.name! }, revision });
    const outcome: FileOutcome = { file, jobs: [], errors: [] };
    const options = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply, actingAs(repo));
    for (const e of entries) {
      if ('message' in e) {
        outcome.errors.push({ file, line: e.line, message: e.message });
        continue;
      }
      const obj = e.object as { apiVersion: string; kind: string; metadata: { name: string } };
      outcome.jobs.push({ name: obj.metadata.name, file });
      try {
        // status.source follows from the labels and annotations of this apply (controller/trainingjob/source.ts).
        await custom.patchNamespacedCustomObject({ group: GROUP, version: obj.apiVersion.split('/')[1]!, namespace, plural: TRAININGJOB_PLURAL, name: obj.metadata.name, body: obj, fieldManager: GITOPS_MANAGER, force: true }, options);
      } catch (err) {
        const message = applyErrorMessage(err);
        log.info({ file, line: e.line, job: obj.metadata.name }, 'apply refused');
        outcome.errors.push({ file, line: e.line, message });
      }
    }
    return outcome;
  }

  async function authOf(repo: JobRepository): Promise<{ auth?: GitAuth }> {
    const ref = repo.spec.secretRef?.name;
    if (!ref) return {};
    // The API's words only: the raw error carries per-request headers, and a message that changes on every try
    // rewrote the status each time, which triggered the next try at once (a hot loop until the Secret appeared).
    const secret = await core.readNamespacedSecret({ name: ref, namespace: repo.metadata!.namespace! }).catch((err: unknown) => {
      throw new Error(`reading Secret ${repo.metadata!.namespace!}/${ref}: ${applyErrorMessage(err)}`);
    });
    const get = (k: string) => (secret.data?.[k] ? Buffer.from(secret.data[k], 'base64').toString('utf8') : undefined);
    const token = get('token');
    if (token) return { auth: { token } };
    const username = get('username');
    const password = get('password');
    return username && password ? { auth: { username, password } } : {};
  }

  async function writeStatus(repo: JobRepository, status: JobRepository['status'], ready: { type: string; status: 'True' | 'False'; reason: string; message: string }): Promise<void> {
    const conditions = setCondition(repo.status?.conditions ?? [], { ...ready, ...(repo.metadata?.generation !== undefined ? { observedGeneration: repo.metadata.generation } : {}) }, now().toISOString());
    const next = { ...status, conditions };
    const before = (repo.status ?? {}) as Record<string, unknown>;
    if (deepEqual(next, before)) return;
    // Only the fields that changed: an unchanged inventory of thousands of entries is not sent again.
    const changed: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(next)) if (!deepEqual(v, before[k])) changed[k] = v ?? null;
    for (const k of Object.keys(before)) if (!(k in next)) changed[k] = null;
    await custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: V1, namespace: repo.metadata!.namespace!, plural: JOBREPOSITORY_PLURAL, name: repo.metadata!.name!, body: { status: changed } }, merge);
    if (repo.metadata?.uid) written.set(repo.metadata.uid, next);
  }

  /** Request options that make a write on the repository's behalf as its spec.serviceAccountName (none: the controller's own identity). */
  function actingAs(repo: JobRepository) {
    const sa = repo.spec.serviceAccountName;
    return sa ? setHeaderOptions('Impersonate-User', `system:serviceaccount:${repo.metadata!.namespace!}:${sa}`) : undefined;
  }

  function involved(repo: JobRepository) {
    return { apiVersion: `${GROUP}/${V1}`, kind: JOBREPOSITORY_KIND, namespace: repo.metadata!.namespace!, name: repo.metadata!.name!, uid: repo.metadata?.uid };
  }

  return { syncNow };
}
