// Starts the controller manager with its HTTP endpoints: metrics (:8080 /metrics) and health
// (:8081 /healthz, /readyz). Used by `trainingjob controller`, the local cluster and tests.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { CONTROLLER_NAME, GROUP, JOBREPOSITORY_PLURAL, REQUESTED_AT_ANNOTATION, V1, type JobRepository } from '../api/index.ts';
import { registerJobRepositoryController } from './gitsync/reconciler.ts';
import { hookRejectedCounter, pushReceiver } from './gitsync/push-receiver.ts';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { backgroundEvents, createEventRecorder } from './events.ts';
import { leaderGpuQuotas, leaderQueueTotals } from './gpu-quota.ts';
import { createControllerMetrics, createGitSyncMetrics, type ControllerMetrics } from './metrics.ts';
import { createKubeClient, createRateLimiter, loopbackOnly, type KubeObject, type NonLoopbackDialError } from '../kube/index.ts';
import { createManager, LeadershipLostError, type Manager } from './runtime/index.ts';
import { registerTrainingJobController } from './trainingjob/reconciler.ts';

/** Half the reconcilers' default client QPS: events are worth less to the apiserver than the writes they describe. */
const EVENTS_QPS = 25;
const EVENTS_BURST = 50;
/** How long a stopping controller keeps sending queued events (the lease is already released by then). */
const EVENTS_DRAIN_MS = 5_000;

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** host:port; port 0 picks a free one. */
  metricsAddress?: string;
  healthAddress?: string;
  /** Omit to run without leader election (a single replica). */
  leaderElection?: { namespace: string; name?: string; identity?: string; leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  clientQps?: number;
  clientBurst?: number;
  workers?: number;
  progressIntervalMs?: number;
  queueRetryMs?: number;
  scrape?: (url: string, signal: AbortSignal) => Promise<string>;
  /** POST /hooks/<namespace>/<name> for Git push notifications (default 0.0.0.0:9292). */
  hooksAddress?: string;
  /** Where JobRepositories are fetched to (default: a folder under the system temp dir). */
  gitCacheDir?: string;
  /**
   * Local clusters and tests: rank 0's metrics and JobRepository URLs outside 127.0.0.0/8 and ::1 are
   * refused before any packet leaves, and each refusal is reported here (a deployment leaves this unset).
   */
  onNonLoopbackDial?: (err: NonLoopbackDialError) => void;
}

export interface RunningController {
  manager: Manager;
  metrics: ControllerMetrics;
  metricsUrl: string;
  healthUrl: string;
  hooksUrl: string;
  /** Settles when the manager stops: resolves after stop(), rejects with LeadershipLostError. */
  done: Promise<void>;
  stop(): Promise<void>;
}

function splitAddress(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(addr.slice(i + 1)) };
}

