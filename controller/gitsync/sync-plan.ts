// Pure decisions of a sync: what to prune (and whether that is safe), and how inventory and
// per-file errors carry over from the last sync for files that did not change.
import type { InventoryEntry, SyncError } from '../../api/index.ts';

/** Above this share of the inventory, a prune waits for confirmation (a repository emptied by mistake). */
export const MAX_PRUNE_SHARE = 0.5;

export interface FileOutcome {
  file: string;
  /** Jobs the file declares (applied or not: a rejected job stays in the inventory, so it is not pruned). */
  jobs: InventoryEntry[];
  errors: SyncError[];
}

export interface CarryOver {
  inventory: InventoryEntry[];
  errors: SyncError[];
}

/** Inventory and errors after a sync that re-read `touched` files (everything when `full`). */
export function nextInventory(previous: CarryOver, outcomes: readonly FileOutcome[], touched: ReadonlySet<string>, full: boolean): CarryOver {
  const kept = full ? { inventory: [], errors: [] } : {
    inventory: previous.inventory.filter((e) => !e.file || !touched.has(e.file)),
    errors: previous.errors.filter((e) => !touched.has(e.file)),
  };
  const inventory = [...kept.inventory, ...outcomes.flatMap((o) => o.jobs)];
  const seen = new Set<string>();
  return {
    inventory: inventory.filter((e) => (seen.has(e.name) ? false : (seen.add(e.name), true))).sort((a, b) => a.name.localeCompare(b.name)),
    errors: [...kept.errors, ...outcomes.flatMap((o) => o.errors)].sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0)),
  };
}

export interface PrunePlan {
  delete: string[];
  /** Set when the deletions wait for `ml.example.com/confirm-prune: <revision>`. */
  blocked?: string;
}

export function prunePlan(previous: readonly InventoryEntry[], next: readonly InventoryEntry[], opts: { prune: boolean; revision: string; confirmed?: string }): PrunePlan {
  if (!opts.prune) return { delete: [] };
  const keep = new Set(next.map((e) => e.name));
  const gone = previous.filter((e) => !keep.has(e.name)).map((e) => e.name);
  // Out of every job either revision declares: a blocked sync keeps both, so the next one sees the same numbers.
  const known = new Set([...previous, ...next].map((e) => e.name)).size;
  const limit = Math.max(1, Math.floor(known * MAX_PRUNE_SHARE));
  if (gone.length > limit && opts.confirmed !== opts.revision) {
    return { delete: [], blocked: `revision ${opts.revision.slice(0, 12)} would delete ${gone.length} of ${known} jobs (more than ${Math.round(MAX_PRUNE_SHARE * 100)}%); annotate the JobRepository with ml.example.com/confirm-prune=${opts.revision} to proceed` };
  }
  return { delete: gone };
}

/** Go-style durations of a JobRepository interval: "30s", "5m", "1h30m". */
export function parseInterval(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    matched = re.lastIndex;
  }
  return matched === text.length && matched > 0 ? total : undefined;
}
