// The webhook's fastify app: AdmissionReview routes, /convert, health and metrics. `listen` is
// elsewhere (server.ts), so tests drive this with app.inject() and assert on the bytes sent.
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { admissionResponse, parseAdmissionReview, type AdmissionRequest, type Verdict } from './admission-review.ts';
import { mutateTrainingJob, validateTrainingJob, validateTrainingPolicyRequest, type AdmitDeps } from './admit.ts';
import { convertReview } from './conversion-review.ts';
import { describeApiError } from '../kube/api-error.ts';
import { createWebhookMetrics, type WebhookMetrics } from './metrics.ts';

export const routes = {
  mutateTrainingJob: '/mutate-ml-example-com-v1-trainingjob',
  validateTrainingJob: '/validate-ml-example-com-v1-trainingjob',
  validateTrainingPolicy: '/validate-ml-example-com-v1-trainingpolicy',
  convert: '/convert',
} as const;

export interface AppOptions {
  deps: AdmitDeps;
  logger?: Logger;
  metrics?: WebhookMetrics;
  /** Extra fastify options, e.g. `https` for the real server. */
  server?: Partial<FastifyServerOptions> & { https?: { key: string; cert: string } };
  /** False while certificates or caches are not ready: /readyz answers 503. */
  ready?: () => boolean;
}

// The apiserver caps an object at ~3 MiB; twice that is room for oldObject on UPDATE.
export const bodyLimit = 7 * 1024 * 1024;

type Handler = (req: AdmissionRequest) => Promise<Verdict>;

export function buildApp(opts: AppOptions): FastifyInstance {
  const metrics = opts.metrics ?? createWebhookMetrics();
  const app = Fastify({
    bodyLimit,
    loggerInstance: opts.logger,
    // One line per request would drown the log; denials and errors are logged by the handlers.
    logController: new LogController({ disableRequestLogging: true }),
    // Plain JSON only; a prototype-poisoning key is refused rather than silently dropped.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ...(opts.server as object),
  } as FastifyServerOptions) as unknown as FastifyInstance;

  // Every error (bad JSON, too large, wrong content type) is the client's: answer 4xx, never 5xx.
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
    void reply.code(status).send({ error: err.message });
  });

  const review = (webhook: string, handler: Handler) => async (request: { body: unknown }, reply: { code(n: number): { send(b: unknown): unknown } }) => {
    const started = process.hrtime.bigint();
    const parsed = parseAdmissionReview(request.body);
    if (!parsed.ok) {
      metrics.badRequests.inc({ webhook });
      return reply.code(400).send({ error: parsed.message });
    }
    const req = parsed.request;
    let verdict: Verdict;
    try {
      verdict = await handler(req);
    } catch (err) {
      // Facts could not be read (apiserver down, RBAC): refuse clearly; failurePolicy decides the rest.
      opts.logger?.error({ err, uid: req.uid, webhook }, 'admission evaluation failed');
      verdict = { allowed: false, code: 500, reason: 'InternalError', denials: [{ field: '', reason: 'InternalError', message: `trainingjob webhook could not evaluate the request: ${describeApiError(err)}` }] };
    }
    metrics.requests.inc({ webhook, operation: req.operation, allowed: String(verdict.allowed) });
    for (const d of verdict.allowed ? [] : (verdict.denials ?? [])) metrics.denials.inc({ webhook, reason: d.reason });
    metrics.duration.observe({ webhook }, Number(process.hrtime.bigint() - started) / 1e9);
    if (!verdict.allowed) opts.logger?.info({ uid: req.uid, webhook, namespace: req.namespace, name: req.name, reasons: verdict.denials?.map((d) => d.reason) }, 'denied');
    return reply.code(200).send(admissionResponse(req.uid, verdict));
  };

  const deps = opts.deps;
  app.post(routes.mutateTrainingJob, review('mutate-trainingjob', (r) => mutateTrainingJob(deps, r)));
  app.post(routes.validateTrainingJob, review('validate-trainingjob', (r) => validateTrainingJob(deps, r)));
  app.post(routes.validateTrainingPolicy, review('validate-trainingpolicy', (r) => validateTrainingPolicyRequest(r, { ...opts.deps.facts, ...opts.deps.policyFacts })));
  app.post(routes.convert, async (request, reply) => {
    const res = convertReview(request.body);
    if (!res.ok) {
      metrics.conversions.inc({ result: 'BadRequest' });
      return reply.code(400).send({ error: res.message });
    }
    metrics.conversions.inc({ result: res.review.response.result.status });
    return reply.code(200).send(res.review);
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => (opts.ready && !opts.ready() ? reply.code(503).send({ status: 'not ready' }) : { status: 'ok' }));
  app.get('/metrics', async (_req, reply) => reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()));
  return app;
}
