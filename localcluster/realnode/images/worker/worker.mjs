// A TrainingJob worker for the real-node tests: resolves the rendezvous host and its peers' names through
// cluster DNS, prints one JSON line (hostname, the controller's worker env, what each name resolved to) and
// exits 0 when all resolved, 1 otherwise. `--hold=SECONDS` keeps it running afterwards, for fault tests.
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';

// Headless-Service records appear a little after the pod starts, so each name gets this long.
const RESOLVE_FOR_MS = 60_000;
// Set by the controller (controller/trainingjob/worker-env.ts); printed when present.
const WORKER_ENV = [
  'POD_NAME', 'POD_IP', 'RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'NUM_WORKERS', 'GPUS_PER_WORKER', 'FRAMEWORK',
  'DISTRIBUTED_BACKEND', 'MODEL', 'DATASET', 'CONFIG_DIR', 'METRICS_PORT', 'DATA_DIR', 'CHECKPOINT_DIR', 'CHECKPOINT_FREQUENCY',
  'RESUME_FROM_CHECKPOINT', 'TERMINATION_MESSAGE_PATH',
];

const env = process.env;
const hold = Number((process.argv.find((a) => a.startsWith('--hold=')) ?? '--hold=0').slice('--hold='.length));

/** PEER_HOSTS (comma- or space-separated) when given; else rank 0's name with each other index, as an Indexed Job names its pods. */
function peerNames() {
  if (env.PEER_HOSTS) return env.PEER_HOSTS.split(/[\s,]+/).filter(Boolean);
  // <job>-0.<service>.<namespace>.svc → <job>-<i>.<service>.<namespace>.svc
  const m = /^(.*)-0(\..*)$/.exec(env.MASTER_ADDR ?? '');
  const size = Number(env.WORLD_SIZE ?? '1');
  const peers = [];
  if (m) for (let i = 1; i < size; i++) peers.push(`${m[1]}-${i}${m[2]}`);
  return peers;
}

async function resolveName(name) {
  const deadline = Date.now() + RESOLVE_FOR_MS;
  for (;;) {
    try {
      return (await lookup(name)).address;
    } catch (err) {
      if (Date.now() > deadline) return `error: ${err.code ?? err.message}`;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

// PID 1 gets no default signal handling: without this, a graceful stop (eviction, delete) waits out the grace period.
process.on('SIGTERM', () => process.exit(143));

const names = [...new Set([env.MASTER_ADDR, ...peerNames()].filter(Boolean))];
const addresses = await Promise.all(names.map(resolveName));
const resolved = Object.fromEntries(names.map((n, i) => [n, addresses[i]]));
const ok = names.length > 0 && addresses.every((a) => !a.startsWith('error'));
const workerEnv = Object.fromEntries(Object.entries(env).filter(([k]) => WORKER_ENV.includes(k) || k.startsWith('HYPERPARAM_')).sort());
console.log(JSON.stringify({ hostname: hostname(), env: workerEnv, resolved, ok }));
if (hold > 0) await new Promise((r) => setTimeout(r, hold * 1000));
process.exit(ok ? 0 : 1);
