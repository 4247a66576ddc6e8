// What the JobRepository reconciler keeps between reconciles, per repository; a new leader starts with none of it.
import type { InventoryEntry, JobRepository } from '../../api/index.ts';

// Fetches one isomorphic-git cache serves before a fresh one: each fetch adds a pack that the cache may come to hold.
const GIT_CACHE_FETCHES = 20;

export interface GitCache {
  cache: object;
  fetches: number;
}

export interface SyncState {
  // When each repository last fetched, and which requestedAt and generation that answered (a new leader syncs everything once).
  lastSync: Map<string, { at: number; requestedAt?: string; generation?: number }>;
  // requestedAt values a push hook received here, not yet seen on the object.
  requestedHere: Map<string, string>;
  // The status this replica last wrote, by uid: right after our write the informer may still hold the one before it.
  written: Map<string, NonNullable<JobRepository['status']>>;
  // isomorphic-git's object cache per repository: a fresh one re-reads and re-verifies every pack index on each reconcile.
  gitCaches: Map<string, GitCache>;
  // Drift verdicts by job object: the informer replaces an object on every change, so an unchanged job is judged once.
  driftOf: WeakMap<object, boolean>;
  // Parsed inventories by the status array they came from: every reconcile of a repository reads the same one.
  parsedInventories: WeakMap<readonly unknown[], InventoryEntry[]>;
  /** The repository with the status this replica last wrote in place of the informer's (syncing from an older one would redo or undo the last sync). */
  current(repo: JobRepository): JobRepository;
  /** The repository's git object cache, renewed after GIT_CACHE_FETCHES fetches so the packs it holds stay few. */
  gitCacheOf(key: string): GitCache;
  /** Forgets a deleted repository. */
  forget(key: string): void;
}

export function createSyncState(): SyncState {
  const state: SyncState = {
    lastSync: new Map(),
    requestedHere: new Map(),
    written: new Map(),
    gitCaches: new Map(),
    driftOf: new WeakMap(),
    parsedInventories: new WeakMap(),
    current(repo) {
      const mine = repo.metadata?.uid ? state.written.get(repo.metadata.uid) : undefined;
      return mine ? { ...repo, status: mine } : repo;
    },
    gitCacheOf(key) {
      let entry = state.gitCaches.get(key);
      if (!entry || entry.fetches >= GIT_CACHE_FETCHES) state.gitCaches.set(key, (entry = { cache: {}, fetches: 0 }));
      return entry;
    },
    forget(key) {
      state.lastSync.delete(key);
      state.gitCaches.delete(key);
    },
  };
  return state;
}
