// The one error a fetch throws, with a stable code for conditions and metrics; messages never carry credentials.
export type GitSyncErrorCode = 'FetchFailed' | 'AuthFailed' | 'RefNotFound' | 'TooLarge' | 'Timeout' | 'InvalidPath';

export class GitSyncError extends Error {
  readonly code: GitSyncErrorCode;
  readonly data: Record<string, unknown>;
  constructor(code: GitSyncErrorCode, message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.name = 'GitSyncError';
    this.code = code;
    this.data = data;
  }
}

// https://user:token@host/repo → https://host/repo, for messages and logs.
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
