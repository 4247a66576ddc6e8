// Race-free GPU quota across webhook replicas.
//
// Why a ledger: between our "allowed" and the apiserver persisting the job, another replica may
// admit a job that no list shows yet. So every admission that takes capacity records a
// reservation in one ConfigMap per namespace, written with a resourceVersion precondition
// (optimistic concurrency): two replicas deciding from the same ledger state cannot both write,
// the loser re-reads (now seeing the winner's reservation) and decides again. Usage is the jobs
// that exist plus reservations whose job does not exist yet; a reservation expires after
// `pendingTtlMs` (longer than any admission can take), so a job rejected later in the chain frees
// its GPUs. A replica that dies mid-way leaves at most a reservation that expires: it errs on
// the side of "no", never past quota.
import type { TrainingJob } from '../api/index.ts';

export interface Reservation {
  gpus: number;
  workers: number;
  /** ISO time the reservation was made. */
  at: string;
}

export interface Ledger {
  entries: Record<string, Reservation>;
  /** resourceVersion of the stored ledger; undefined when none exists yet. */
  version: string | undefined;
}

export interface LedgerStore {
  read(namespace: string): Promise<Ledger>;
  /** Writes if the stored version still equals `version` (creates when undefined); false on conflict. */
  write(namespace: string, entries: Record<string, Reservation>, version: string | undefined): Promise<boolean>;
}

// Admission requests time out after 60 s in the apiserver; a reservation outlives any of them.
export const pendingTtlMs = 90_000;

const alive = (r: Reservation, now: number): boolean => now - Date.parse(r.at) < pendingTtlMs;

/**
 * Jobs not yet visible in `jobs` but reserved by an admission, as stand-ins the quota arithmetic
 * can count (same GPUs and one job each). The job being admitted is excluded: its own earlier
 * reservation (e.g. a retried apply) must not count against itself.
 */
export function pendingJobs(ledger: Ledger, namespace: string, jobs: readonly TrainingJob[], now: number, self: string): TrainingJob[] {
  const existing = new Set(jobs.map((j) => j.metadata?.name));
  return Object.entries(ledger.entries)
    .filter(([name, r]) => name !== self && !existing.has(name) && alive(r, now))
    .map(([name, r]) => ({
      apiVersion: 'ml.example.com/v1',
      kind: 'TrainingJob',
      metadata: { name, namespace },
      spec: { image: 'reserved', numWorkers: r.workers, gpusPerWorker: r.workers ? r.gpus / r.workers : 0 },
    }) as TrainingJob);
}

/** The ledger after reserving `self`: entries whose job now exists or that expired are dropped. */
export function withReservation(ledger: Ledger, jobs: readonly TrainingJob[], now: number, self: string, r: Reservation): Record<string, Reservation> {
  const existing = new Set(jobs.map((j) => j.metadata?.name));
  const kept = Object.entries(ledger.entries).filter(([name, e]) => name !== self && !existing.has(name) && alive(e, now));
  return Object.fromEntries([...kept, [self, r]]);
}
