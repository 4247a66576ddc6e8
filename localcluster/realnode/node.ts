// Starts the real node inside its namespaces, after the control plane: containerd (with our locally built
// images imported), kubelet, kube-proxy and CoreDNS; then advertises GPU capacity the documented way
// (a node-status patch for an extended resource) so scheduling and quota arithmetic stay real.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { issueCertificate, type CertificateAuthority } from '../../certs/pki.ts';
import { createKubeClient } from '../../kube/client.ts';
import { LocalClusterError } from '../errors.ts';
import { renderKubeconfig } from '../kubeconfig.ts';
import { runCommand, startProcess, waitUntil, type CommandResult, type ManagedProcess } from '../process.ts';
import { realNodeUnsupported } from './support.ts';
import { createVolumePool } from '../volumes.ts';
import { CLUSTER_DNS_IP, NODE_IP, NODE_PORTS, NODE_PRIVATE_RANGES } from './addresses.ts';
import { containerdConfig, containerdSocket, cniConflist, corefile, kubeletConfig, kubeProxyArgs } from './node-config.ts';
import type { NodeNamespaces } from './namespaces.ts';
import type { NodeImage, NodeImages } from './images.ts';

export const REAL_NODE_NAME = 'trainingjob-node';

export interface RealNodeInput {
  dir: string;
  ns: NodeNamespaces;
  binaries: Record<string, string>;
  binDir: string;
  ca: CertificateAuthority;
  caCertPath: string;
  images: NodeImages;
  /** The apiserver as seen from inside the node's namespace. */
  nodeServer: string;
  /** Host-side client config, for waiting on the node through the API. */
  kubeConfig: KubeConfig;
  gpus: number;
  /** hostPath PersistentVolumes to pre-create for checkpoint PVCs. */
  volumes: number;
  /** Host port forwarded to CoreDNS's readiness endpoint. */
  dnsReadyUrl: string;
  /** Serve the bare repositories in this folder over smart HTTP on NODE_IP:NODE_PORTS.git (the CLI's cluster). */
  gitRoot?: string;
  track(p: ManagedProcess, exe: string): ManagedProcess;
  progress(line: string): void;
  timeoutMs: number;
}

export interface RealNode {
  name: string;
  gpus: number;
  images: NodeImages;
  containerdSocket: string;
  /** The git server as pods see it (http://NODE_IP:port), when asked for. */
  gitUrl?: string;
  /** Loads one more image into the node's containerd (pods then run it with imagePullPolicy IfNotPresent). */
  importImage(image: NodeImage, progress?: (line: string) => void): Promise<void>;
}

