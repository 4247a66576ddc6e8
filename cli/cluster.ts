// `trainingjob cluster`: a local control plane that outlives the command, owned by a detached supervisor.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, closeSync, readSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBinaries, pidAlive, repoRoot } from '../localcluster/binaries.ts';
import { startControlPlane, type ControlPlane } from '../localcluster/controlplane.ts';
import { LocalClusterError, tailFile } from '../localcluster/errors.ts';
import { getText } from '../localcluster/http.ts';
import { killRecorded, reapStaleRuns, type RunRecord } from '../localcluster/runs.ts';
import { installPlatform, type Platform } from '../localcluster/platform.ts';
import { createVolumePool } from '../localcluster/volumes.ts';
import { ensureNodeImages } from '../localcluster/realnode/images.ts';
import { ensureArgoCdImages } from '../localcluster/realnode/argocd-images.ts';
import { applyPlatformOverlay } from '../localcluster/realnode/overlay-install.ts';
import { applyRealNodePolicies } from '../localcluster/realnode/node-policies.ts';
import { realNodeUnsupported } from '../localcluster/realnode/support.ts';
import { startGitServer, type GitServer } from '../localcluster/git-server.ts';
import { startController, type RunningController } from '../controller/start.ts';
import type { NonLoopbackDialError } from '../kube/index.ts';
import { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from './logger.ts';
import { createLogger } from './logger.ts';
import { UsageError } from './usage.ts';

export interface ClusterState {
  status: 'starting' | 'ready' | 'failed';
  supervisorPid: number;
  server?: string;
  kubeconfig?: string;
  binDir?: string;
  startedAt: string;
  error?: string;
  pids?: RunRecord['pids'];
  /** URL of the admission webhook the apiserver calls, when the platform is installed. */
  webhook?: string;
  /** The controller's metrics and health endpoints, when the platform is installed. */
  controllerMetrics?: string;
  controllerHealth?: string;
  /** The Git push receiver: POST <hooks>/hooks/<namespace>/<name>. */
  controllerHooks?: string;
  /** A local smart-HTTP git server: <gitServer>/<name>.git for bare repositories in <dir>/git. */
  gitServer?: string;
  /** The same git server as the in-cluster controller reaches it (the real node's address), when that differs. */
  gitServerInCluster?: string;
  /** The real node's worker image, every framework's default there. */
  workerImage?: string;
  /** The real node's trainer image (examples/trainer), loaded into the node on first use. */
  trainer?: { ref: string; archive: string };
  /** The real node's containerd, for `ctr` (loading the trainer, a demo's SIGKILL). */
  containerdSocket?: string;
  /** kwok's fake GPU nodes, or one real node (the cluster inside its own network namespace). */
  node?: NodeKind;
}

export type NodeKind = 'kwok' | 'real';

/** A cluster whose apiserver answered; its connection fields are set. */
export type ReadyCluster = ClusterState & { kubeconfig: string; binDir: string; server: string };

export function clusterDir(): string {
  return process.env.TRAININGJOB_CLUSTER_DIR ?? join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'trainingjob', 'cluster');
}

const statePath = (dir: string): string => join(dir, 'state.json');

export function readClusterState(dir = clusterDir()): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(dir), 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

const help = `usage: trainingjob cluster <up|down|status|build> [options]

  up       start etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
           (fake GPU nodes) in the background, then installs the platform (CRDs, example
           TrainingPolicies, the webhook on loopback registered by URL + caBundle);
           prints shell lines to eval:  eval "$(npx trainingjob cluster up)"
           --nodes N (default 2)  --gpus-per-node N (default 8)  --timeout SECONDS (default 300)
           --no-platform  the bare control plane only
           --node real  one real node instead (containerd, kubelet, kube-proxy, CoreDNS; Linux and root):
                    the whole cluster runs in a network namespace with no route out, our image is built
                    from the Dockerfile, and the platform is installed as users install it
                    (kubectl apply --server-side -k manifests/overlays/default), with a git server the
                    in-cluster controller reaches; where the machine does not allow it, up says why and
                    starts kwok's fake nodes instead
  down     stop every process of the local cluster and remove its data
  status   print the cluster's state; exit 0 when the apiserver is ready
  build    build the local cluster's binaries into the machine-wide cache (done by up when needed)
           --for node   also the real node's binaries and images
           --for tests  also what only the tests run (the argocd CLI, kustomize and Argo CD's images), as npm test's setup does

The cluster lives in ${clusterDir()} (TRAININGJOB_CLUSTER_DIR overrides).`;

