// The JobRepository reconciler: get (gone: forget it) → suspend → fetch → read → apply → prune, each step in its own
// file; what the steps decide is written as the status once, at the end of every reconcile that reaches a decision.
import { GROUP, JOBREPOSITORY_PLURAL, REQUESTED_AT_ANNOTATION, TRAININGJOB_PLURAL, V1, formatInventoryEntry, syncInterval, type JobRepository, type TrainingJob } from '../../api/index.ts';
import type { EventRecorder } from '../events.ts';
import { splitKey, type DialGuard, type KubeObject } from '../../kube/index.ts';
import { forgetRepository, type GitSyncMetrics } from '../metrics.ts';
import { watchOf, type Manager, type ReconcileContext, type ReconcileResult } from '../runtime/index.ts';
import { previousInventory } from './previous-inventory.ts';
import { involved } from './repository-refs.ts';
import { repositoryOfJob } from './source-metadata.ts';
import { applyStep } from './step-apply.ts';
import { fetchStep } from './step-fetch.ts';
import { pruneStep } from './step-prune.ts';
import { readStep } from './step-read.ts';
import { parseInterval } from './sync-plan.ts';
import { createSyncState } from './sync-state.ts';
import { SUSPENDED, writeStatus, type StatusDecision } from './sync-status.ts';

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

export interface JobRepositoryController {
  /**
   * Starts a sync here at once when this replica leads, for the requestedAt value about to be written: the
   * annotation's own watch event then finds it answered instead of fetching a second time.
   */
  syncNow(namespace: string, name: string, requestedAt: string): void;
}

/** How a sync ended: the status it decided, and what follows once that is written. */
interface SyncEnd {
  decided: StatusDecision;
  requeue?: ReconcileResult;
  /** What a finished sync records once its status is written. */
  afterWrite?: () => void;
  /** Rethrown after the status write, so the work queue retries with backoff. */
  failed?: { error: unknown };
}

