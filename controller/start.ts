// Starts the controller manager with its HTTP endpoints: metrics (:8080 /metrics) and health
// (:8081 /healthz, /readyz). Used by `trainingjob controller`, the local cluster and tests.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createEventRecorder } from './events.ts';
import { createControllerMetrics, type ControllerMetrics } from './metrics.ts';
import { createManager, LeadershipLostError, type Manager } from './runtime/index.ts';
import { registerTrainingJobController } from './trainingjob/reconciler.ts';

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
}

export interface RunningController {
  manager: Manager;
  metrics: ControllerMetrics;
  metricsUrl: string;
  healthUrl: string;
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
    ...(opts.leaderElection ? { leaderElection: { name: 'trainingjob-controller', ...opts.leaderElection } } : {}),
    ...(opts.clientQps ? { clientQps: opts.clientQps } : {}),
    ...(opts.clientBurst ? { clientBurst: opts.clientBurst } : {}),
    userAgent: 'trainingjob-controller',
  });
  const metrics = createControllerMetrics();
  const events = createEventRecorder({ core: manager.apiClient(CoreV1Api), component: 'trainingjob-controller', logger: log });
  registerTrainingJobController({
    manager, metrics, events,
    ...(opts.workers ? { workers: opts.workers } : {}),
    ...(opts.progressIntervalMs ? { progressIntervalMs: opts.progressIntervalMs } : {}),
    ...(opts.queueRetryMs ? { queueRetryMs: opts.queueRetryMs } : {}),
    ...(opts.scrape ? { scrape: opts.scrape } : {}),
  });

  const metricsApp = Fastify();
  metricsApp.get('/metrics', async (_req, reply) => reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()));
  const healthApp = Fastify();
  healthApp.get('/healthz', async () => ({ status: 'ok' }));
  // Ready once every informer has listed: a standby replica is ready too (it serves as soon as it leads).
  healthApp.get('/readyz', async (_req, reply) => (manager.hasSynced() ? { status: 'ok', leader: manager.isLeader() } : reply.code(503).send({ status: 'caches not synced' })));
  const metricsUrl = await listen(metricsApp, opts.metricsAddress ?? '0.0.0.0:8080', 'metrics');
  let healthUrl: string;
  try {
    healthUrl = await listen(healthApp, opts.healthAddress ?? '0.0.0.0:8081', 'health');
  } catch (err) {
    await metricsApp.close();
    throw err;
  }

  const abort = new AbortController();
  const done = manager.start(abort.signal).finally(async () => {
    await Promise.all([metricsApp.close(), healthApp.close()]);
  });
  done.catch((err: unknown) => {
    if (err instanceof LeadershipLostError) log.error({ err }, 'leadership lost');
  });
  log.info({ metricsUrl, healthUrl, identity: manager.identity }, 'controller started');
  return {
    manager, metrics, metricsUrl, healthUrl, done,
    async stop() {
      abort.abort();
      await done.catch(() => undefined);
    },
  };
}
