// The manager: shared informers, one work queue per controller, a shared client rate limiter,
// and leader election so only one replica's workers ever run. Caches fill on every replica
// (a standby that takes over starts with warm caches); workers start only once leading.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../clock/clock.ts';
import { createInformer, resourcePath, type CacheTransform, type Informer, type ResourceRef } from '../../kube/informer.ts';
import { createKubeClient, type KubeClient } from '../../kube/client.ts';
import { objectKey, type KubeObject } from '../../kube/kube-object.ts';
import { startLeaderElection, type LeaderElection } from './leader-election.ts';
import { createRateLimiter, DEFAULT_CLIENT_BURST, DEFAULT_CLIENT_QPS, type RateLimiter } from '../../kube/rate-limiter.ts';
import { createWorkQueue, type QueueMetrics, type ReconcileOutcome, type WorkQueue, type WorkQueueOptions } from './work-queue.ts';

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  /** Defaults to `<hostname>_<random>`, unique per process. */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  watchLease?: boolean;
}

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** Omit to run without election (one replica, tests). */
  leaderElection?: LeaderElectionConfig;
  /**
   * Sustained API requests per second shared by all controllers; default 50 (DEFAULT_CLIENT_QPS,
   * also the CLI's). Raise it for large fleets: each new TrainingJob costs about 4 writes (3 applies, 1 status), so
   * ≥ 50 jobs/s needs about `clientQps: 300, clientBurst: 600` (and apiserver priority-and-fairness room).
   */
  clientQps?: number;
  /** Requests allowed at once after a quiet spell; default 100 (DEFAULT_CLIENT_BURST). */
  clientBurst?: number;
  userAgent?: string;
  /** Per-controller queue observers (depth, adds, retries, work duration). */
  queueMetrics?(controller: string): QueueMetrics;
  clock?: Clock;
}

export interface InformerRequest {
  labelSelector?: string;
  fieldSelector?: string;
  /** Re-deliver every object as an update this often; default 10 minutes, 0 for never. */
  resyncMs?: number;
  /**
   * Trims every object before it is cached (see InformerOptions.transform). Shared informers have
   * one transform: whoever asks with one must be the first to ask, or ask with the same function.
   */
  transform?: CacheTransform;
}

export interface ReconcileContext {
  /** Aborts when this replica stops leading or the manager shuts down. */
  signal: AbortSignal;
  logger: Logger;
}

/** One source of events for a controller and how its objects map to the keys to reconcile. */
export interface WatchSpec {
  informer: Informer<KubeObject>;
  /** Defaults to the object's own `namespace/name`. */
  keys?(obj: KubeObject): string[];
}

export interface ControllerSpec {
  name: string;
  workers?: number;
  /** Level-triggered: works only from the key and current state; throw to retry with backoff. */
  reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileOutcome>;
  watches: WatchSpec[];
  queue?: Pick<WorkQueueOptions, 'baseDelayMs' | 'maxDelayMs' | 'jitter'>;
}

export interface Controller {
  readonly name: string;
  readonly queue: WorkQueue;
}

export interface Manager {
  /** A shared informer (one per resource and selector); started with the manager. */
  informer<T extends KubeObject>(resource: ResourceRef, opts?: InformerRequest): Informer<T>;
  addController(spec: ControllerSpec): Controller;
  /** The controllers' client: every call waits for the shared rate limiter. */
  readonly client: KubeClient;
  readonly rateLimiter: RateLimiter;
  /** The one clock of this manager: its queues, rate limiter and leases, and the reconcilers' timestamps. */
  readonly clock: Clock;
  readonly identity: string;
  isLeader(): boolean;
  /** Every informer has listed once: the readiness check. */
  hasSynced(): boolean;
  /**
   * Runs until `signal` aborts (graceful: stop taking keys, finish in-flight reconciles, release
   * the lease) and resolves; rejects with LeadershipLostError when the lease is lost: exit then.
   */
  start(signal: AbortSignal): Promise<void>;
}

export class LeadershipLostError extends Error {
  readonly code = 'LeadershipLost';
  constructor(lease: string) {
    super(`lost the leader lease ${lease}; exiting so that two replicas never act at once`);
    this.name = 'LeadershipLostError';
  }
}

/** A WatchSpec from a typed informer and key mapper, e.g. `watchOf(jobs, controllerOwnerKey({ apiVersion, kind }))`. */
export function watchOf<T extends KubeObject>(informer: Informer<T>, keys?: (obj: T) => string[]): WatchSpec {
  return { informer: informer as unknown as Informer<KubeObject>, keys: keys as ((obj: KubeObject) => string[]) | undefined };
}

const DEFAULT_RESYNC_MS = 10 * 60_000;

