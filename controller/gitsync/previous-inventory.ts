// The jobs the last sync recorded for a repository: what this sync carries over, and what its prune may delete.
import { parseInventory, type InventoryEntry, type JobRepository, type TrainingJob } from '../../api/index.ts';
import type { Informer, KubeObject } from '../../kube/index.ts';
import { REPOSITORY_LABEL, SOURCE_PATH_ANNOTATION, repositoryLabelValue } from './source-metadata.ts';

export interface PreviousInventoryOptions {
  repo: JobRepository;
  jobs: Informer<TrainingJob & KubeObject>;
  parsedInventories: WeakMap<readonly unknown[], InventoryEntry[]>;
}

/** The last sync's inventory; the jobs' labels stand in for entries that no longer parse. */
export function previousInventory({ repo, jobs, parsedInventories }: PreviousInventoryOptions): InventoryEntry[] {
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