export async function clusterCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  // One help text covers every action's options.
  if (action && ['up', 'down', 'status', 'build', 'serve'].includes(action) && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  switch (action) {
    case 'up':
      return up(rest);
    case 'down':
      return down();
    case 'status':
      return status();
    case 'build':
      return build(rest);
    case 'serve':
      return serve(rest);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(`${help}\n`);
      return action ? 0 : 2;
    default:
      throw new UsageError(`unknown action "${action}"\n${help}`);
  }
}

async function build(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { for: { type: 'string' } }, strict: true });
  const scope = values.for ?? 'cluster';
  if (scope !== 'cluster' && scope !== 'node' && scope !== 'tests') throw new UsageError(`--for takes "node" or "tests" (or "cluster", the default), got "${scope}"`);
  await ensureBinaries({ scope });
  // The real node's images too, wherever it can run: built while package registries are reachable.
  if (scope !== 'cluster' && !realNodeUnsupported()) await ensureNodeImages({});
  // Argo CD's images, which only the real-node tier's Argo CD tests run.
  if (scope === 'tests' && !realNodeUnsupported()) await ensureArgoCdImages({});
  return 0;
}

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be a whole number ≥ 0, got "${value}"`);
  return n;
}

export const defaultMetricsUrl = 'http://127.0.0.1:8080';

function exportLines(state: ClusterState): string {
  const lines = [`export KUBECONFIG=${state.kubeconfig}`, `export PATH=${state.binDir}:$PATH`];
  // Port 8080 was taken, so the controller's metrics are elsewhere: say where.
  if (state.controllerMetrics && state.controllerMetrics !== defaultMetricsUrl) lines.push(`export TRAININGJOB_METRICS_URL=${state.controllerMetrics}`);
  return `${lines.join('\n')}\n`;
}

/** The controller on 127.0.0.1:8080/8081 as in a deployment, or on free ports when those are taken. */
async function startControllerOnPreferredPorts(cp: ControlPlane, log: Logger, onNonLoopbackDial: (err: NonLoopbackDialError) => void): Promise<RunningController> {
  const start = (metricsAddress: string, healthAddress: string) => startController({ kubeConfig: cp.kubeConfig(), logger: log, metricsAddress, healthAddress, hooksAddress: '127.0.0.1:0', gitCacheDir: join(cp.dir, 'git-cache'), progressIntervalMs: 5000, onNonLoopbackDial });
  try {
    return await start('127.0.0.1:8080', '127.0.0.1:8081');
  } catch (err) {
    if (!/already in use/.test(String(err))) throw err;
    log.warn({ err: String(err) }, 'port 8080 or 8081 taken; the controller uses free ports');
    return start('127.0.0.1:0', '127.0.0.1:0');
  }
}

async function apiserverReady(state: ClusterState): Promise<boolean> {
  if (!state.server || !state.kubeconfig) return false;
  const pki = join(clusterDir(), 'pki');
  try {
    const res = await getText(`${state.server}/readyz`, {
      caPem: readFileSync(join(pki, 'ca.crt'), 'utf8'),
      certPem: readFileSync(join(pki, 'admin.crt'), 'utf8'),
      keyPem: readFileSync(join(pki, 'admin.key'), 'utf8'),
    });
    return res.status === 200;
  } catch {
    return false;
  }
}

async function up(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { nodes: { type: 'string' }, 'gpus-per-node': { type: 'string' }, timeout: { type: 'string' }, 'no-platform': { type: 'boolean' }, node: { type: 'string' } }, strict: true });
  const state = await ensureClusterUp({
    node: nodeKind(values.node),
    platform: !values['no-platform'],
    nodes: positiveInt(values.nodes, '--nodes', 2),
    gpusPerNode: positiveInt(values['gpus-per-node'], '--gpus-per-node', 8),
    timeoutMs: positiveInt(values.timeout, '--timeout', 300) * 1000,
  });
  process.stdout.write(exportLines(state));
  return 0;
}

export function nodeKind(value: string | undefined): NodeKind {
  if (value === undefined || value === 'kwok') return 'kwok';
  if (value === 'real') {
    const why = realNodeUnsupported();
    if (!why) return 'real';
    process.stderr.write(`a real node is not possible here (${why}); starting kwok's fake GPU nodes instead\n`);
    return 'kwok';
  }
  throw new UsageError(`--node takes "real" or "kwok", got "${value}"`);
}

