// One error class for certificate work, with a stable code so callers can tell causes apart.
export type CertErrorCode = 'InvalidLifetimes' | 'InvalidPem' | 'InvalidSecret' | 'SecretNotFound' | 'ApiRequestFailed' | 'WriteConflict';

export class CertError extends Error {
  readonly code: CertErrorCode;
  readonly data: Record<string, unknown>;
  constructor(code: CertErrorCode, message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.name = 'CertError';
    this.code = code;
    this.data = data;
  }
}

/** The HTTP status of a failed Kubernetes API call (ApiException carries `.code`), if any. */
export function apiStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Wraps a failed API call with what was being done, without echoing request bodies (they may hold keys). */
export function apiFailure(action: string, err: unknown, data: Record<string, unknown> = {}): CertError {
  const status = apiStatus(err);
  const body = (err as { body?: unknown } | null)?.body;
  let reason = '';
  try {
    const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string } | undefined;
    reason = parsed?.message ?? '';
  } catch {
    reason = '';
  }
  const detail = reason || (err instanceof Error ? err.message.split('\n')[0] : String(err));
  return new CertError('ApiRequestFailed', `${action}: ${status ? `HTTP ${status}: ` : ''}${detail}`, { ...data, status });
}
