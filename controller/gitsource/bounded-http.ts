// Wraps an isomorphic-git HTTP client so a fetch can be cancelled (timeout) and stops reading past a byte limit.
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';

export interface BoundedHttpOptions {
  http: HttpClient;
  signal: AbortSignal;
  /** Response bytes allowed across every request of this client. */
  maxBytes: number;
  /** Called once the limit is passed; it aborts the signal so the socket is closed. */
  onLimit: () => void;
}

// Rejects when the signal aborts even if the underlying stream never settles its pending read.
function abortable<T>(signal: AbortSignal, promise: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export function boundedHttp({ http, signal, maxBytes, onLimit }: BoundedHttpOptions): HttpClient {
  let received = 0;
  return {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      const res = await abortable(signal, http.request({ ...req, signal }));
      const body = res.body;
      if (!body) return res;
      const iterator = body[Symbol.asyncIterator]();
      const bounded: AsyncIterableIterator<Uint8Array> = {
        async next() {
          const step = await abortable(signal, iterator.next());
          if (!step.done && step.value) {
            received += step.value.byteLength;
            if (received > maxBytes) {
              onLimit();
              throw signal.reason;
            }
          }
          return step;
        },
        async return(value?: unknown) {
          await iterator.return?.(value);
          return { done: true, value: undefined };
        },
        [Symbol.asyncIterator]() {
          return bounded;
        },
      };
      return { ...res, body: bounded };
    },
  };
}
