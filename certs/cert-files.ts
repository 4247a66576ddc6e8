// Writes the serving PEMs as files (ca.crt, tls.crt, tls.key) for servers that load certificates from disk.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServingPem } from './bundle.ts';

export const CERT_FILES = { ca: 'ca.crt', cert: 'tls.crt', key: 'tls.key' } as const;

// Write-then-rename, so a reader never sees half a file.
function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

/** The key and CA go first and tls.crt last, so a watcher of tls.crt reloads a matching pair. */
export function writeCertFiles(dir: string, pem: ServingPem): { ca: string; cert: string; key: string } {
  mkdirSync(dir, { recursive: true });
  const paths = { ca: join(dir, CERT_FILES.ca), cert: join(dir, CERT_FILES.cert), key: join(dir, CERT_FILES.key) };
  writeAtomic(paths.ca, pem.caPem, 0o644);
  writeAtomic(paths.key, pem.keyPem, 0o600);
  writeAtomic(paths.cert, pem.certPem, 0o644);
  return paths;
}
