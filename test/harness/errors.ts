// One error class for the harness, with a stable code, so callers and tests can tell causes apart.
import { readFileSync } from 'node:fs';

export type HarnessErrorCode = 'GoMissing' | 'BuildFailed' | 'PortInUse' | 'ProcessExited' | 'StartTimeout' | 'NotRunning' | 'ModuleDownloadFailed' | 'ModuleFileMissing';

export class HarnessError extends Error {
  readonly code: HarnessErrorCode;
  readonly data: Record<string, unknown>;
  constructor(code: HarnessErrorCode, message: string, data: Record<string, unknown>) {
    super(message);
    this.name = 'HarnessError';
    this.code = code;
    this.data = data;
  }
}

/** The last `lines` lines of a log file, indented, for error messages; empty if unreadable. */
export function tailFile(path: string, lines: number): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return '';
  }
  return text
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((l) => `    ${l}`)
    .join('\n');
}