export interface UpOptions {
  /** kwok's fake GPU nodes (default) or one real node. */
  node?: NodeKind;
  /** Install CRDs, example policies and the webhook (default true). */
  platform?: boolean;
  nodes?: number;
  gpusPerNode?: number;
  timeoutMs?: number;
}

/** Starts the local cluster unless it already runs; progress goes to stderr. */
export async function ensureClusterUp(opts: UpOptions = {}): Promise<ReadyCluster> {
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const dir = clusterDir();
  const existing = readClusterState(dir);
  const node = opts.node ?? 'kwok';
  if (existing?.status === 'ready' && (existing.node ?? 'kwok') === node && pidAlive(existing.supervisorPid) && (await apiserverReady(existing))) {
    process.stderr.write(`local cluster already running at ${existing.server}\n`);
    return existing as ReadyCluster;
  }
  if (existing) await teardown(dir, existing);

  // Build in the foreground so the user sees build progress directly.
  await ensureBinaries({ scope: node === 'real' ? 'node' : 'cluster' });
  // TRAININGJOB_OFFLINE=1 (tests): a missing image is an error naming the build command, never a download.
  if (node === 'real') await ensureNodeImages({ networkBuilds: process.env.TRAININGJOB_OFFLINE !== '1' });
  mkdirSync(dir, { recursive: true });
  const logPath = join(dir, 'supervisor.log');
  const fd = openSync(logPath, 'w');
  const serveArgs = ['cluster', 'serve', '--node', node, '--nodes', String(opts.nodes ?? 2), '--gpus-per-node', String(opts.gpusPerNode ?? 8), ...(opts.platform === false ? ['--no-platform'] : [])];
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), ...serveArgs], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, TRAININGJOB_CLUSTER_DIR: dir },
  });
  closeSync(fd);
  child.unref();
  process.stderr.write(`starting local cluster (supervisor pid ${child.pid}, logs in ${dir})\n`);

  const deadline = Date.now() + timeoutMs;
  let shown = 0;
  while (Date.now() < deadline) {
    shown = echoProgress(logPath, shown);
    const state = readClusterState(dir);
    if (state?.status === 'ready') {
      process.stderr.write(`local cluster ready at ${state.server}\n`);
      return state as ReadyCluster;
    }
    if (state?.status === 'failed' || (child.pid && !pidAlive(child.pid))) {
      echoProgress(logPath, shown);
      throw new LocalClusterError('ProcessExited', `local cluster failed to start: ${state?.error ?? 'the supervisor exited'}\nsupervisor log: ${logPath}\n${tailFile(logPath, 20)}`, { log: logPath });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await teardown(dir, readClusterState(dir));
  throw new LocalClusterError('StartTimeout', `local cluster was not ready within ${timeoutMs / 1000}s; supervisor log: ${logPath}\n${tailFile(logPath, 20)}`, { log: logPath });
}

// The supervisor logs pino JSON; show its progress messages to the person waiting on `up`.
function echoProgress(logPath: string, from: number): number {
  let size: number;
  try {
    size = statSync(logPath).size;
  } catch {
    return from;
  }
  if (size <= from) return from;
  const fd = openSync(logPath, 'r');
  const buf = Buffer.alloc(size - from);
  readSync(fd, buf, 0, buf.length, from);
  closeSync(fd);
  const text = buf.toString('utf8');
  const complete = text.lastIndexOf('\n') + 1;
  for (const line of text.slice(0, complete).split('\n')) {
    if (!line) continue;
    try {
      const rec = JSON.parse(line) as { msg?: string; progress?: boolean };
      if (rec.progress && rec.msg) process.stderr.write(`  ${rec.msg}\n`);
    } catch {
      process.stderr.write(`  ${line}\n`);
    }
  }
  return from + Buffer.byteLength(text.slice(0, complete));
}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { nodes: { type: 'string' }, 'gpus-per-node': { type: 'string' }, 'no-platform': { type: 'boolean' }, node: { type: 'string' } }, strict: true });
  const node: NodeKind = values.node === 'real' ? 'real' : 'kwok';
  const dir = clusterDir();
  const log = createLogger('cluster');
  const write = (s: ClusterState): void => writeFileSync(statePath(dir), JSON.stringify(s, null, 2));
  const startedAt = new Date().toISOString();
  write({ status: 'starting', supervisorPid: process.pid, startedAt });
  let cp: ControlPlane | undefined;
  let platform: Platform | undefined;
  let controller: RunningController | undefined;
  let gitServer: GitServer | undefined;
  const shutdown = async (signal: string, code = 0): Promise<void> => {
    log.info({ signal }, 'stopping local cluster');
    await gitServer?.stop();
    await controller?.stop();
    await platform?.stop();
    await cp?.stop();
    rmSync(statePath(dir), { force: true });
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  try {
    const progress = (msg: string) => log.info({ progress: true }, msg);
    cp = await startControlPlane({
      dir,
      keepDir: true,
      ...(node === 'real'
        ? { realNode: { gpus: positiveInt(values['gpus-per-node'], '--gpus-per-node', 8), ...(values['no-platform'] ? {} : { gitRoot: join(dir, 'git') }) } }
        : { workloads: { nodes: positiveInt(values.nodes, '--nodes', 2), gpusPerNode: positiveInt(values['gpus-per-node'], '--gpus-per-node', 8) } }),
      progress,
    });
    if (node === 'real' && !values['no-platform']) {
      // Users' way: the webhook and controller run as pods from our image, in the cluster.
      await applyPlatformOverlay(cp, { progress });
      progress('creating the example TrainingPolicies (the node\'s worker image as every framework\'s default)');
      await applyRealNodePolicies(cp, cp.realNode!.images.worker.ref);
    } else if (!values['no-platform']) {
      platform = await installPlatform({ kubeConfig: cp.kubeConfig(), examplePolicies: true, logger: log, progress });
      // No storage provisioner here: checkpoint PVCs bind to these.
      await createVolumePool(cp.kubeConfig().makeApiClient(CoreV1Api), 20);
      progress('starting the TrainingJob controller');
      // This cluster's addresses are all loopback: a dial elsewhere means it is broken, so it stops, saying why.
      controller = await startControllerOnPreferredPorts(cp, log, (err) => {
        log.fatal({ target: err.target, purpose: err.purpose }, err.message);
        void shutdown('NonLoopbackDial', 3);
      });
      // Somewhere to push job repositories to, as a team would to its Git hosting.
      gitServer = await startGitServer({ root: join(dir, 'git') });
    }
  } catch (err) {
    await cp?.stop();
    log.error({ err }, 'local cluster failed to start');
    write({ status: 'failed', supervisorPid: process.pid, startedAt, error: err instanceof Error ? err.message : String(err) });
    return 1;
  }
  const pids = Object.fromEntries(cp.processes.map((p) => [String(p.pid), p.name]));
  write({ status: 'ready', node, supervisorPid: process.pid, startedAt, server: cp.server, kubeconfig: cp.kubeconfigPath, binDir: cp.binDir, pids, ...(platform ? { webhook: platform.url } : {}), ...(controller ? { controllerMetrics: controller.metricsUrl, controllerHealth: controller.healthUrl, controllerHooks: controller.hooksUrl } : {}), ...(gitServer ? { gitServer: `http://127.0.0.1:${gitServer.port}` } : {}), ...realNodeState(cp) });
  log.info({ progress: true, server: cp.server }, 'local cluster ready');
  for (const p of cp.processes) {
    void p.exited.then((code) => {
      if (!cp) return;
      log.error({ process: p.name, code, logPath: p.logPath }, 'control-plane process exited; run `trainingjob cluster down` then `up` again');
    });
  }
  // Stay alive until signalled; the processes are our children.
  await new Promise(() => {});
  return 0;
}

