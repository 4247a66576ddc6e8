// The controller's Prometheus metrics, named as in seeds 000/001 so existing dashboards and
// alerts keep working; each manager gets its own registry. Git sync's series live here too.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const trainingJobStates = ['Pending', 'Queued', 'Initializing', 'Running', 'Restarting', 'Suspended', 'Completed', 'Failed'] as const;

export interface ControllerMetrics {
  registry: Registry;
  created: Counter<'namespace'>;
  completed: Counter<'namespace'>;
  failed: Counter<'namespace' | 'reason'>;
  activeWorkers: Gauge<'namespace' | 'name'>;
  allocatedGpus: Gauge<'namespace' | 'name'>;
  state: Gauge<'namespace' | 'name' | 'state'>;
  progress: Gauge<'namespace' | 'name'>;
  currentEpoch: Gauge<'namespace' | 'name'>;
  loss: Gauge<'namespace' | 'name'>;
  accuracy: Gauge<'namespace' | 'name'>;
  reconcileDuration: Histogram<'controller' | 'result'>;
  errors: Counter<'controller' | 'kind'>;
  gpuQuota: Gauge<'namespace'>;
  pendingJobs: Gauge<'namespace'>;
  pendingGpus: Gauge<'namespace'>;
  borrowedGpus: Gauge<'namespace'>;
  preemptions: Counter<'namespace' | 'reason'>;
  preemptionLostGpuHours: Counter<'namespace'>;
  startupTimeouts: Counter<'namespace'>;
}

/** Queued jobs and the GPUs they ask for, and GPUs running jobs borrow from the cohort, per namespace. */
export type QueueTotals = ReadonlyMap<string, { jobs: number; gpus: number; borrowed: number }>;

export interface ControllerMetricsOptions {
  defaultMetrics?: boolean;
  /** GPU quota per namespace, read at each scrape; undefined exports no series (a standby replica). */
  gpuQuotas?: () => ReadonlyMap<string, number> | undefined;
  /** Queue totals per namespace, read at each scrape; undefined exports no series (a standby replica). */
  queueTotals?: () => QueueTotals | undefined;
}

