// Command lines of the local cluster's components, kept pure so a unit test can check that every
// address they name is loopback and nothing phones home.
import { KUBERNETES_SERVICE_IP, KWOK_NODE_IP, KWOK_POD_CIDR, SERVICE_CIDR } from './network.ts';

export interface ApiserverArgsInput {
  etcdUrl: string;
  port: number;
  certDir: string;
  pki: { caCert: string; serverCert: string; serverKey: string; saKey: string; saPub: string };
}

/** What changes when the cluster runs inside the real node's namespace (addresses there are the node's own). */
export interface RealNodeApiserver {
  advertiseAddress: string;
  serviceCidr: string;
  kubeletClientCert: string;
  kubeletClientKey: string;
}

export function apiserverArgs({ etcdUrl, port, certDir, pki }: ApiserverArgsInput, realNode?: RealNodeApiserver): string[] {
  const placement = realNode
    ? [
      // Inside the node's namespace, which has no route out: pods reach the apiserver through the `kubernetes` Service.
      '--bind-address=0.0.0.0', `--advertise-address=${realNode.advertiseAddress}`,
      `--service-cluster-ip-range=${realNode.serviceCidr}`,
      `--kubelet-client-certificate=${realNode.kubeletClientCert}`, `--kubelet-client-key=${realNode.kubeletClientKey}`,
      `--kubelet-certificate-authority=${pki.caCert}`,
      '--authorization-mode=Node,RBAC',
      // kubelet and containerd share the host's PID namespace: a privileged hostPID pod could nsenter out.
      '--allow-privileged=false',
    ]
    : [
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      // Endpoints refuse loopback addresses: the apiserver's own `kubernetes` Endpoints would only fail.
      '--endpoint-reconciler-type=none',
      '--authorization-mode=RBAC',
      '--allow-privileged=true',
    ];
  return [
    `--etcd-servers=${etcdUrl}`,
    ...placement,
    `--secure-port=${port}`,
    `--cert-dir=${certDir}`,
    `--tls-cert-file=${pki.serverCert}`, `--tls-private-key-file=${pki.serverKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--service-account-key-file=${pki.saPub}`, `--service-account-signing-key-file=${pki.saKey}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    // Logs, exec and port-forward dial the node's InternalIP (kwok's server, or the real kubelet), never a looked-up host name.
    '--kubelet-preferred-address-types=InternalIP',
    '--profiling=false',
    '--v=1',
  ];
}

export interface ComponentArgsInput {
  kubeconfigPath: string;
  port: number;
}

export function controllerManagerArgs({ kubeconfigPath, port, pki }: ComponentArgsInput & { pki: { caCert: string; caKey: string; saKey: string } }, realNode = false): string[] {
  return [
    ...componentKubeconfig(kubeconfigPath),
    '--bind-address=127.0.0.1', `--secure-port=${port}`, '--leader-elect=false',
    `--service-account-private-key-file=${pki.saKey}`, `--root-ca-file=${pki.caCert}`,
    `--cluster-signing-cert-file=${pki.caCert}`, `--cluster-signing-key-file=${pki.caKey}`,
    '--use-service-account-credentials=true',
    // No cloud, and pod IPs come from kwok or the CNI's own IPAM: controllers that manage them only add noise.
    // On kwok, Endpoints and EndpointSlices refuse the loopback pod IPs, so their writers could only fail;
    // the real node's pod IPs are real, and kube-proxy and CoreDNS read its EndpointSlices.
    `--controllers=*,-nodeipam,-service-lb-controller,-cloud-node-lifecycle-controller,-node-route-controller${realNode ? '' : ',-endpoints-controller,-endpointslice-controller,-endpointslice-mirroring-controller'}`,
    '--v=1',
  ];
}

export function schedulerArgs({ kubeconfigPath, port }: ComponentArgsInput): string[] {
  return [...componentKubeconfig(kubeconfigPath), '--bind-address=127.0.0.1', `--secure-port=${port}`, '--leader-elect=false', '--v=1'];
}

export function kwokArgs({ kubeconfigPath, port, stagesPath }: ComponentArgsInput & { stagesPath: string }): string[] {
  return [
    `--kubeconfig=${kubeconfigPath}`,
    '--manage-all-nodes=false',
    '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    `--cidr=${KWOK_POD_CIDR}`, `--node-ip=${KWOK_NODE_IP}`,
    // The node's kubelet port is kwok's own server, on the node IP above.
    `--server-address=${KWOK_NODE_IP}:${port}`, `--node-port=${port}`,
    `--config=${stagesPath}`,
  ];
}

/** IP addresses the apiserver's serving certificate names: host loopback and the `kubernetes` Service. */
export const apiserverCertificateIps = ['127.0.0.1', KUBERNETES_SERVICE_IP];

function componentKubeconfig(path: string): string[] {
  return ['--kubeconfig', '--authentication-kubeconfig', '--authorization-kubeconfig'].map((f) => `${f}=${path}`);
}