function realNodeState(cp: ControlPlane): Partial<ClusterState> {
  const node = cp.realNode;
  if (!node) return {};
  return { workerImage: node.images.worker.ref, trainer: node.images.trainer, containerdSocket: node.containerdSocket, ...(node.gitHostUrl && node.gitUrl ? { gitServer: node.gitHostUrl, gitServerInCluster: node.gitUrl } : {}) };
}

async function teardown(dir: string, state: ClusterState | undefined): Promise<void> {
  if (state && pidAlive(state.supervisorPid)) {
    process.kill(state.supervisorPid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (pidAlive(state.supervisorPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    if (pidAlive(state.supervisorPid)) process.kill(state.supervisorPid, 'SIGKILL');
  }
  // Whatever the supervisor left (it may have been killed) is found through the run records.
  if (state?.pids) killRecorded({ ownerPid: state.supervisorPid, dir, pids: Object.fromEntries(Object.keys(state.pids).map((pid) => [pid, exeOf(pid)])) });
  // A killed supervisor's real node (containers, namespaces, mounts in this folder) goes with its run record.
  reapStaleRuns();
  rmSync(dir, { recursive: true, force: true });
}

function exeOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
  } catch {
    return '';
  }
}

async function down(): Promise<number> {
  const dir = clusterDir();
  const state = readClusterState(dir);
  if (!state && !existsSync(dir)) {
    process.stderr.write('no local cluster is running\n');
    return 0;
  }
  await teardown(dir, state);
  process.stderr.write('local cluster stopped and its data removed\n');
  return 0;
}

async function status(): Promise<number> {
  const state = readClusterState();
  if (!state) {
    process.stdout.write('local cluster: not running\n');
    return 1;
  }
  const supervisor = pidAlive(state.supervisorPid);
  const ready = supervisor && (await apiserverReady(state));
  const lines = [`local cluster: ${ready ? 'ready' : state.status === 'ready' ? 'not responding' : state.status}${state.node === 'real' ? ' (real node)' : ''}`, `  supervisor pid ${state.supervisorPid}${supervisor ? '' : ' (gone)'}`];
  if (state.server) lines.push(`  apiserver  ${state.server}`, `  kubeconfig ${state.kubeconfig}`);
  if (state.webhook) lines.push(`  webhook    ${state.webhook} (in the supervisor process)`);
  if (state.gitServer) lines.push(`  git server ${state.gitServer}/<name>.git (bare repositories in ${join(clusterDir(), 'git')})${state.gitServerInCluster ? `; in the cluster ${state.gitServerInCluster}/<name>.git` : ''}`);
  if (state.workerImage) lines.push(`  worker image ${state.workerImage} (loaded in the node; every framework's default)`);
  if (state.controllerMetrics) lines.push(`  controller metrics ${state.controllerMetrics}/metrics, health ${state.controllerHealth}/healthz`);
  for (const [pid, name] of Object.entries(state.pids ?? {})) lines.push(`  ${name.padEnd(24)} pid ${pid} ${pidAlive(Number(pid)) ? 'running' : 'exited'}`);
  if (state.error) lines.push(`  error: ${state.error}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return ready ? 0 : 1;
}
