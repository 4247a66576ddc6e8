// Plain JSON requests to the apiserver with the KubeConfig's credentials. The generated clients
// turn timestamps into Date objects (and cannot write a Lease's MicroTime faithfully); informers
// and the lease lock want the objects exactly as the apiserver sent them.
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest, type Agent } from 'node:http';
import { ApiException, type KubeConfig } from '@kubernetes/client-node';

export interface JsonRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the server URL, e.g. `/api/v1/namespaces/default/configmaps`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Sends one request; resolves with the parsed body of a 2xx answer, throws ApiException (with `.code`) otherwise. */
export async function requestJson<T>(kubeConfig: KubeConfig, req: JsonRequest): Promise<T> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/$/, '') + req.path);
  for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const opts: RequestOptions = { method: req.method ?? 'GET', headers: {} };
  await kubeConfig.applyToHTTPSOptions(opts);
  const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
  opts.headers = {
    ...opts.headers,
    accept: 'application/json',
    ...(payload ? { 'content-type': req.contentType ?? 'application/json', 'content-length': payload.length } : {}),
  };
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  const agent = opts.agent as Agent | undefined;
  return new Promise<T>((resolve, reject) => {
    const r = send(url, { ...opts, signal: req.signal, timeout: req.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        agent?.destroy();
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
    r.on('timeout', () => r.destroy(new Error(`request to ${req.path} timed out after ${req.timeoutMs} ms`)));
    r.on('error', (err) => {
      agent?.destroy();
      reject(err);
    });
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
