// `trainingjob webhook`: the admission + conversion webhook server over HTTPS.
import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadKubeConfig } from '../kube/kubeconfig.ts';
import { DEFAULT_SECRET, startCertManager } from '../certs/index.ts';
import { startWebhookServer, type WebhookServer } from '../webhook/server.ts';
import { platformNamespace } from '../webhook/registration.ts';
import { createLogger } from './logger.ts';
import { UsageError } from './usage.ts';

const help = `usage: trainingjob webhook [options]

Serves /mutate-ml-example-com-v1-trainingjob, /validate-ml-example-com-v1-trainingjob,
/validate-ml-example-com-v1-trainingpolicy, /convert, /healthz, /readyz and /metrics over HTTPS.

  --cert-dir DIR        folder with tls.crt and tls.key (a mounted Secret); reloaded when they change
  --manage-certs        self-managed certificates: keep CA + serving cert in the Secret
                        trainingjob-webhook-certs, inject the caBundle into the webhook
                        configurations and the CRD (re-injected if overwritten), rotate ahead
                        of expiry; the serving cert is swapped without a restart
  --host ADDR           listen address (default 0.0.0.0)
  --port N              listen port (default 9443)
  --namespace NS        the platform namespace, where GPU ledgers live (default ${platformNamespace})
  --kubeconfig FILE     default: $KUBECONFIG, else the in-cluster service account
  --facts-ttl SECONDS   how long policies and namespace labels are reused (default 2)
  --shutdown-delay SECONDS
                        on SIGTERM, keep answering this long (not ready, closing each connection
                        after its answer) while Service routing drops this replica (default 0)`;

export async function webhookCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'cert-dir': { type: 'string' },
      'manage-certs': { type: 'boolean' },
      host: { type: 'string', default: '0.0.0.0' },
      port: { type: 'string', default: '9443' },
      namespace: { type: 'string', default: platformNamespace },
      kubeconfig: { type: 'string' },
      'facts-ttl': { type: 'string', default: '2' },
      'shutdown-delay': { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const certDir = values['cert-dir'];
  const manage = Boolean(values['manage-certs']);
  if (!certDir && !manage) throw new UsageError(`give --cert-dir, --manage-certs, or both\n${help}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535, got "${values.port}"`);
  const factsTtl = Number(values['facts-ttl']);
  if (!(factsTtl >= 0)) throw new UsageError(`--facts-ttl must be a number of seconds ≥ 0, got "${values['facts-ttl']}"`);
  const shutdownDelay = Number(values['shutdown-delay']);
  if (!(shutdownDelay >= 0)) throw new UsageError(`--shutdown-delay must be a number of seconds ≥ 0, got "${values['shutdown-delay']}"`);

  const log = createLogger('webhook');
  const kubeConfig = loadKubeConfig(values.kubeconfig);
  // The manager starts first (it owns the certificate) but rotates into a server created after it.
  const serving: { server?: WebhookServer } = {};
  // Self-managed: the Secret is the source; the server picks up each rotation in place.
  const manager = manage
    ? await startCertManager({ kubeConfig, logger: log, secret: { ...DEFAULT_SECRET, namespace: values.namespace }, ...(certDir ? { certDir } : {}), onRotate: (pem) => serving.server?.updateCertificate({ cert: pem.certPem, key: pem.keyPem }) })
    : undefined;
  const files = certDir ? { cert: join(certDir, 'tls.crt'), key: join(certDir, 'tls.key') } : undefined;
  const readTls = () => {
    if (manager) {
      const pem = manager.current();
      return { cert: pem.certPem, key: pem.keyPem };
    }
    return { cert: readFileSync(files!.cert, 'utf8'), key: readFileSync(files!.key, 'utf8') };
  };
  const running = await startWebhookServer({
    kubeConfig,
    tls: readTls(),
    host: values.host,
    port,
    ledgerNamespace: values.namespace,
    factsTtlMs: factsTtl * 1000,
    logger: log,
  });
  serving.server = running;
  // Mounted Secrets change by symlink swap; polling the file sees that where fs.watch may not.
  if (files && !manager) {
    watchFile(files.cert, { interval: 5000 }, () => {
      try {
        running.updateCertificate(readTls());
      } catch (err) {
        log.error({ err }, 'could not reload the serving certificate; keeping the current one');
      }
    });
  }
  // SIGTERM is the kubelet stopping the pod: drain. SIGINT is a person at a terminal: stop now.
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info({ signal }, 'shutting down');
  if (files) unwatchFile(files.cert);
  // Not ready from the signal on, even while a certificate pass is still finishing.
  const closing = running.close(signal === 'SIGTERM' ? shutdownDelay * 1000 : 0);
  await manager?.stop();
  await closing;
  return 0;
}
