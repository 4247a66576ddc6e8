// `trainingjob webhook`: the admission + conversion webhook server over HTTPS.
import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { startWebhookServer } from '../webhook/server.ts';
import { platformNamespace } from '../webhook/registration.ts';
import { createLogger } from './logger.ts';
import { UsageError } from './usage.ts';

const help = `usage: trainingjob webhook [options]

Serves /mutate-ml-example-com-v1-trainingjob, /validate-ml-example-com-v1-trainingjob,
/validate-ml-example-com-v1-trainingpolicy, /convert, /healthz, /readyz and /metrics over HTTPS.

  --cert-dir DIR        folder with tls.crt and tls.key (a mounted Secret); reloaded when they change
  --host ADDR           listen address (default 0.0.0.0)
  --port N              listen port (default 9443)
  --namespace NS        the platform namespace, where GPU ledgers live (default ${platformNamespace})
  --kubeconfig FILE     default: $KUBECONFIG, else the in-cluster service account
  --facts-ttl SECONDS   how long policies and namespace labels are reused (default 2)`;

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

export async function webhookCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'cert-dir': { type: 'string' },
      host: { type: 'string', default: '0.0.0.0' },
      port: { type: 'string', default: '9443' },
      namespace: { type: 'string', default: platformNamespace },
      kubeconfig: { type: 'string' },
      'facts-ttl': { type: 'string', default: '2' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const certDir = values['cert-dir'];
  if (!certDir) throw new UsageError(`--cert-dir is required\n${help}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535, got "${values.port}"`);
  const factsTtl = Number(values['facts-ttl']);
  if (!(factsTtl >= 0)) throw new UsageError(`--facts-ttl must be a number of seconds ≥ 0, got "${values['facts-ttl']}"`);

  const log = createLogger('webhook');
  const files = { cert: join(certDir, 'tls.crt'), key: join(certDir, 'tls.key') };
  const readTls = () => ({ cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') });
  const server = await startWebhookServer({
    kubeConfig: loadKubeConfig(values.kubeconfig),
    tls: readTls(),
    host: values.host,
    port,
    ledgerNamespace: values.namespace,
    factsTtlMs: factsTtl * 1000,
    logger: log,
  });
  // Mounted Secrets change by symlink swap; polling the file sees that where fs.watch may not.
  watchFile(files.cert, { interval: 5000 }, () => {
    try {
      server.updateCertificate(readTls());
    } catch (err) {
      log.error({ err }, 'could not reload the serving certificate; keeping the current one');
    }
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  unwatchFile(files.cert);
  await server.close();
  return 0;
}
