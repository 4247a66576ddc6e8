// The prune step of a sync: the jobs this repository created whose manifests left it are deleted, with guards.
import { CONFIRM_PRUNE_ANNOTATION, GROUP, TRAININGJOB_PLURAL, V1, pruneEnabled, type InventoryEntry, type JobRepository, type TrainingJob } from '../../api/index.ts';
import { isNotFound, type Informer, type KubeClient, type KubeObject } from '../../kube/index.ts';
import type { EventRecorder } from '../events.ts';
import type { GitSyncMetrics } from '../metrics.ts';
import { applyErrorMessage } from './apply-error.ts';
import { actingAs, involved } from './repository-refs.ts';
import { REPOSITORY_LABEL, repositoryLabelValue } from './source-metadata.ts';
import { prunePlan } from './sync-plan.ts';
import type { Ready } from './sync-status.ts';

export interface Pruned {
  /** The inventory to record: while a prune is blocked or failed, the jobs it would delete stay in it. */
  inventory: InventoryEntry[];
  /** Jobs deleted. */
  deleted: string[];
  /** Ready=False PruneBlocked: the deletions wait for a confirmation. */
  blocked?: Ready;
  /** Ready=False PruneFailed, and the error of the delete the apiserver refused. */
  failed?: { ready: Ready; error: unknown };
}

export interface PruneStepOptions {
  repo: JobRepository;
  /** The revision applied, which a confirmation names. */
  revision: string;
  previous: readonly InventoryEntry[];
  next: InventoryEntry[];
  client: KubeClient;
  jobs: Informer<TrainingJob & KubeObject>;
  metrics: GitSyncMetrics;
  events: EventRecorder;
}

/**
 * Prune: deletes, as the repository's ServiceAccount, the jobs it created (its label says so) that left the inventory;
 * above MAX_PRUNE_SHARE of them only once the revision is confirmed. Decides, when blocked (a PruneBlocked event) or
 * when a delete fails (a PruneFailed event): Ready=False PruneBlocked or PruneFailed, an inventory that keeps the
 * previous sync's jobs, and lastAppliedRevision/observedGeneration left at the previous sync's.
 */
export async function pruneStep({ repo, revision, previous, next, client, jobs, metrics, events }: PruneStepOptions): Promise<Pruned> {
  const namespace = repo.metadata!.namespace!;
  const name = repo.metadata!.name!;
  const confirmed = repo.metadata?.annotations?.[CONFIRM_PRUNE_ANNOTATION];
  const plan = prunePlan(previous, next, { prune: pruneEnabled(repo), revision, ...(confirmed ? { confirmed } : {}) });
  if (plan.blocked) {
    metrics.errors.inc({ namespace, name, kind: 'prune' });
    await events.record(involved(repo), 'Warning', 'PruneBlocked', plan.blocked);
  }
  const deleted: string[] = [];
  for (const jobName of plan.delete) {
    // Only jobs this repository created: the label says so.
    const live = jobs.get(namespace, jobName);
    if (!live || live.metadata?.labels?.[REPOSITORY_LABEL] !== repositoryLabelValue({ namespace, name })) continue;
    try {
      // As the repository's ServiceAccount, like the applies: it may only delete what it may manage.
      await actingAs(client, repo).delete({ group: GROUP, version: V1, namespace, plural: TRAININGJOB_PLURAL, name: jobName });
      deleted.push(jobName);
    } catch (err) {
      if (isNotFound(err)) continue;
      const message = `${jobName}: ${applyErrorMessage(err)}`;
      await events.record(involved(repo), 'Warning', 'PruneFailed', message);
      return { inventory: keepingPrevious(next, previous), deleted, failed: { ready: { status: 'False', reason: 'PruneFailed', message }, error: err } };
    }
  }
  if (plan.blocked) return { inventory: keepingPrevious(next, previous), deleted, blocked: { status: 'False', reason: 'PruneBlocked', message: plan.blocked } };
  return { inventory: next, deleted };
}

// Until deleted, the previous sync's jobs stay in the inventory, so the next sync still sees them go.
function keepingPrevious(next: readonly InventoryEntry[], previous: readonly InventoryEntry[]): InventoryEntry[] {
  return [...next, ...previous.filter((e) => !next.some((n) => n.name === e.name))].sort((a, b) => a.name.localeCompare(b.name));
}
