// One readable line for a failed Kubernetes API call: client-node's exceptions carry headers and raw bodies.
import { ApiException } from '@kubernetes/client-node';

/** The API server's own message (what kubectl shows, e.g. a webhook's refusal), or '' when the body has none. */
function serverMessage(err: ApiException<unknown>): string {
  try {
    const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as { message?: string } | undefined;
    return body?.message ?? '';
  } catch {
    return String(err.body ?? '').trim().slice(0, 500);
  }
}

/** The server's message verbatim, for users who should read the webhook's or apiserver's own words. */
export function apiErrorMessage(err: unknown): string {
  if (err instanceof ApiException) return serverMessage(err) || `the Kubernetes API answered ${err.code}`;
  return err instanceof Error ? err.message : String(err);
}

/** The status code and the server's message, for logs and admission warnings. */
export function describeApiError(err: unknown): string {
  if (err instanceof ApiException) {
    const message = serverMessage(err);
    return `the Kubernetes API answered ${err.code}${message ? `: ${message}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}
