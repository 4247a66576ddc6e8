// A real local control plane on loopback: etcd + kube-apiserver, and for workloads also
// kube-controller-manager, kube-scheduler and either kwok with fake GPU nodes or one real node
// (containerd, kubelet, kube-proxy, CoreDNS) whose whole cluster runs in a network namespace with no
// route out, reached from host loopback through a bridge of UNIX sockets.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '../kube/kubeconfig.ts';
import { createCA, createSigningKey, issueCertificate, type CertificateAuthority } from '../certs/pki.ts';
import { ensureBinaries, type Progress } from './binaries.ts';
import { LocalClusterError, tailFile } from './errors.ts';
import { getText, type TlsClient } from './http.ts';
import { renderKubeconfig } from './kubeconfig.ts';
import { assertPortFree, freePort } from './ports.ts';
import { runCommand, startProcess, waitUntil, type CommandResult, type ManagedProcess, type StartOptions } from './process.ts';
import { reapStaleRuns, removeRun, writeRun, killRecorded, type RunRecord } from './runs.ts';
import { fakeGpuNode, type FakeNodeSpec } from './nodes.ts';
import { apiserverArgs, apiserverCertificateIps, controllerManagerArgs, kwokArgs, schedulerArgs } from './component-args.ts';
import { KWOK_NODE_IP } from './network.ts';
import { NODE_IP, NODE_KUBERNETES_SERVICE_IP, NODE_PORTS, NODE_SERVICE_CIDR } from './realnode/addresses.ts';
import { createNodeNamespaces, destroyNodeNamespaces, type NodeNamespaces } from './realnode/namespaces.ts';
import { ensureNodeImages } from './realnode/images.ts';
import { startRealNode, type RealNode } from './realnode/node.ts';
import { startLoopbackBridge } from './realnode/start-loopback-bridge.ts';

export interface WorkloadOptions {
  nodes?: number;
  gpusPerNode?: number;
}

export interface ControlPlaneOptions {
  /** Working folder (certs, data, logs); a fresh temp folder when omitted. */
  dir?: string;
  /** Keep the folder after stop (the CLI's cluster keeps its logs). */
  keepDir?: boolean;
  /** Add kube-controller-manager, kube-scheduler and kwok with fake GPU nodes. */
  workloads?: boolean | WorkloadOptions;
  /** Instead of kwok: one real node, the whole cluster inside its own network namespace (Linux, root);
   *  `gitRoot` adds a git server there for the bare repositories in that folder. */
  realNode?: boolean | { gpus?: number; gitRoot?: string };
  /** A fixed apiserver port; checked before start. */
  apiserverPort?: number;
  progress?: Progress;
  startTimeoutMs?: number;
  /** Owner whose death marks the run stale (defaults to this process). */
  ownerPid?: number;
}

export { runCommand, type CommandResult } from './process.ts';

