// One readable line for a failed Kubernetes API call: client-node's exceptions carry headers and raw bodies.
import { ApiException } from '@kubernetes/client-node';

export function describeApiError(err: unknown): string {
  if (err instanceof ApiException) {
    let message = '';
    try {
      const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as { message?: string };
      message = body?.message ?? '';
    } catch {
      message = String(err.body ?? '').trim().slice(0, 200);
    }
    return `the Kubernetes API answered ${err.code}${message ? `: ${message}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}
