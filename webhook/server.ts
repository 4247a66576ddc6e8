// Runs the webhook app over HTTPS; the serving certificate can be swapped without a restart.
import type { KubeConfig, V1Node } from '@kubernetes/client-node';
import type { Server } from 'node:https';
import { pino, type Logger } from 'pino';
import { GROUP, TRAININGJOB_PLURAL, V1 } from '../api/index.ts';
import { createInformer, createKubeClient, type Informer, type KubeObject } from '../kube/index.ts';
import { trackPersistedJobs } from './persisted-jobs.ts';
import { buildApp } from './app.ts';
import { cachedFacts } from './cached-facts.ts';
import { kubeClusterFacts, type ClusterFacts } from './cluster-facts.ts';
import { nodeGpuInfo, trimNode } from '../kube/gpu-nodes.ts';
import { informerJobs } from './informer-jobs.ts';
import { keyedLock } from './keyed-lock.ts';
import { configMapLedgerStore, rememberingLedgerStore } from './ledger-store.ts';
import { createWebhookMetrics, recordServingCertificate, type WebhookMetrics } from './metrics.ts';
import { systemClock, type Clock } from '../clock/clock.ts';

export interface WebhookServerOptions {
  kubeConfig: KubeConfig;
  tls: { key: string; cert: string };
  host?: string;
  port?: number;
  /** Namespace holding the GPU ledger ConfigMaps (the webhook's own). */
  ledgerNamespace: string;
  logger?: Logger;
  metrics?: WebhookMetrics;
  /** How long policies and namespace labels are reused before a re-read (a new policy applies within it). */
  factsTtlMs?: number;
  clock?: Clock;
}

export interface WebhookServer {
  url: string;
  port: number;
  metrics: WebhookMetrics;
  /** Serve a rotated certificate to new connections. */
  updateCertificate(tls: { key: string; cert: string }): void;
  /**
   * Stop gracefully: /readyz answers 503 and every response says `Connection: close` for drainMs,
   * so callers move to other replicas while Service routing still lists this one; then close.
   */
  close(drainMs?: number): Promise<void>;
}

// Job lists and nodes come from this replica's watches; namespaces, policies and quotas from the apiserver.
function withWatches(facts: ClusterFacts, informer: Informer<KubeObject>, nodes: Informer<KubeObject>, clock: Clock): ClusterFacts {
  return { ...facts, jobs: informerJobs({ informer, fallback: (ns, rv) => facts.jobs(ns, rv), clock }), nodes: async () => nodes.list().map((n) => nodeGpuInfo(n as V1Node)) };
}

export async function startWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const metrics = opts.metrics ?? createWebhookMetrics();
  recordServingCertificate(metrics, opts.tls.cert);
  // One client (one keep-alive pool) for the facts and the ledger.
  const client = createKubeClient({ kubeConfig: opts.kubeConfig, userAgent: 'trainingjob-webhook' });
  const logger = opts.logger ?? pino({ level: 'silent' });
  // Watching TrainingJobs lets reservations retire as soon as their job is persisted (see persisted-jobs.ts).
  const jobs = createInformer<KubeObject>({ kubeConfig: opts.kubeConfig, resource: { group: GROUP, version: V1, plural: TRAININGJOB_PLURAL }, logger, resyncMs: 0 });
  const clock = opts.clock ?? systemClock;
  const persisted = trackPersistedJobs(jobs, clock);
  const nodes = createInformer<KubeObject>({ kubeConfig: opts.kubeConfig, resource: { version: 'v1', plural: 'nodes' }, logger, resyncMs: 0, transform: trimNode });
  jobs.start();
  nodes.start();
  let draining = false;
  const direct = kubeClusterFacts(client);
  const app = buildApp({
    deps: {
      facts: cachedFacts(withWatches(direct, jobs, nodes, clock), opts.factsTtlMs ?? 2000, clock),
      policyFacts: direct,
      lock: keyedLock(),
      persisted,
      ledger: rememberingLedgerStore(configMapLedgerStore(client, opts.ledgerNamespace)),
      clock,
      onConflict: () => metrics.quotaConflicts.inc(),
    },
    logger: opts.logger,
    metrics,
    // A request that arrives while closing is still answered (with Connection: close), not refused with 503.
    server: { https: opts.tls, return503OnClosing: false },
    ready: () => !draining && jobs.hasSynced() && nodes.hasSynced(),
  });
  // Keep-alive connections outlive Service routing changes; closing each one after its answer sends the caller elsewhere.
  app.addHook('onSend', async (_req, reply) => {
    if (draining) void reply.header('connection', 'close');
  });
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ host, port: opts.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);
  opts.logger?.info({ host, port }, 'webhook listening');
  return {
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    metrics,
    updateCertificate(tls) {
      (app.server as Server).setSecureContext({ key: tls.key, cert: tls.cert });
      recordServingCertificate(metrics, tls.cert);
      opts.logger?.info('serving certificate updated');
    },
    async close(drainMs = 0) {
      draining = true;
      if (drainMs > 0) {
        opts.logger?.info({ drainMs }, 'draining: still answering while callers move to other replicas');
        await new Promise((resolve) => setTimeout(resolve, drainMs));
      }
      await app.close();
      await Promise.all([jobs.stop(), nodes.stop()]);
    },
  };
}