export function createControllerMetrics(opts: ControllerMetricsOptions = {}): ControllerMetrics {
  const { gpuQuotas, queueTotals } = opts;
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'trainingjob_controller_' });
  const registers = [registry];
  const perJob = ['namespace', 'name'] as const;
  return {
    registry,
    created: new Counter({ name: 'trainingjob_created_total', help: 'TrainingJobs seen for the first time by the controller.', labelNames: ['namespace'], registers }),
    completed: new Counter({ name: 'trainingjob_completed_total', help: 'TrainingJobs that reached Completed.', labelNames: ['namespace'], registers }),
    failed: new Counter({ name: 'trainingjob_failed_total', help: 'TrainingJobs that reached Failed, by reason.', labelNames: ['namespace', 'reason'], registers }),
    activeWorkers: new Gauge({ name: 'trainingjob_active_workers', help: 'Worker pods running per TrainingJob.', labelNames: perJob, registers }),
    allocatedGpus: new Gauge({ name: 'trainingjob_allocated_gpus', help: 'GPUs held per TrainingJob.', labelNames: perJob, registers }),
    state: new Gauge({ name: 'trainingjob_state', help: '1 for the current state of each TrainingJob (one series per job: other states have none).', labelNames: ['namespace', 'name', 'state'], registers }),
    progress: new Gauge({ name: 'trainingjob_progress_percent', help: 'Training progress in percent (epochs done / total).', labelNames: perJob, registers }),
    currentEpoch: new Gauge({ name: 'trainingjob_current_epoch', help: 'Current epoch reported by rank 0.', labelNames: perJob, registers }),
    loss: new Gauge({ name: 'trainingjob_loss', help: 'Latest training loss reported by rank 0.', labelNames: perJob, registers }),
    accuracy: new Gauge({ name: 'trainingjob_accuracy', help: 'Latest training accuracy reported by rank 0.', labelNames: perJob, registers }),
    reconcileDuration: new Histogram({
      name: 'trainingjob_operator_reconcile_duration_seconds',
      help: 'Time spent in one reconcile, by controller and result.',
      labelNames: ['controller', 'result'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    errors: new Counter({ name: 'trainingjob_operator_errors_total', help: 'Reconcile errors by controller and kind (transient, terminal, conflict).', labelNames: ['controller', 'kind'], registers }),
    gpuQuota: new Gauge({
      name: 'trainingjob_gpu_quota',
      help: 'GPU quota of each namespace: the smallest gpuQuota of the TrainingPolicies that select it.',
      labelNames: ['namespace'],
      registers,
      // Computed at scrape time from the caches, so a deleted policy or namespace never leaves a stale series.
      collect() {
        this.reset();
        for (const [namespace, quota] of gpuQuotas?.() ?? []) this.set({ namespace }, quota);
      },
    }),
    preemptions: new Counter({ name: 'trainingjob_preemptions_total', help: 'Running TrainingJobs suspended to make room for a higher-priority one, by reason.', labelNames: ['namespace', 'reason'], registers }),
    preemptionLostGpuHours: new Counter({ name: 'trainingjob_preemption_lost_gpu_hours_total', help: 'GPU-hours preempted jobs had done since their last checkpoint (dated from the epoch count, so at most a scrape period off): the work preemption threw away.', labelNames: ['namespace'], registers }),
    startupTimeouts: new Counter({ name: 'trainingjob_startup_timeouts_total', help: 'Started TrainingJobs requeued because not every worker was running within the startupTimeoutSeconds of their policy.', labelNames: ['namespace'], registers }),
    pendingJobs: new Gauge({
      name: 'trainingjob_queue_pending_jobs',
      help: 'TrainingJobs waiting Queued, per namespace.',
      labelNames: ['namespace'],
      registers,
      collect() {
        this.reset();
        for (const [namespace, t] of queueTotals?.() ?? []) if (t.jobs > 0) this.set({ namespace }, t.jobs);
      },
    }),
    pendingGpus: new Gauge({
      name: 'trainingjob_queue_pending_gpus',
      help: 'GPUs asked for by the TrainingJobs waiting Queued, per namespace.',
      labelNames: ['namespace'],
      registers,
      collect() {
        this.reset();
        for (const [namespace, t] of queueTotals?.() ?? []) if (t.jobs > 0) this.set({ namespace }, t.gpus);
      },
    }),
    borrowedGpus: new Gauge({
      name: 'trainingjob_borrowed_gpus',
      help: 'GPUs a cohort member\'s running TrainingJobs use beyond its own quota, borrowed from the cohort (reclaimable), per namespace.',
      labelNames: ['namespace'],
      registers,
      collect() {
        this.reset();
        for (const [namespace, t] of queueTotals?.() ?? []) if (t.borrowed > 0) this.set({ namespace }, t.borrowed);
      },
    }),
  };
}

/** Sets the per-job gauges for one job, and the state one-hot; called after each status update. */
export function recordJobGauges(m: ControllerMetrics, job: { namespace: string; name: string; state: string; activeWorkers: number; gpus: number; progress?: number; epoch?: number; loss?: number; accuracy?: number }): void {
  const l = { namespace: job.namespace, name: job.name };
  m.activeWorkers.set(l, job.activeWorkers);
  m.allocatedGpus.set(l, job.gpus);
  // Only the current state's series: eight per job would be 40,000 series (most of /metrics) at 5,000 jobs; sums and `== 1` read the same.
  for (const s of trainingJobStates) if (s !== job.state) m.state.remove({ ...l, state: s });
  m.state.set({ ...l, state: job.state }, 1);
  if (job.progress !== undefined) m.progress.set(l, job.progress);
  if (job.epoch !== undefined) m.currentEpoch.set(l, job.epoch);
  if (job.loss !== undefined) m.loss.set(l, job.loss);
  if (job.accuracy !== undefined) m.accuracy.set(l, job.accuracy);
}

/** Drops every per-job series of a deleted job, so gauges do not outlive their jobs. */
export function forgetJob(m: ControllerMetrics, namespace: string, name: string): void {
  const l = { namespace, name };
  for (const g of [m.activeWorkers, m.allocatedGpus, m.progress, m.currentEpoch, m.loss, m.accuracy]) g.remove(l);
  for (const s of trainingJobStates) m.state.remove({ ...l, state: s });
}

export interface GitSyncMetrics {
  duration: Histogram<'result'>;
  lastSuccess: Gauge<'namespace' | 'name'>;
  revision: Gauge<'namespace' | 'name' | 'revision'>;
  errors: Counter<'namespace' | 'name' | 'kind'>;
}

export function createGitSyncMetrics(registry: Registry): GitSyncMetrics {
  const registers = [registry];
  return {
    duration: new Histogram({ name: 'trainingjob_gitsync_duration_seconds', help: 'Time of one JobRepository sync, by result.', labelNames: ['result'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers }),
    lastSuccess: new Gauge({ name: 'trainingjob_gitsync_last_success_timestamp_seconds', help: 'When the repository last synced without a fetch failure.', labelNames: ['namespace', 'name'], registers }),
    revision: new Gauge({ name: 'trainingjob_gitsync_revision_info', help: '1 for the revision last applied.', labelNames: ['namespace', 'name', 'revision'], registers }),
    errors: new Counter({ name: 'trainingjob_gitsync_errors_total', help: 'Sync problems by kind: fetch, file (per-file errors), prune.', labelNames: ['namespace', 'name', 'kind'], registers }),
  };
}

/** Drops a repository's gauges when it is deleted (all) or suspended (last success), so the staleness alert never fires for it. */
export async function forgetRepository(m: GitSyncMetrics, namespace: string, name: string, opts: { keepRevision?: boolean } = {}): Promise<void> {
  m.lastSuccess.remove({ namespace, name });
  if (opts.keepRevision) return;
  for (const { labels } of (await m.revision.get()).values) {
    if (labels.namespace === namespace && labels.name === name) m.revision.remove({ namespace, name, revision: String(labels.revision) });
  }
}
