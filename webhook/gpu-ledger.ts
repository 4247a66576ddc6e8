// Race-free GPU quota across webhook replicas.
//
// Why a ledger: between our "allowed" and the apiserver persisting the job, another replica may
// admit a job that no list shows yet. So every admission that takes capacity records a
// reservation in one ConfigMap per namespace, written with a resourceVersion precondition
// (optimistic concurrency): two replicas deciding from the same ledger state cannot both write,
// the loser re-reads (now seeing the winner's reservation) and decides again. Usage is the listed
// jobs plus reservations whose job is not listed. A reservation is dropped once a writer's job
// list shows its job; that writer records the list's resourceVersion (`listedAt`) and every reader
// lists "not older than" it, so a job whose reservation is gone is always in the list, while the
// list itself still comes from the apiserver's cache. A reservation never listed (its create was
// refused later in the chain) expires after `pendingTtlMs`. A replica that dies mid-way leaves at
// most a reservation that expires: it errs on the side of "no", never past quota. A replica may
// start a reservation from the ledger it last read or wrote instead of reading it again: the
// conditional write fails if anyone wrote since, and refusals are always decided on a fresh read.
// The mutating step reserves (one webhook call per create); it is reinvoked if a later mutating
// webhook changes the job, and its reservation is keyed by name, so the last decision wins.
import { isQueued, type TrainingJob } from '../api/index.ts';
import { newerVersion } from '../kube/index.ts';

export interface Reservation {
  gpus: number;
  workers: number;
  /** ISO time the reservation was made. */
  at: string;
  /** For a release from the queue: the resourceVersion of the queued job it releases. */
  queuedVersion?: string;
}

export interface Ledger {
  entries: Record<string, Reservation>;
  /** resourceVersion of the stored ledger; undefined when none exists yet. */
  version: string | undefined;
  /** Job lists must be at least this fresh: a reservation was dropped because a list at it showed the job. */
  listedAt?: string;
}

export interface LedgerWrite {
  entries: Record<string, Reservation>;
  listedAt?: string;
}

export interface LedgerStore {
  /** The ledger as stored now (a quorum read). */
  read(namespace: string): Promise<Ledger>;
  /** Writes if the stored version still equals `version` (creates when undefined): the ledger as stored, or undefined on conflict. */
  write(namespace: string, next: LedgerWrite, version: string | undefined): Promise<Ledger | undefined>;
  /**
   * The ledger this replica last read or wrote, without a request. It may be stale (another replica
   * wrote since), so only a decision committed by a conditional write at its version may rely on it.
   */
  remembered?(namespace: string): Ledger | undefined;
}

// Admission requests time out after 60 s in the apiserver; a reservation outlives any of them.
export const pendingTtlMs = 90_000;

const alive = (r: Reservation, now: number): boolean => now - Date.parse(r.at) < pendingTtlMs;

/**
 * Whether a reservation's job is counted by the list itself: listed (or seen persisted at a version ≤ the list's, so in
 * it or gone since), unless the list still holds the queued version a release reserved for, or an older one: that list
 * predates the release, and shows the job holding nothing. Any later version of it includes the release. `use`: counting
 * usage now, or retiring the reservation for good (which needs proof of the release: a later version).
 */
function coveredBy(listed: readonly TrainingJob[], persisted: (name: string) => boolean, use: 'count' | 'retire'): (name: string, r: Reservation) => boolean {
  const byName = new Map(listed.map((j) => [j.metadata?.name, j]));
  return (name, r) => {
    const copy = byName.get(name);
    const version = copy?.metadata?.resourceVersion;
    // A lagging watch may list an even older version. Queued, it shows the job holding nothing; running (before a
    // preemption), it counts the job itself, but is no proof of the release: the reservation is kept until a newer list.
    const older = r.queuedVersion !== undefined && version !== undefined && (version === r.queuedVersion || newerVersion(r.queuedVersion, version));
    if (older && (use === 'retire' || (copy !== undefined && isQueued(copy)))) return false;
    return byName.has(name) || persisted(name);
  };
}

/**
 * Jobs not yet visible in `jobs` but reserved by an admission, as stand-ins the quota arithmetic
 * can count (same GPUs and one job each). The job being admitted is excluded: its own earlier
 * reservation (e.g. a retried apply) must not count against itself.
 */
export function pendingJobs(ledger: Ledger, namespace: string, jobs: readonly TrainingJob[], now: number, self: string, persisted: (name: string) => boolean = () => false): TrainingJob[] {
  const covered = coveredBy(jobs, persisted, 'count');
  return Object.entries(ledger.entries)
    .filter(([name, r]) => name !== self && !covered(name, r) && alive(r, now))
    .map(([name, r]) => ({
      apiVersion: 'ml.example.com/v1',
      kind: 'TrainingJob',
      metadata: { name, namespace },
      spec: { image: 'reserved', numWorkers: r.workers, gpusPerWorker: r.workers ? r.gpus / r.workers : 0 },
    }) as TrainingJob);
}

/**
 * The ledger after reserving `self`: expired entries and entries whose job is in `listed` (a list
 * at `listedRv`, itself not older than the ledger's listedAt) are dropped, and listedAt moves up.
 */
export function withReservation(ledger: Ledger, listed: readonly TrainingJob[], listedRv: string | undefined, now: number, self: string, r: Reservation, persisted: (name: string) => boolean = () => false): LedgerWrite {
  const covered = coveredBy(listed, persisted, 'retire');
  const live = Object.entries(ledger.entries).filter(([name, e]) => name !== self && alive(e, now));
  const kept = live.filter(([name, e]) => !covered(name, e));
  const dropped = kept.length < live.length;
  const listedAt = dropped && listedRv ? listedRv : ledger.listedAt;
  return { entries: Object.fromEntries([...kept, [self, r]]), ...(listedAt ? { listedAt } : {}) };
}