export function createManager(opts: ManagerOptions): Manager {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger;
  const identity = opts.leaderElection?.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
  const rateLimiter = createRateLimiter({ qps: opts.clientQps ?? DEFAULT_CLIENT_QPS, burst: opts.clientBurst ?? DEFAULT_CLIENT_BURST, clock });
  const userAgent = opts.userAgent ?? 'trainingjob-manager';
  const informers = new Map<string, Informer<KubeObject>>();
  const transforms = new Map<string, CacheTransform | undefined>();
  const controllers: Array<{ spec: ControllerSpec; queue: WorkQueue }> = [];
  let started = false;
  let leading = false;

  const informer = <T extends KubeObject>(resource: ResourceRef, req: InformerRequest = {}): Informer<T> => {
    const id = `${resourcePath(resource)}?l=${req.labelSelector ?? ''}&f=${req.fieldSelector ?? ''}`;
    let inf = informers.get(id);
    // A reader that expects whole objects would silently miss fields another caller trimmed away.
    if (inf && req.transform && transforms.get(id) !== req.transform) throw new Error(`informer ${id} already exists with a different cache transform`);
    if (!inf) {
      inf = createInformer<KubeObject>({
        kubeConfig: opts.kubeConfig,
        resource,
        logger: log,
        labelSelector: req.labelSelector,
        fieldSelector: req.fieldSelector,
        resyncMs: req.resyncMs ?? DEFAULT_RESYNC_MS,
        ...(req.transform ? { transform: req.transform } : {}),
        clock,
      });
      informers.set(id, inf);
      transforms.set(id, req.transform);
      if (started) inf.start();
    }
    return inf as unknown as Informer<T>;
  };

  const addController = (spec: ControllerSpec): Controller => {
    const clog = log.child({ controller: spec.name });
    const queue = createWorkQueue({
      ...spec.queue,
      clock,
      metrics: opts.queueMetrics?.(spec.name),
      onError: (key, err) => clog.warn({ key, err }, 'reconcile failed; retrying with backoff'),
    });
    for (const w of spec.watches) {
      const keysOf = w.keys ?? ((obj: KubeObject) => [objectKey(obj)]);
      const enqueue = (obj: KubeObject): void => {
        for (const k of keysOf(obj)) queue.add(k);
      };
      w.informer.on({
        add: enqueue,
        update: (oldObj, obj) => {
          enqueue(obj);
          // An object that changed owner (or labels a mapper reads) also wakes the keys it used to map to.
          if (oldObj !== obj) enqueue(oldObj);
        },
        delete: enqueue,
      });
    }
    controllers.push({ spec, queue });
    return { name: spec.name, queue };
  };

  const runWorkers = (signal: AbortSignal): void => {
    for (const { spec, queue } of controllers) {
      const clog = log.child({ controller: spec.name });
      clog.info({ workers: spec.workers ?? 1 }, 'starting workers');
      queue.run(spec.workers ?? 1, (key) => spec.reconcile(key, { signal, logger: clog.child({ key }) }));
    }
  };

  const drainQueues = async (): Promise<void> => {
    await Promise.all(controllers.map(({ queue }) => queue.shutDown()));
  };

  const start = async (signal: AbortSignal): Promise<void> => {
    if (started) throw new Error('manager already started');
    started = true;
    for (const inf of informers.values()) inf.start();
    const stopInformers = async (): Promise<void> => {
      await Promise.all([...informers.values()].map((i) => i.stop()));
    };
    const synced = await Promise.all([...informers.values()].map((i) => i.waitForSync(signal)));
    if (signal.aborted || synced.includes(false)) {
      await drainQueues();
      await stopInformers();
      return;
    }
    log.info({ informers: informers.size }, 'caches synced');

    const workCtrl = new AbortController();
    const stopWork = (): void => workCtrl.abort(new Error('manager stopping'));
    signal.addEventListener('abort', stopWork, { once: true });
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });

    const le = opts.leaderElection;
    if (!le) {
      leading = true;
      runWorkers(workCtrl.signal);
      await aborted;
      await drainQueues();
      leading = false;
      await stopInformers();
      return;
    }

    const lease = `${le.namespace}/${le.name}`;
    // Lease calls bypass the client rate limiter: a renewal queued behind a burst of reconciles could cost the lease.
    const election: LeaderElection = startLeaderElection({
      kubeConfig: opts.kubeConfig,
      namespace: le.namespace,
      name: le.name,
      identity,
      leaseDurationMs: le.leaseDurationMs,
      renewDeadlineMs: le.renewDeadlineMs,
      retryPeriodMs: le.retryPeriodMs,
      watchLease: le.watchLease,
      clock,
      logger: log,
      onStartedLeading: (leadSignal) => {
        leading = true;
        leadSignal.addEventListener('abort', () => workCtrl.abort(leadSignal.reason), { once: true });
        runWorkers(workCtrl.signal);
      },
      onStoppedLeading: () => {
        leading = false;
      },
    });
    const end = await Promise.race([aborted.then(() => 'aborted' as const), election.done]);
    if (end === 'lost') {
      stopWork();
      await drainQueues();
      await stopInformers();
      throw new LeadershipLostError(lease);
    }
    // Graceful: no new keys, in-flight reconciles finish, then the lease is released for a standby.
    await drainQueues();
    await election.stop();
    leading = false;
    await stopInformers();
  };

  return {
    informer,
    addController,
    client: createKubeClient({ kubeConfig: opts.kubeConfig, limiter: rateLimiter, userAgent }),
    rateLimiter,
    clock,
    identity,
    isLeader: () => leading,
    hasSynced: () => [...informers.values()].every((i) => i.hasSynced()),
    start,
  };
}
