// `trainingjob controller`: the manager that turns TrainingJobs into workloads with live status.
import { parseArgs } from 'node:util';
import { loadKubeConfig } from '../kube/kubeconfig.ts';
import { WEBHOOK_SERVICE } from '../api/group.ts';
import { DEFAULT_CLIENT_BURST, DEFAULT_CLIENT_QPS, type NonLoopbackDialError } from '../kube/index.ts';
import { LeadershipLostError } from '../controller/runtime/index.ts';
import { startController } from '../controller/start.ts';
import { DEFAULT_WORKERS } from '../controller/trainingjob/reconciler.ts';
import { createLogger, type Logger } from './logger.ts';
import { UsageError } from './usage.ts';

// The platform's namespace, from api/ and not webhook/registration.ts: that one loads the whole webhook (fastify routes, ajv, policies).
const platformNamespace = WEBHOOK_SERVICE.namespace;

const help = `usage: trainingjob controller [options]

  --metrics-addr HOST:PORT   Prometheus metrics (default 0.0.0.0:8080, path /metrics)
  --health-addr HOST:PORT    /healthz and /readyz (default 0.0.0.0:8081)
  --hooks-addr HOST:PORT     Git push receiver, POST /hooks/<namespace>/<name> (default 0.0.0.0:9292)
  --git-cache-dir DIR        where JobRepositories are fetched to (default: under the temp dir)
  --no-leader-elect          run without the Lease (only ever one replica!)
  --namespace NS             where the leader Lease lives (default ${platformNamespace})
  --client-qps N             sustained API requests per second (default ${DEFAULT_CLIENT_QPS}; a new
                             TrainingJob costs about 4 writes: 300 for ≥ 50 new jobs/s)
  --client-burst N           requests allowed at once (default ${DEFAULT_CLIENT_BURST}; 600 with --client-qps 300)
  --workers N                TrainingJobs reconciled in parallel (default ${DEFAULT_WORKERS}; a reconcile mostly
                             waits on the apiserver, and --client-qps is what bounds its load)
  --kubeconfig FILE          default: $KUBECONFIG, else the in-cluster service account
  --loopback-only            for local clusters and tests: exit (code 3) rather than dial a pod IP or a
                             JobRepository host outside 127.0.0.0/8 and ::1

Exits 0 on SIGTERM after finishing in-flight work and releasing the Lease; exits 1 if the Lease is
lost, so two replicas never act at once.`;

function count(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a whole number ≥ 1, got "${value}"`);
  return n;
}

/** A dial outside loopback is a broken local cluster or test: stop loudly instead of retrying. */
export function exitOnNonLoopbackDial(log: Logger): (err: NonLoopbackDialError) => void {
  return (err) => {
    log.fatal({ target: err.target, purpose: err.purpose }, err.message);
    process.exit(3);
  };
}

export async function controllerCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'metrics-addr': { type: 'string', default: '0.0.0.0:8080' },
      'health-addr': { type: 'string', default: '0.0.0.0:8081' },
      'hooks-addr': { type: 'string', default: '0.0.0.0:9292' },
      'git-cache-dir': { type: 'string' },
      'no-leader-elect': { type: 'boolean' },
      namespace: { type: 'string', default: platformNamespace },
      'client-qps': { type: 'string' },
      'client-burst': { type: 'string' },
      workers: { type: 'string' },
      kubeconfig: { type: 'string' },
      'loopback-only': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const log = createLogger('controller');
  const running = await startController({
    kubeConfig: loadKubeConfig(values.kubeconfig),
    logger: log,
    metricsAddress: values['metrics-addr'],
    healthAddress: values['health-addr'],
    hooksAddress: values['hooks-addr'],
    ...(values['git-cache-dir'] ? { gitCacheDir: values['git-cache-dir'] } : {}),
    ...(values['no-leader-elect'] ? {} : { leaderElection: { namespace: values.namespace } }),
    clientQps: count(values['client-qps'], '--client-qps', DEFAULT_CLIENT_QPS),
    clientBurst: count(values['client-burst'], '--client-burst', DEFAULT_CLIENT_BURST),
    workers: count(values.workers, '--workers', DEFAULT_WORKERS),
    ...(values['loopback-only'] ? { onNonLoopbackDial: exitOnNonLoopbackDial(log) } : {}),
  });
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    void running.stop();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  try {
    await running.done;
    return 0;
  } catch (err) {
    if (err instanceof LeadershipLostError) return 1;
    throw err;
  }
}