export async function startRealNode(i: RealNodeInput): Promise<RealNode> {
  const base = join(i.dir, 'node');
  const paths = { containerdDir: join(base, 'containerd'), cniConfDir: join(base, 'cni'), runc: '/usr/sbin/runc', cniBinDir: '/usr/lib/cni' };
  for (const d of [base, paths.containerdDir, paths.cniConfDir]) mkdirSync(d, { recursive: true });
  const unsupported = realNodeUnsupported();
  if (unsupported) throw new LocalClusterError('NodeSetupFailed', unsupported, {});
  const env = { PATH: `${i.binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: base };
  const start = (name: string, exe: string, args: string[]): ManagedProcess => {
    const { command, args: full } = i.ns.enter(exe, args);
    return i.track(startProcess({ name, command, args: full, env, logPath: join(i.dir, `${name}.log`) }), exe);
  };

  i.progress('starting containerd');
  writeFileSync(join(paths.cniConfDir, '10-trainingjob.conflist'), cniConflist());
  const containerdConf = join(base, 'containerd.toml');
  writeFileSync(containerdConf, containerdConfig(paths, i.images.pause.ref));
  const socket = containerdSocket(paths);
  const containerd = start('containerd', i.binaries.containerd!, ['--config', containerdConf, '--log-level', 'warn']);
  const ctr = (args: string[]): Promise<CommandResult> => runCommand(i.binaries.ctr!, ['--address', socket, '--namespace', 'k8s.io', ...args], env);
  await waitUntil(containerd, 'serving', async () => existsSync(socket) && (await ctr(['version'])).code === 0, i.timeoutMs);

  const importImage = async (image: NodeImage, progress = i.progress): Promise<void> => {
    progress(`importing ${image.ref} into the node`);
    const r = await ctr(['images', 'import', '--no-unpack=false', image.archive]);
    if (r.code !== 0) throw new LocalClusterError('ImageImportFailed', `ctr images import ${image.archive} failed: ${r.stderr.trim()}`, { image: image.ref });
  };
  // The trainer is large and only some runs use it: importImage(images.trainer) brings it in then.
  for (const image of [i.images.pause, i.images.app, i.images.worker]) await importImage(image);

  i.progress('starting kubelet');
  const pkiDir = join(base, 'pki');
  mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  const credential = (file: string, req: Parameters<typeof issueCertificate>[1]): { cert: string; key: string } => {
    const kp = issueCertificate(i.ca, req);
    writeFileSync(join(pkiDir, `${file}.crt`), kp.certPem, { mode: 0o600 });
    writeFileSync(join(pkiDir, `${file}.key`), kp.keyPem, { mode: 0o600 });
    return { cert: join(pkiDir, `${file}.crt`), key: join(pkiDir, `${file}.key`) };
  };
  const kubeconfigFor = (file: string, user: string, req: Parameters<typeof issueCertificate>[1]): string => {
    const kp = issueCertificate(i.ca, req);
    const path = join(base, `${file}.kubeconfig`);
    writeFileSync(path, renderKubeconfig({ server: i.nodeServer, caPem: i.ca.certPem, user, certPem: kp.certPem, keyPem: kp.keyPem }), { mode: 0o600 });
    return path;
  };
  const serving = credential('kubelet-serving', { commonName: `system:node:${REAL_NODE_NAME}`, organization: ['system:nodes'], usage: 'server', validDays: 365, ipAddresses: [NODE_IP], dnsNames: [REAL_NODE_NAME] });
  const kubeletKubeconfig = kubeconfigFor('kubelet', REAL_NODE_NAME, { commonName: `system:node:${REAL_NODE_NAME}`, organization: ['system:nodes'], usage: 'client', validDays: 365 });
  const resolvConf = join(base, 'resolv.conf');
  // Pods with dnsPolicy Default get the node's resolver: CoreDNS too, never the host's.
  writeFileSync(resolvConf, `nameserver ${CLUSTER_DNS_IP}\n`);
  const kubeletConf = join(base, 'kubelet.yaml');
  writeFileSync(kubeletConf, kubeletConfig({ cgroupRoot: `/${i.ns.cgroup}`, clientCaFile: i.caCertPath, tlsCertFile: serving.cert, tlsKeyFile: serving.key, resolvConf }));
  const kubelet = start('kubelet', i.binaries.kubelet!, [
    `--config=${kubeletConf}`, `--kubeconfig=${kubeletKubeconfig}`, `--container-runtime-endpoint=unix://${socket}`,
    `--node-ip=${NODE_IP}`, `--hostname-override=${REAL_NODE_NAME}`, '--node-labels=trainingjob.local/node=real,nvidia.com/gpu.present=true',
  ]);

  i.progress('starting kube-proxy');
  const proxyKubeconfig = kubeconfigFor('kube-proxy', 'kube-proxy', { commonName: 'system:kube-proxy', usage: 'client', validDays: 365 });
  start('kube-proxy', i.binaries['kube-proxy']!, kubeProxyArgs(proxyKubeconfig, REAL_NODE_NAME, NODE_PRIVATE_RANGES[0]));

  i.progress('starting CoreDNS');
  // CoreDNS reads Services, EndpointSlices, Namespaces and Pods cluster-wide: the built-in view role is not enough, so it uses the admin identity of the harness.
  const dnsKubeconfig = kubeconfigFor('coredns', 'coredns', { commonName: 'trainingjob-coredns', organization: ['system:masters'], usage: 'client', validDays: 365 });
  const corefilePath = join(base, 'Corefile');
  writeFileSync(corefilePath, corefile(dnsKubeconfig));
  const dns = start('coredns', i.binaries.coredns!, ['-conf', corefilePath]);

  const client = createKubeClient({ kubeConfig: i.kubeConfig });
  const nodeRef = { version: 'v1', plural: 'nodes', name: REAL_NODE_NAME };
  const nodeNow = (): Promise<V1Node | undefined> => client.find<V1Node>(nodeRef);
  i.progress('waiting for the real node to be Ready');
  await waitUntil(kubelet, 'Ready', async () => Boolean((await nodeNow())?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')), i.timeoutMs);
  if (i.gpus > 0) {
    await client.patchStatus(nodeRef, { status: { capacity: { 'nvidia.com/gpu': String(i.gpus) } } });
    // kubelet derives allocatable from capacity at its next status update.
    await waitUntil(kubelet, `showing ${i.gpus} allocatable GPUs`, async () => (await nodeNow())?.status?.allocatable?.['nvidia.com/gpu'] === String(i.gpus), i.timeoutMs);
  }
  await waitUntil(dns, 'ready', async () => (await fetch(i.dnsReadyUrl)).ok, i.timeoutMs);
  // No storage provisioner: checkpoint PVCs bind to these (the PV controller's binder), on the node's disk.
  await createVolumePool(i.kubeConfig.makeApiClient(CoreV1Api), i.volumes, { hostRoot: join(base, 'volumes') });
  const gitUrl = i.gitRoot ? await startGitServer(i.gitRoot, start, i.dir, i.timeoutMs) : undefined;
  return { name: REAL_NODE_NAME, gpus: i.gpus, images: i.images, containerdSocket: socket, importImage, ...(gitUrl ? { gitUrl } : {}) };
}

async function startGitServer(root: string, start: (name: string, exe: string, args: string[]) => ManagedProcess, dir: string, timeoutMs: number): Promise<string> {
  mkdirSync(root, { recursive: true });
  // A kept cluster folder may hold the last run's log: its "ready" line must not pass for this run's.
  rmSync(join(dir, 'git-server.log'), { force: true });
  const git = start('git-server', process.execPath, [join(import.meta.dirname, 'node-git-server.ts'), root, String(NODE_PORTS.git)]);
  await waitUntil(git, 'listening', async () => existsSync(git.logPath) && readFileSync(git.logPath, 'utf8').includes('ready '), timeoutMs);
  return `http://${NODE_IP}:${NODE_PORTS.git}`;
}
