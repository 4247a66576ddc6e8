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

export interface InventoryEntry {
  apiVersion: string;
  kind: string;
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
  inventory?: InventoryEntry[];
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
