// One error class for the local cluster, with a stable code, so callers and tests can tell causes apart.
import { readFileSync } from 'node:fs';

export type LocalClusterErrorCode = 'GoMissing' | 'BuildFailed' | 'PortInUse' | 'ProcessExited' | 'StartTimeout' | 'NotRunning' | 'ModuleDownloadFailed' | 'ModuleFileMissing'
  | 'NodeSetupFailed' | 'ImageBuildFailed' | 'ImageImportFailed';

export class LocalClusterError extends Error {
  readonly code: LocalClusterErrorCode;
  readonly data: Record<string, unknown>;
  /** Its message is written for the user: the CLI prints it without a stack (cli/usage.ts). */
  readonly expected = true;
  constructor(code: LocalClusterErrorCode, message: string, data: Record<string, unknown>) {
    super(message);
    this.name = 'LocalClusterError';
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
