// Child process of the admission benchmark: our webhook app (buildApp, the production routes and
// metrics) over HTTPS on loopback, with the benchmark's facts in memory instead of apiserver reads.
// Its own process, like OPA, so the load generator never shares its event loop.
// Usage: node bench/admission-server.ts <key.pem> <cert.pem>; prints {"port":N} once listening.
import { readFileSync } from 'node:fs';
import { createLogger } from '../cli/logger.ts';
import { buildApp } from '../webhook/app.ts';
import { benchFacts, memoryDeps } from './admission-stream.ts';

const [keyPath, certPath] = process.argv.slice(2);
if (!keyPath || !certPath) {
  process.stderr.write('usage: admission-server.ts <key.pem> <cert.pem>\n');
  process.exit(2);
}
// The production logger (info: one line per denial, synchronous writes), here into /dev/null.
const logger = createLogger('webhook', '/dev/null');
const app = buildApp({ deps: memoryDeps(benchFacts()), logger, server: { https: { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') } } });
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
const stop = (): void => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Never outlive the benchmark that started us.
process.stdin.on('end', stop).resume();
