// A JobRepository's status as one reconcile decides it, and its one write: only the leader writes, once per reconcile.
import { GROUP, JOBREPOSITORY_PLURAL, V1, type JobRepository, type JobRepositoryStatus } from '../../api/index.ts';
import { deepEqual } from '../../api/json.ts';
import type { Clock } from '../../clock/clock.ts';
import type { KubeClient } from '../../kube/index.ts';
import { setCondition } from '../trainingjob/conditions.ts';

/** The Ready condition, as `kubectl describe`, Argo CD's health check and the alerts read it. */
export interface Ready {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** What one reconcile decided: Ready, and the status fields its steps set (the others keep their values). */
export interface StatusDecision {
  ready: Ready;
  fields?: Pick<JobRepositoryStatus, 'lastFetchedRevision' | 'inventory' | 'errors' | 'lastAppliedRevision' | 'observedGeneration'>;
}

export const SUSPENDED: Ready = { status: 'False', reason: 'Suspended', message: 'syncing is suspended (spec.suspend)' };

export interface WriteStatusOptions {
  client: KubeClient;
  clock: Clock;
  /** The status this replica last wrote, by uid: kept current here, the one writer. */
  written: Map<string, NonNullable<JobRepository['status']>>;
}

/** Writes what changed of the decided status; nothing when it is what the repository already shows. */
export async function writeStatus({ client, clock, written }: WriteStatusOptions, repo: JobRepository, decided: StatusDecision): Promise<void> {
  const status = { ...repo.status, ...decided.fields };
  const conditions = setCondition(repo.status?.conditions ?? [], { type: 'Ready', ...decided.ready, ...(repo.metadata?.generation !== undefined ? { observedGeneration: repo.metadata.generation } : {}) }, new Date(clock.now()).toISOString());
  const next = { ...status, conditions };
  const before = (repo.status ?? {}) as Record<string, unknown>;
  if (deepEqual(next, before)) return;
  // Only the fields that changed: an unchanged inventory of thousands of entries is not sent again.
  const changed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(next)) if (!deepEqual(v, before[k])) changed[k] = v ?? null;
  for (const k of Object.keys(before)) if (!(k in next)) changed[k] = null;
  await client.patchStatus({ group: GROUP, version: V1, namespace: repo.metadata!.namespace!, plural: JOBREPOSITORY_PLURAL, name: repo.metadata!.name! }, { status: changed });
  if (repo.metadata?.uid) written.set(repo.metadata.uid, next);
}