export function registerJobRepositoryController(opts: GitSyncOptions): JobRepositoryController {
  const { manager, events, metrics } = opts;
  const { clock } = manager;
  const { client } = manager;
  const repos = manager.informer<JobRepository & KubeObject>({ group: GROUP, version: V1, plural: JOBREPOSITORY_PLURAL });
  // The TrainingJob controller's informer: a second, label-selected cache would hold thousands of the same jobs again.
  const jobs = manager.informer<TrainingJob & KubeObject>({ group: GROUP, version: V1, plural: TRAININGJOB_PLURAL });
  const state = createSyncState();

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
    state.requestedHere.set(`${namespace}/${name}`, requestedAt);
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
      state.forget(key);
      await forgetRepository(metrics, namespace, name);
      return;
    }
    if (cached.metadata?.deletionTimestamp && cached.metadata.uid) state.written.delete(cached.metadata.uid);
    const repo = state.current(cached);
    const end = await runSteps(key, repo, ctx.logger.child({ jobrepository: key }));
    // The one status write of a reconcile, whichever step ended it.
    await writeStatus({ client, clock, written: state.written }, repo, end.decided);
    end.afterWrite?.();
    if (end.failed) throw end.failed.error;
    return end.requeue;
  }

  /** The steps of one sync, in order: each returns what it decided, and a failed one ends the sync. */
  async function runSteps(key: string, repo: JobRepository, log: ReconcileContext['logger']): Promise<SyncEnd> {
    const namespace = repo.metadata!.namespace!;
    const name = repo.metadata!.name!;
    const intervalMs = parseInterval(syncInterval(repo)) ?? 300_000;
    // Jitter spreads many repositories with the same interval over time.
    const requeue = { requeueAfterMs: Math.round(intervalMs * (0.9 + Math.random() * 0.2)) };
    if (repo.spec.suspend) {
      await forgetRepository(metrics, namespace, name, { keepRevision: true });
      return { decided: { ready: SUSPENDED } };
    }
    const requestedAt = state.requestedHere.get(key) ?? repo.metadata?.annotations?.[REQUESTED_AT_ANNOTATION];
    state.requestedHere.delete(key);
    const last = state.lastSync.get(key);
    const generation = repo.metadata?.generation;
    // Due from 0.9× on: the jittered requeue may come that early, and waiting another full interval would double it.
    const due = !last || clock.now() - last.at >= intervalMs * 0.9 || last.requestedAt !== requestedAt || last.generation !== generation;
    const phase = { start: performance.now(), fetched: 0, read: 0, applied: 0 };

    const fetched = await fetchStep({ repo, key, due, requestedAt, state, client, cacheRoot: opts.cacheRoot, dialGuard: opts.dialGuard, clock, metrics, events, log });
    // A failed fetch changes nothing in the cluster: no apply, and above all no prune.
    if ('failed' in fetched) return { decided: { ready: fetched.failed }, requeue: { requeueAfterMs: Math.min(requeue.requeueAfterMs, 30_000) } };
    const { commit } = fetched;
    phase.fetched = performance.now();

    const previous = { inventory: previousInventory({ repo, jobs, parsedInventories: state.parsedInventories }), errors: repo.status?.errors ?? [] };
    const read = await readStep({ repo, fetched, previous, due, jobs, driftOf: state.driftOf, events, log });
    if ('failed' in read) return { decided: { ready: read.failed, fields: { lastFetchedRevision: commit } }, requeue };
    phase.read = performance.now();

    const applied = await applyStep({ repo, fetched, read, previous, client, metrics, events, log });
    const pruned = await pruneStep({ repo, revision: commit, previous: previous.inventory, next: applied.next.inventory, client, jobs, metrics, events });
    phase.applied = performance.now();

    const prevRevision = repo.status?.lastAppliedRevision;
    const fields = { lastFetchedRevision: commit, inventory: pruned.inventory.map(formatInventoryEntry), errors: applied.next.errors };
    // A blocked or failed prune leaves the sync unfinished: the next one diffs from the same revision again, so the
    // deletions are still seen (and a confirmation can let them proceed) instead of being forgotten.
    const unfinished = { lastAppliedRevision: prevRevision, observedGeneration: repo.status?.observedGeneration };
    if (pruned.failed) return { decided: { ready: pruned.failed.ready, fields: { ...fields, ...unfinished } }, failed: { error: pruned.failed.error } };

    const changed = read.files.size > 0 || pruned.deleted.length > 0 || prevRevision !== commit;
    const errors = applied.next.errors.length;
    if (changed) {
      await events.record(involved(repo), 'Normal', 'Synced', `revision ${commit.slice(0, 12)}: ${read.files.size} files read, ${applied.jobs} jobs applied, ${pruned.deleted.length} pruned${errors ? `, ${errors} errors` : ''}`);
    }
    const done = pruned.blocked ? unfinished : { lastAppliedRevision: commit, observedGeneration: generation };
    const afterWrite = (): void => {
      metrics.lastSuccess.set({ namespace, name }, clock.now() / 1000);
      if (changed) {
        const ms = (a: number, b: number) => Math.round(b - a);
        log.info({ revision: commit, files: read.files.size, applied: applied.jobs, pruned: pruned.deleted.length, errors, inventory: pruned.inventory.length, ms: { fetch: ms(phase.start, phase.fetched), read: ms(phase.fetched, phase.read), apply: ms(phase.read, phase.applied), status: ms(phase.applied, performance.now()) } }, 'synced');
      }
      if (done.lastAppliedRevision === commit) {
        if (prevRevision && prevRevision !== commit) metrics.revision.remove({ namespace, name, revision: prevRevision });
        metrics.revision.set({ namespace, name, revision: commit }, 1);
      }
    };
    return { decided: { ready: pruned.blocked ?? applied.ready, fields: { ...fields, ...done } }, requeue, afterWrite };
  }

  return { syncNow };
}
