// Configuration files of the real node's daemons (containerd, the CNI bridge, kubelet, CoreDNS), kept
// pure so a unit test reads what each is told, and every address it names, without starting anything.
import { stringify } from 'yaml';
import { CLUSTER_DNS_IP, NODE_IP, NODE_POD_CIDR, NODE_PORTS } from './addresses.ts';

export interface NodePaths {
  /** containerd's root, state and socket folder. */
  containerdDir: string;
  cniConfDir: string;
  runc: string;
  cniBinDir: string;
}

export function containerdSocket(p: Pick<NodePaths, 'containerdDir'>): string {
  return `${p.containerdDir}/containerd.sock`;
}

export function containerdConfig(p: NodePaths, pauseImage: string): string {
  const d = p.containerdDir;
  return `version = 3
root = ${q(`${d}/root`)}
state = ${q(`${d}/state`)}

[grpc]
  address = ${q(containerdSocket(p))}

[ttrpc]
  address = ${q(`${d}/containerd.sock.ttrpc`)}

[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'

    # No registry can be reached: the sandbox image is built and imported locally, and pinned so GC keeps it.
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = ${q(pauseImage)}

  [plugins.'io.containerd.cri.v1.runtime']
    # This VM lacks CAP_SYS_RESOURCE: lowering a container's oom_score_adj below ours fails runc create.
    restrict_oom_score_adj = true
    # cgroup v1 without the hugetlb controller.
    tolerate_missing_hugetlb_controller = true
    disable_hugetlb_controller = true
    # Pod network namespaces stay under our state dir, never in the host's /run/netns.
    netns_mounts_under_state_dir = true
    enable_cdi = false

    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'

      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = 'io.containerd.runc.v2'

        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = ${q(p.runc)}
          Root = ${q(`${d}/runc`)}
          SystemdCgroup = false

    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = [${q(p.cniBinDir)}]
      conf_dir = ${q(p.cniConfDir)}

  [plugins.'io.containerd.grpc.v1.cri']
    disable_tcp_service = true
    stream_server_address = '127.0.0.1'
    stream_server_port = '0'
`;
}

const q = (s: string): string => `'${s.replace(/'/g, '')}'`;

/** The pod network: one bridge in the node's namespace; pods' default route is the bridge, and the namespace has none. */
export function cniConflist(): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'trainingjob-node',
    plugins: [
      {
        type: 'bridge', bridge: 'cni0', isGateway: true,
        // Nothing to masquerade for: the namespace has no way out.
        ipMasq: false, hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: NODE_POD_CIDR }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  }, null, 2);
}

export interface KubeletConfigInput {
  cgroupRoot: string;
  clientCaFile: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  resolvConf: string;
}

export function kubeletConfig(i: KubeletConfigInput): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: NODE_IP,
    port: NODE_PORTS.kubelet,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: NODE_PORTS.kubeletHealthz,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: i.clientCaFile } },
    authorization: { mode: 'Webhook' },
    tlsCertFile: i.tlsCertFile,
    tlsPrivateKeyFile: i.tlsKeyFile,
    // cgroup v1 with cgroupfs here; every pod cgroup lives under our own root, removed at teardown.
    cgroupDriver: 'cgroupfs',
    cgroupRoot: i.cgroupRoot,
    failCgroupV1: false,
    // No CAP_SYS_RESOURCE on this VM: kubelet must not lower its own oom_score_adj.
    oomScoreAdj: 0,
    clusterDNS: [CLUSTER_DNS_IP],
    clusterDomain: 'cluster.local',
    resolvConf: i.resolvConf,
    failSwapOn: false,
    // Images cannot be pulled again here (no registry), so image GC must never remove one.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
    serializeImagePulls: false,
    protectKernelDefaults: false,
    maxPods: 110,
    registerNode: true,
    // Fast status so tests see Ready and pod phases without long waits.
    nodeStatusUpdateFrequency: '4s',
    syncFrequency: '10s',
    fileCheckFrequency: '10s',
    logging: { format: 'text', verbosity: 1 },
  });
}

/** Cluster DNS for cluster.local only: no forward plugin, so nothing is ever sent off the machine. */
export function corefile(kubeconfigPath: string): string {
  return `cluster.local:${NODE_PORTS.dns} in-addr.arpa:${NODE_PORTS.dns} ip6.arpa:${NODE_PORTS.dns} {
    bind ${CLUSTER_DNS_IP}
    errors
    health 127.0.0.1:${NODE_PORTS.dnsHealth}
    ready 127.0.0.1:${NODE_PORTS.dnsReady}
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig ${kubeconfigPath}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    cache 5
}
.:${NODE_PORTS.dns} {
    bind ${CLUSTER_DNS_IP}
    errors
}
`;
}

export function kubeProxyArgs(kubeconfigPath: string, nodeName: string, clusterCidr: string): string[] {
  return [
    `--kubeconfig=${kubeconfigPath}`, '--proxy-mode=iptables', `--hostname-override=${nodeName}`,
    `--cluster-cidr=${clusterCidr}`, `--bind-address=${NODE_IP}`,
    `--healthz-bind-address=127.0.0.1:${NODE_PORTS.kubeProxyHealthz}`, `--metrics-bind-address=127.0.0.1:${NODE_PORTS.kubeProxyMetrics}`,
    // conntrack limits are host-wide and read-only from a non-initial network namespace: leave them alone.
    '--conntrack-max-per-core=0', '--conntrack-tcp-timeout-established=0', '--conntrack-tcp-timeout-close-wait=0',
    '--v=1',
  ];
}