async function listen(app: FastifyInstance, address: string, what: string): Promise<string> {
  const { host, port } = splitAddress(address);
  try {
    await app.listen({ host, port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`${what} address ${address} is already in use; choose another with --${what}-addr`);
    throw err;
  }
  const a = app.server.address();
  const bound = typeof a === 'object' && a ? a.port : port;
  return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}`;
}

export async function startController(opts: ControllerOptions): Promise<RunningController> {
  const log = opts.logger;
  const manager = createManager({
    kubeConfig: opts.kubeConfig,
    logger: log,
    ...(opts.leaderElection ? { leaderElection: { name: CONTROLLER_NAME, ...opts.leaderElection } } : {}),
    ...(opts.clientQps ? { clientQps: opts.clientQps } : {}),
    ...(opts.clientBurst ? { clientBurst: opts.clientBurst } : {}),
    userAgent: CONTROLLER_NAME,
  });
  const metrics = createControllerMetrics({ gpuQuotas: leaderGpuQuotas(manager), queueTotals: leaderQueueTotals(manager) });
  const dialGuard = opts.onNonLoopbackDial ? { dialGuard: loopbackOnly(opts.onNonLoopbackDial) } : {};
  // Events get their own client and limiter: they must not queue behind reconciles for the shared tokens, and a
  // wave of thousands of new jobs must not send thousands of events at once (a burst beyond the queue drops the oldest).
  const eventLimiter = createRateLimiter({ qps: EVENTS_QPS, burst: EVENTS_BURST, clock: manager.clock });
  const eventClient = createKubeClient({ kubeConfig: opts.kubeConfig, limiter: eventLimiter, userAgent: CONTROLLER_NAME });
  const events = backgroundEvents(createEventRecorder({ client: eventClient, component: CONTROLLER_NAME, logger: log, clock: manager.clock }));
  registerTrainingJobController({
    manager, metrics, events,
    ...(opts.workers ? { workers: opts.workers } : {}),
    ...(opts.progressIntervalMs ? { progressIntervalMs: opts.progressIntervalMs } : {}),
    ...(opts.queueRetryMs ? { queueRetryMs: opts.queueRetryMs } : {}),
    ...(opts.scrape ? { scrape: opts.scrape } : {}),
    ...dialGuard,
  });

  const hookRejected = hookRejectedCounter(metrics.registry);
  const gitSync = registerJobRepositoryController({ manager, events, metrics: createGitSyncMetrics(metrics.registry), cacheRoot: opts.gitCacheDir ?? join(tmpdir(), 'trainingjob-git-cache'), ...dialGuard });
  const repos = manager.informer<JobRepository & KubeObject>({ group: GROUP, version: V1, plural: JOBREPOSITORY_PLURAL });
  const { client } = manager;
  const hooksApp = Fastify();
  await hooksApp.register(pushReceiver, {
    rejected: hookRejected,
    // The hook secret is the key `hookSecret` of the repository's secretRef Secret.
    async secretFor(namespace, name) {
      const ref = repos.get(namespace, name)?.spec.secretRef?.name;
      if (!ref) return undefined;
      const secret = await client.get<V1Secret>({ version: 'v1', plural: 'secrets', namespace, name: ref }).catch(() => undefined);
      const value = secret?.data?.hookSecret;
      return value ? Buffer.from(value, 'base64').toString('utf8') : undefined;
    },
    // An annotation, so whichever replica leads does the sync; the leader starts it without waiting for the write.
    async requestSync(namespace, name) {
      const requestedAt = new Date(manager.clock.now()).toISOString();
      gitSync.syncNow(namespace, name, requestedAt);
      await client.patch({ group: GROUP, version: V1, namespace, plural: JOBREPOSITORY_PLURAL, name }, { metadata: { annotations: { [REQUESTED_AT_ANNOTATION]: requestedAt } } });
    },
  });

  const metricsApp = Fastify();
  metricsApp.get('/metrics', async (_req, reply) => reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()));
  const healthApp = Fastify();
  healthApp.get('/healthz', async () => ({ status: 'ok' }));
  // Ready once every informer has listed: a standby replica is ready too (it serves as soon as it leads).
  healthApp.get('/readyz', async (_req, reply) => (manager.hasSynced() ? { status: 'ok', leader: manager.isLeader() } : reply.code(503).send({ status: 'caches not synced' })));
  const metricsUrl = await listen(metricsApp, opts.metricsAddress ?? '0.0.0.0:8080', 'metrics');
  let healthUrl: string;
  let hooksUrl: string;
  try {
    healthUrl = await listen(healthApp, opts.healthAddress ?? '0.0.0.0:8081', 'health');
    hooksUrl = await listen(hooksApp, opts.hooksAddress ?? '0.0.0.0:9292', 'hooks');
  } catch (err) {
    await Promise.all([metricsApp.close(), healthApp.close()]);
    throw err;
  }

  const abort = new AbortController();
  const done = manager.start(abort.signal).finally(async () => {
    // Events are rate-limited, so a burst can leave a long queue: a stopping pod has a grace period to keep.
    const dropped = await events.drain(EVENTS_DRAIN_MS);
    if (dropped) log.warn({ dropped }, 'events still queued at shutdown were not sent');
    await Promise.all([metricsApp.close(), healthApp.close(), hooksApp.close()]);
  });
  done.catch((err: unknown) => {
    if (err instanceof LeadershipLostError) log.error({ err }, 'leadership lost');
  });
  log.info({ metricsUrl, healthUrl, hooksUrl, identity: manager.identity }, 'controller started');
  return {
    manager, metrics, metricsUrl, healthUrl, hooksUrl, done,
    async stop() {
      abort.abort();
      await done.catch(() => undefined);
    },
  };
}
