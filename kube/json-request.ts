// Plain JSON requests to the apiserver with the KubeConfig's credentials. The generated clients
// turn timestamps into Date objects (and cannot write a Lease's MicroTime faithfully), and spend
// ~1.3 ms of CPU per call on fetch and model (de)serialization: informers, the lease lock and the
// reconciler's writes want the objects exactly as the apiserver sent them, cheaply.
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest } from 'node:http';
import { ApiException, type KubeConfig } from '@kubernetes/client-node';

export interface JsonRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the server URL, e.g. `/api/v1/namespaces/default/configmaps`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  userAgent?: string;
  /** Extra request headers, e.g. `impersonate-user`. */
  headers?: Record<string, string>;
}

// One keep-alive pool per KubeConfig: a TLS handshake per request cost the apiserver more than the request.
// TLS options travel with each request, not the pool: a rotated client certificate gets its own sockets.
const pools = new WeakMap<KubeConfig, HttpAgent>();
// Idle sockets are closed before the apiserver's own idle timeout (90 s) can reset them under a request.
const IDLE_SOCKET_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 30_000;

function poolFor(kubeConfig: KubeConfig, plain: boolean): HttpAgent {
  let pool = pools.get(kubeConfig);
  if (!pool) {
    pool = plain ? new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }) : new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
    pools.set(kubeConfig, pool);
  }
  return pool;
}

/** Sends one request; resolves with the parsed body of a 2xx answer, throws ApiException (with `.code`) otherwise. */
export async function requestJson<T>(kubeConfig: KubeConfig, req: JsonRequest): Promise<T> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/$/, '') + req.path);
  for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const opts: RequestOptions = { method: req.method ?? 'GET', headers: {} };
  // Per request: a rotated bearer token (in-cluster, exec plugins) is read again.
  await kubeConfig.applyToHTTPSOptions(opts);
  const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
  const plain = url.protocol === 'http:';
  opts.headers = {
    ...opts.headers,
    accept: 'application/json',
    ...(req.userAgent ? { 'user-agent': req.userAgent } : {}),
    ...req.headers,
    ...(payload ? { 'content-type': req.contentType ?? 'application/json', 'content-length': payload.length } : {}),
  };
  // Through a proxy, client-node's own agent; its direct agent does not keep connections alive.
  if (!cluster.proxyUrl) opts.agent = poolFor(kubeConfig, plain);
  try {
    return await send<T>(url, opts, req, payload, plain);
  } catch (err) {
    // A reused connection reset before any answer: most likely closed while idle, but the server may have
    // acted on the request, so only methods that are safe to repeat are sent again (a POST would 409).
    if (err instanceof StaleConnectionError && opts.method !== 'POST') return send<T>(url, opts, req, payload, plain);
    throw err;
  }
}

class StaleConnectionError extends Error {}

function send<T>(url: URL, opts: RequestOptions, req: JsonRequest, payload: Buffer | undefined, plain: boolean): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const r: ClientRequest = (plain ? httpRequest : httpsRequest)(url, { ...opts, signal: req.signal, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON (a proxy's error page); keep the text for the error
        }
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) return resolve(body as T);
        const message = typeof body === 'object' && body && 'message' in body ? String((body as { message: unknown }).message) : res.statusMessage ?? 'request failed';
        reject(new ApiException(code, message, body, res.headers as Record<string, string>));
      });
    });
    r.on('timeout', () => r.destroy(new Error(`request to ${req.path} timed out after ${timeoutMs} ms`)));
    r.on('error', (err: NodeJS.ErrnoException) => reject(r.reusedSocket && err.code === 'ECONNRESET' ? new StaleConnectionError(err.message) : err));
    r.end(payload);
  });
}

/** The HTTP status of an apiserver error (ApiException, a watch error, or a Status object), if any. */
export function statusCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}