export interface ControlPlane {
  id: string;
  dir: string;
  server: string;
  kubeconfigPath: string;
  caPem: string;
  admin: TlsClient;
  binaries: Record<string, string>;
  /** Folder of links to every binary, for PATH. */
  binDir: string;
  processes: ManagedProcess[];
  nodes: FakeNodeSpec[];
  /** The real node, when the cluster has one; `gitHostUrl` is its git server (gitUrl) bridged to host loopback. */
  realNode?: RealNode & { namespace: NodeNamespaces; gitHostUrl?: string };
  kubeConfig(): KubeConfig;
  kubectl(args: string[], opts?: { input?: string; kubeconfig?: string }): Promise<CommandResult>;
  /** Every process's log tail, for a failing test's output. */
  logTails(lines?: number): string;
  /** Stops kube-apiserver, waits `downMs`, starts it again with the same flags and port, and waits until ready. */
  restartProcess(name: 'kube-apiserver', opts?: { downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

const defaultStartTimeoutMs = 90_000;

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const progress = opts.progress ?? (() => {});
  reapStaleRuns();
  if (opts.apiserverPort !== undefined) await assertPortFree(opts.apiserverPort, 'kube-apiserver');
  const realNodeOpts = opts.realNode === true ? {} : opts.realNode || undefined;
  const realNode = realNodeOpts ? { gpus: realNodeOpts.gpus ?? 4, gitRoot: realNodeOpts.gitRoot } : undefined;
  const workloads = realNode ? undefined : opts.workloads === true ? {} : opts.workloads || undefined;
  const names = [
    'etcd', 'kube-apiserver', 'kubectl',
    ...(workloads || realNode ? ['kube-controller-manager', 'kube-scheduler'] : []),
    ...(workloads ? ['kwok'] : []),
    ...(realNode ? ['containerd', 'containerd-shim-runc-v2', 'ctr', 'kubelet', 'kube-proxy', 'coredns'] : []),
  ];
  const binaries = await ensureBinaries({ only: names, progress });
  const images = realNode ? await ensureNodeImages({ progress, networkBuilds: false }) : undefined;

  const id = randomUUID().slice(0, 8);
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'trainingjob-cp-'));
  mkdirSync(dir, { recursive: true });
  const record: RunRecord = { ownerPid: opts.ownerPid ?? process.pid, dir, pids: {}, keepDir: opts.keepDir };
  const processes: ManagedProcess[] = [];
  const track = (p: ManagedProcess, exe: string): ManagedProcess => {
    processes.push(p);
    record.pids[p.pid] = exe;
    writeRun(id, record);
    return p;
  };
  let stopped = false;
  let ns: NodeNamespaces | undefined;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const p of [...processes].reverse()) await p.stop();
    killRecorded(record);
    if (record.node) {
      const left = await destroyUntilGone(record.node);
      if (left.length) {
        // Kept on record: the stale-run reaper of a later run (this owner gone by then) tries again.
        progress(`the real node could not be removed completely: ${left.join('; ')}`);
        writeRun(id, { ...record, pids: {} });
        return; // the folder stays too: what is left may still be mounted in it
      }
    }
    removeRun(id);
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    const binDir = join(dir, 'bin');
    mkdirSync(binDir, { recursive: true });
    for (const [name, path] of Object.entries(binaries)) {
      if (!existsSync(join(binDir, name))) symlinkSync(path, join(binDir, name));
    }
    const pki = writePki(dir, realNode ? [NODE_IP, NODE_KUBERNETES_SERVICE_IP] : []);
    const timeout = opts.startTimeoutMs ?? defaultStartTimeoutMs;

    // Where each component listens (`inner`) and where this process reaches it (`outer`): the same loopback
    // port on the host, or a fixed port in the node's namespace and a host port bridged to it.
    let portFor = async (_inner: number, hostPort?: number): Promise<{ inner: number; outer: number }> => {
      const port = hostPort ?? (await freePort());
      return { inner: port, outer: port };
    };
    let place = (s: StartOptions): StartOptions => s;
    if (realNode) {
      progress('creating the node\'s network namespace (no route out), mount namespace and cgroups');
      const nodeNs = ns = createNodeNamespaces(id, dir);
      record.node = nodeNs; // its record fields; the run file's JSON drops `enter`
      writeRun(id, record);
      // A minimal environment: nothing of this shell (a proxy variable, say) reaches the node's components.
      place = (s) => ({ ...s, ...nodeNs.enter(s.command, s.args), env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: dir } });
      const bridged = await startLoopbackBridge(dir, nodeNs, opts.apiserverPort, track, timeout);
      portFor = async (inner) => ({ inner, outer: bridged(inner) });
    }

    progress('starting etcd');
    const etcd = await startWithPortRetry(async () => {
      const client = await portFor(NODE_PORTS.etcdClient);
      // The peer port is never reached from the host: inside the node it is fixed, on the host any free one.
      const peer = realNode ? NODE_PORTS.etcdPeer : await freePort();
      const data = join(dir, 'etcd');
      rmSync(data, { recursive: true, force: true });
      const p = track(startProcess(place({
        name: 'etcd',
        command: binaries.etcd!,
        logPath: join(dir, 'etcd.log'),
        args: [
          '--name=default', `--data-dir=${data}`,
          `--listen-client-urls=http://127.0.0.1:${client.inner}`, `--advertise-client-urls=http://127.0.0.1:${client.inner}`,
          `--listen-peer-urls=http://127.0.0.1:${peer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
          `--initial-cluster=default=http://127.0.0.1:${peer}`,
          // Throwaway test data: skipping fsync makes etcd several times faster on a small disk.
          '--unsafe-no-fsync', '--log-level=warn',
        ],
      })), binaries.etcd!);
      await waitUntil(p, 'healthy', async () => (await getText(`http://127.0.0.1:${client.outer}/health`)).body.includes('"health":"true"'), timeout);
      return { p, url: `http://127.0.0.1:${client.inner}` };
    });

    progress('starting kube-apiserver');
    let apiserverStart: StartOptions | undefined;
    let nodeServer = '';
    const api = await startWithPortRetry(async () => {
      // On the real node the bridge already holds opts.apiserverPort on the host side.
      const port = await portFor(NODE_PORTS.apiserver, opts.apiserverPort);
      const p = track(startProcess(apiserverStart = place({
        name: 'kube-apiserver',
        command: binaries['kube-apiserver']!,
        logPath: join(dir, 'kube-apiserver.log'),
        args: apiserverArgs({ etcdUrl: etcd.url, port: port.inner, certDir: join(dir, 'apiserver-certs'), pki }, realNode ? {
          advertiseAddress: NODE_IP, serviceCidr: NODE_SERVICE_CIDR, kubeletClientCert: required(pki.kubeletClient).cert, kubeletClientKey: required(pki.kubeletClient).key,
        } : undefined),
      })), binaries['kube-apiserver']!);
      const server = `https://127.0.0.1:${port.outer}`;
      nodeServer = `https://127.0.0.1:${port.inner}`;
      await waitUntil(p, 'ready', async () => (await getText(`${server}/readyz`, pki.admin)).status === 200, timeout);
      return { p, server };
    });

    // Fault tests restart the apiserver on its port; etcd (and so every object) stays up.
    const restartProcess = async (name: 'kube-apiserver', o: { downMs?: number } = {}): Promise<void> => {
      const i = processes.findIndex((p) => p.name === name);
      if (i < 0 || !apiserverStart) throw new LocalClusterError('NotRunning', `${name} is not part of this control plane`, { name });
      await processes[i]!.stop();
      delete record.pids[processes[i]!.pid];
      if (o.downMs) await new Promise((r) => setTimeout(r, o.downMs));
      const p = startProcess(apiserverStart);
      processes[i] = p;
      record.pids[p.pid] = binaries['kube-apiserver']!; // the recorded exe is what runs after enter.sh's exec
      writeRun(id, record);
      await waitUntil(p, 'ready', async () => (await getText(`${api.server}/readyz`, pki.admin)).status === 200, timeout);
    };

    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, renderKubeconfig({ server: api.server, caPem: pki.admin.caPem, user: 'admin', certPem: pki.admin.certPem, keyPem: pki.admin.keyPem }), { mode: 0o600 });
    // Components inside the node's namespace reach the apiserver on that namespace's loopback.
    const componentKubeconfigPath = realNode ? join(dir, 'kubeconfig.node') : kubeconfigPath;
    if (realNode) writeFileSync(componentKubeconfigPath, renderKubeconfig({ server: nodeServer, caPem: pki.admin.caPem, user: 'admin', certPem: pki.admin.certPem, keyPem: pki.admin.keyPem }), { mode: 0o600 });

    const kubeConfig = (): KubeConfig => {
      return loadKubeConfig(kubeconfigPath);
    };
    const kubectl = (args: string[], o: { input?: string; kubeconfig?: string } = {}): Promise<CommandResult> =>
      runCommand(binaries.kubectl!, args, { ...process.env, KUBECONFIG: o.kubeconfig ?? kubeconfigPath }, o.input);

    const nodes: FakeNodeSpec[] = [];
    if (workloads || realNode) {
      progress('starting kube-controller-manager');
      await startWithPortRetry(async () => {
        const port = await portFor(NODE_PORTS.controllerManager);
        const p = track(startProcess(place({
          name: 'kube-controller-manager',
          command: binaries['kube-controller-manager']!,
          logPath: join(dir, 'kube-controller-manager.log'),
          args: controllerManagerArgs({ kubeconfigPath: componentKubeconfigPath, port: port.inner, pki }, Boolean(realNode)),
        })), binaries['kube-controller-manager']!);
        await waitUntil(p, 'healthy', async () => (await getText(`https://127.0.0.1:${port.outer}/healthz`, { insecure: true })).status === 200, timeout);
        return { p };
      });
      progress('starting kube-scheduler');
      await startWithPortRetry(async () => {
        const port = await portFor(NODE_PORTS.scheduler);
        const p = track(startProcess(place({
          name: 'kube-scheduler',
          command: binaries['kube-scheduler']!,
          logPath: join(dir, 'kube-scheduler.log'),
          args: schedulerArgs({ kubeconfigPath: componentKubeconfigPath, port: port.inner }),
        })), binaries['kube-scheduler']!);
        await waitUntil(p, 'healthy', async () => (await getText(`https://127.0.0.1:${port.outer}/healthz`, { insecure: true })).status === 200, timeout);
        return { p };
      });
    }
    let node: ControlPlane['realNode'];
    if (realNode) {
      const dnsReady = await portFor(NODE_PORTS.dnsReady);
      const started = await startRealNode({
        dir, ns: required(ns), binaries, binDir, ca: required(pki.ca), caCertPath: pki.caCert, images: required(images), nodeServer, kubeConfig: kubeConfig(), gpus: realNode.gpus, volumes: 16,
        dnsReadyUrl: `http://127.0.0.1:${dnsReady.outer}/ready`, track, progress, timeoutMs: timeout, ...(realNode.gitRoot ? { gitRoot: realNode.gitRoot } : {}),
      });
      const git = started.gitUrl ? { gitHostUrl: `http://127.0.0.1:${(await portFor(NODE_PORTS.git)).outer}` } : {};
      node = { ...started, ...git, namespace: required(ns) };
      nodes.push({ name: started.name, gpus: started.gpus });
    }
    if (workloads) {
      progress('starting kwok');
      const kwok = await startWithPortRetry(async () => {
        const port = await freePort();
        const p = track(startProcess({
          name: 'kwok',
          command: binaries.kwok!,
          logPath: join(dir, 'kwok.log'),
          args: kwokArgs({ kubeconfigPath, port, stagesPath: join(import.meta.dirname, 'kwok-pod-stages.yaml') }),
        }), binaries.kwok!);
        await waitUntil(p, 'healthy', async () => (await getText(`http://${KWOK_NODE_IP}:${port}/healthz`)).status === 200, timeout);
        return { p };
      });
      const count = workloads.nodes ?? 2;
      const gpus = workloads.gpusPerNode ?? 8;
      const core = kubeConfig().makeApiClient(CoreV1Api);
      for (let i = 0; i < count; i++) {
        const spec: FakeNodeSpec = { name: `gpu-node-${i}`, gpus };
        await core.createNode({ body: fakeGpuNode(spec) });
        nodes.push(spec);
      }
      progress(`waiting for ${count} fake GPU nodes to be Ready`);
      await waitUntil(kwok.p, 'managing Ready nodes', async () => {
        const list = await core.listNode({ labelSelector: 'type=kwok' });
        return list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === count;
      }, timeout);
    }

    return {
      id, dir, server: api.server, kubeconfigPath, caPem: pki.admin.caPem, admin: pki.admin, binaries, binDir, processes, nodes, ...(node ? { realNode: node } : {}),
      kubeConfig, kubectl,
      logTails: (lines = 30) => processes.map((p) => `--- ${p.name} (${p.logPath}) ---\n${tailFile(p.logPath, lines)}`).join('\n'),
      restartProcess,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function required<T>(v: T | undefined): T {
  if (v === undefined) throw new Error('real node: a piece set up before this step is missing');
  return v;
}

/** Destroys the node's namespaces, retrying a few times for processes that are still exiting; returns what is left. */
async function destroyUntilGone(node: NonNullable<RunRecord['node']>): Promise<string[]> {
  let left = destroyNodeNamespaces(node);
  for (let i = 0; i < 5 && left.length; i++) {
    await new Promise((r) => setTimeout(r, 500));
    left = destroyNodeNamespaces(node);
  }
  return left;
}

/** Retries a start whose freshly picked port was taken in the meantime by another process. */
async function startWithPortRetry<T extends { p: ManagedProcess }>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      const log = err instanceof LocalClusterError && typeof err.data.log === 'string' ? readFileSafe(err.data.log) : '';
      if (attempt >= 3 || !/address already in use/.test(log)) throw err;
    }
  }
}

function readFileSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

interface PkiFiles {
  /** The CA itself, which issues the real node's certificates. */
  ca?: CertificateAuthority;
  /** The apiserver's client certificate for kubelets (real node only). */
  kubeletClient?: { cert: string; key: string };
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  saKey: string;
  saPub: string;
  admin: { caPem: string; certPem: string; keyPem: string };
}

function writePki(dir: string, nodeIps: readonly string[]): PkiFiles {
  const pkiDir = join(dir, 'pki');
  mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  const ca = createCA('trainingjob-local-ca', 365);
  const server = issueCertificate(ca, {
    commonName: 'kube-apiserver',
    usage: 'server',
    validDays: 365,
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    ipAddresses: [...apiserverCertificateIps, ...nodeIps],
  });
  const admin = issueCertificate(ca, { commonName: 'trainingjob-admin', organization: ['system:masters'], usage: 'client', validDays: 365 });
  const sa = createSigningKey();
  const files: Record<string, string> = {
    'ca.crt': ca.certPem, 'ca.key': ca.keyPem, 'apiserver.crt': server.certPem, 'apiserver.key': server.keyPem,
    'sa.key': sa.privateKeyPem, 'sa.pub': sa.publicKeyPem, 'admin.crt': admin.certPem, 'admin.key': admin.keyPem,
  };
  if (nodeIps.length) {
    const kubeletClient = issueCertificate(ca, { commonName: 'kube-apiserver-kubelet-client', organization: ['system:masters'], usage: 'client', validDays: 365 });
    files['kubelet-client.crt'] = kubeletClient.certPem;
    files['kubelet-client.key'] = kubeletClient.keyPem;
  }
  for (const [f, content] of Object.entries(files)) writeFileSync(join(pkiDir, f), content, { mode: 0o600 });
  return {
    ca,
    ...(nodeIps.length ? { kubeletClient: { cert: join(pkiDir, 'kubelet-client.crt'), key: join(pkiDir, 'kubelet-client.key') } } : {}),
    caCert: join(pkiDir, 'ca.crt'), caKey: join(pkiDir, 'ca.key'), serverCert: join(pkiDir, 'apiserver.crt'), serverKey: join(pkiDir, 'apiserver.key'),
    saKey: join(pkiDir, 'sa.key'), saPub: join(pkiDir, 'sa.pub'),
    admin: { caPem: ca.certPem, certPem: admin.certPem, keyPem: admin.keyPem },
  };
}
