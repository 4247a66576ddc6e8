// POST /hooks/:namespace/:name — a fastify plugin that verifies a GitHub, Gitea or GitLab push hook against the
// JobRepository's secret in constant time and asks for an immediate sync. Only the raw body is hashed, never a re-encoding.
import { createHmac, createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { Counter, type Registry } from 'prom-client';

export interface PushReceiverOptions {
  /** The repository's webhook secret, or undefined when there is no such repository (or it has no secret). */
  secretFor(namespace: string, name: string): Promise<string | undefined>;
  /** Asks for an immediate sync (the real one sets the ml.example.com/requestedAt annotation). */
  requestSync(namespace: string, name: string): Promise<void>;
  /** Counts refused hooks by reason; or give `registry` and one is created there. */
  rejected?: Counter<'reason'>;
  registry?: Registry;
  /** Push payloads are small; GitHub caps them at 25 MB, most are a few KB. */
  bodyLimit?: number;
}

export const HOOK_ROUTE = '/hooks/:namespace/:name';
export const DEFAULT_HOOK_BODY_LIMIT = 1024 * 1024;
export const HOOK_REJECTED_METRIC = 'trainingjob_gitsync_hook_rejected_total';

export type HookVerdict = 'ok' | 'missing' | 'invalid';

export function hookRejectedCounter(registry: Registry): Counter<'reason'> {
  return new Counter({ name: HOOK_REJECTED_METRIC, help: 'Push hooks refused, by reason (missing or invalid signature).', labelNames: ['reason'], registers: [registry] });
}

// Constant time in the provided value's length too: unequal lengths still run one comparison.
function constantTimeEqual(provided: Buffer, expected: Buffer): boolean {
  const sameLength = provided.length === expected.length;
  return timingSafeEqual(sameLength ? provided : expected, expected) && sameLength;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Which provider signed the request decides the check; a request with no known header is 'missing'. */
export function verifyHook(headers: Record<string, string | string[] | undefined>, body: Buffer, secret: string): HookVerdict {
  const hmac = () => createHmac('sha256', secret).update(body).digest('hex');
  const github = header(headers, 'x-hub-signature-256');
  if (github !== undefined) {
    return constantTimeEqual(Buffer.from(github.toLowerCase()), Buffer.from(`sha256=${hmac()}`)) ? 'ok' : 'invalid';
  }
  const gitea = header(headers, 'x-gitea-signature');
  if (gitea !== undefined) return constantTimeEqual(Buffer.from(gitea.toLowerCase()), Buffer.from(hmac())) ? 'ok' : 'invalid';
  const gitlab = header(headers, 'x-gitlab-token');
  if (gitlab !== undefined) {
    // Hash both sides so the comparison length never depends on the secret's.
    const digest = (s: string) => createHash('sha256').update(s).digest();
    return constantTimeEqual(digest(gitlab), digest(secret)) ? 'ok' : 'invalid';
  }
  return 'missing';
}

export const pushReceiver: FastifyPluginAsync<PushReceiverOptions> = async (app: FastifyInstance, opts: PushReceiverOptions) => {
  if (typeof opts.secretFor !== 'function' || typeof opts.requestSync !== 'function') throw new TypeError('pushReceiver needs secretFor and requestSync');
  if (!opts.rejected && !opts.registry) throw new TypeError('pushReceiver needs a rejected counter or a registry');
  const rejected = opts.rejected ?? hookRejectedCounter(opts.registry as Registry);
  const bodyLimit = opts.bodyLimit ?? DEFAULT_HOOK_BODY_LIMIT;

  // Encapsulated: every content type (JSON, form-encoded, none) stays the exact bytes that were signed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));

  app.post<{ Params: { namespace: string; name: string } }>(HOOK_ROUTE, { bodyLimit }, async (request, reply) => {
    const { namespace, name } = request.params;
    const secret = await opts.secretFor(namespace, name);
    if (secret === undefined || secret === '') return reply.code(404).send({ error: `no JobRepository ${namespace}/${name} with a webhook secret` });
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const verdict = verifyHook(request.headers, body, secret);
    if (verdict !== 'ok') {
      rejected.inc({ reason: verdict });
      request.log.warn({ namespace, name, reason: verdict }, 'push hook refused');
      return reply.code(401).send({ error: verdict === 'missing' ? 'missing signature (X-Hub-Signature-256, X-Gitea-Signature or X-Gitlab-Token)' : 'signature does not match' });
    }
    try {
      await opts.requestSync(namespace, name);
    } catch (err) {
      request.log.error({ err, namespace, name }, 'push hook verified but the sync request failed');
      return reply.code(503).send({ error: 'could not request a sync; the next poll will still pick the push up' });
    }
    return reply.code(202).send({ status: 'sync requested', repository: `${namespace}/${name}` });
  });
};
