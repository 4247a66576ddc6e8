// The real node's addresses. They are private-range, so they exist only inside the node's own network
// namespace, which has no route out (only lo, the CNI bridge and veths). They lie in the ranges the
// developers' guide has people blackhole on their machines, a second guard should a host client ever dial one.

/** Pod IPs handed out by the CNI bridge's host-local IPAM; the bridge (pods' gateway) takes the first. */
export const NODE_POD_CIDR = '10.244.0.0/24';
/** The node's InternalIP, on the namespace's lo (this VM has no dummy links): kubelet, kube-proxy and CoreDNS answer there. */
export const NODE_IP = '10.244.255.1';
/** Service ClusterIPs, which kube-proxy's iptables rules serve inside the namespace. */
export const NODE_SERVICE_CIDR = '10.0.0.0/24';
/** The `kubernetes` Service, named in the apiserver's certificate. */
export const NODE_KUBERNETES_SERVICE_IP = '10.0.0.1';
/** Pods' nameserver: CoreDNS runs on the node itself, so no Service is needed to reach it. */
export const CLUSTER_DNS_IP = NODE_IP;
/** Every range a pod or Service address may take, for kube-proxy's cluster CIDR and the containment test. */
export const NODE_PRIVATE_RANGES = ['10.244.0.0/16', NODE_SERVICE_CIDR] as const;

/** Fixed ports: the namespace is the node's alone, so nothing else can hold them, and its config files stay pure. */
export const NODE_PORTS = {
  etcdClient: 2379,
  etcdPeer: 2380,
  apiserver: 6443,
  controllerManager: 10257,
  scheduler: 10259,
  kubelet: 10250,
  kubeletHealthz: 10248,
  kubeProxyHealthz: 10256,
  kubeProxyMetrics: 10249,
  dns: 53,
  dnsHealth: 8080,
  dnsReady: 8181,
  /** The cluster's git server (cluster up --node real), for the in-cluster controller and, bridged, for pushes. */
  git: 8929,
} as const;
