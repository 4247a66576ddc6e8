// JobRepository ml.example.com/v1 (namespaced): a git repository of TrainingJob manifests to sync.
import type { Condition, LocalObjectReference, ObjectMeta } from './meta.ts';
import { DEFAULT_REPOSITORY_INTERVAL, DEFAULT_REPOSITORY_PATH, DEFAULT_REPOSITORY_PRUNE } from './defaults.ts';

// At most one is set; none means the remote's default branch.
export interface GitReference {
  branch?: string;
  tag?: string;
  commit?: string;
}

export interface JobRepositorySpec {
  url: string;
  ref?: GitReference;
  path?: string;
  interval?: string;
  secretRef?: LocalObjectReference;
  serviceAccountName?: string;
  prune?: boolean;
  suspend?: boolean;
}

/** A job this repository declares, and the file (under path) that declares it. */
export interface InventoryEntry {
  name: string;
  file?: string;
}

export interface SyncError {
  file: string;
  line?: number;
  message: string;
}

export interface JobRepositoryStatus {
  lastFetchedRevision?: string;
  lastAppliedRevision?: string;
  /** One string per job, `<name> <file>` (see formatInventoryEntry): thousands of objects would make every status write slow. */
  inventory?: string[];
  errors?: SyncError[];
  conditions?: Condition[];
  observedGeneration?: number;
}

export interface JobRepository {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec: JobRepositorySpec;
  status?: JobRepositoryStatus;
}

export function syncInterval(repo: JobRepository): string {
  return repo.spec.interval ?? DEFAULT_REPOSITORY_INTERVAL;
}

export function manifestPath(repo: JobRepository): string {
  return repo.spec.path ?? DEFAULT_REPOSITORY_PATH;
}

export function pruneEnabled(repo: JobRepository): boolean {
  return repo.spec.prune ?? DEFAULT_REPOSITORY_PRUNE;
}

export function isRepositorySuspended(repo: JobRepository): boolean {
  return repo.spec.suspend === true;
}

/** `<name> <file>`: a job name (DNS-1123) never holds a space, so the first one separates. */
export function formatInventoryEntry(e: InventoryEntry): string {
  return e.file ? `${e.name} ${e.file}` : e.name;
}

/**
 * Reads entries written by formatInventoryEntry. Anything else is skipped: the objects of earlier versions come back
 * as {} under today's schema (the apiserver prunes their fields), so the caller falls back on the jobs' labels.
 */
export function parseInventory(entries: readonly unknown[] | undefined): InventoryEntry[] {
  return (entries ?? []).flatMap((e): InventoryEntry[] => {
    if (typeof e !== 'string' || e === '') return [];
    const space = e.indexOf(' ');
    return space < 0 ? [{ name: e }] : [{ name: e.slice(0, space), file: e.slice(space + 1) }];
  });
}
