// The structured logger every long-running command passes down; secrets are redacted by path.
import { pino, type Logger } from 'pino';

export type { Logger };

const redactPaths = ['token', 'password', 'authorization', 'headers.authorization', '*.token', '*.password', '*.keyPem', 'keyPem', 'secret', '*.secret'];

export function createLogger(name: string, destination: number | string = 2): Logger {
  return pino(
    { name, level: process.env.LOG_LEVEL ?? 'info', redact: { paths: redactPaths, censor: '[redacted]' }, base: { pid: process.pid } },
    pino.destination({ dest: destination, sync: true }),
  );
}
