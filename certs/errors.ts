// One error class for certificate work, with a stable code so callers can tell causes apart.
import { apiErrorMessage, statusCode } from '../kube/index.ts';

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

/** Wraps a failed API call with what was being done, without echoing request bodies (they may hold keys). */
export function apiFailure(action: string, err: unknown, data: Record<string, unknown> = {}): CertError {
  const status = statusCode(err);
  const detail = apiErrorMessage(err).split('\n')[0];
  return new CertError('ApiRequestFailed', `${action}: ${status ? `HTTP ${status}: ` : ''}${detail}`, { ...data, status });
}
