// The real node's configuration, read without starting anything: every address its daemons are told
// lies in the node's private ranges (which exist only in its namespace) or on loopback, nothing forwards
// DNS off the machine, and the settings this VM needs (no CAP_SYS_RESOURCE, cgroup v1) are there.
import t from 'tap';
import { parse } from 'yaml';
import { isLoopbackHost } from '../../kube/dial-guard.ts';
import { apiserverArgs, controllerManagerArgs } from '../../localcluster/component-args.ts';
import { CLUSTER_DNS_IP, NODE_IP, NODE_KUBERNETES_SERVICE_IP, NODE_POD_CIDR, NODE_PRIVATE_RANGES, NODE_SERVICE_CIDR } from '../../localcluster/realnode/addresses.ts';
import { containerdConfig, cniConflist, corefile, kubeletConfig, kubeProxyArgs } from '../../localcluster/realnode/node-config.ts';
import { parsePairs } from '../../localcluster/realnode/loopback-bridge.ts';
import { inIpv4Cidr, nonLoopbackAddresses, type ClusterAddresses } from '../harness/loopback-audit.ts';

const contained = (ip: string): boolean => isLoopbackHost(ip) || NODE_PRIVATE_RANGES.some((c) => inIpv4Cidr(ip, c));
const ipsIn = (text: string): string[] => [...text.matchAll(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g)].map((m) => m[0]);
const paths = { containerdDir: '/n/containerd', cniConfDir: '/n/cni', runc: '/usr/sbin/runc', cniBinDir: '/usr/lib/cni' };
const kubelet = parse(kubeletConfig({ cgroupRoot: '/trainingjob-x', clientCaFile: '/p/ca.crt', tlsCertFile: '/p/k.crt', tlsKeyFile: '/p/k.key', resolvConf: '/n/resolv.conf' })) as Record<string, unknown>;

t.test('the node\'s ranges are private, inside the ranges the host blackholes, and consistent', async (t) => {
  t.ok(inIpv4Cidr(NODE_IP, '10.244.0.0/16'), 'node IP in the blackholed pod range');
  t.notOk(inIpv4Cidr(NODE_IP, NODE_POD_CIDR), 'node IP outside the IPAM range, so no pod can take it');
  t.ok(inIpv4Cidr(NODE_KUBERNETES_SERVICE_IP, NODE_SERVICE_CIDR), 'kubernetes Service IP in the Service range');
  t.equal(NODE_SERVICE_CIDR, '10.0.0.0/24', 'the Service range the guide blackholes');
  t.equal(CLUSTER_DNS_IP, NODE_IP, 'CoreDNS answers on the node itself');
});

t.test('every address the node\'s daemons are told is contained', async (t) => {
  const lines: Record<string, string> = {
    containerd: containerdConfig(paths, 'trainingjob.local/pause:1'),
    cni: cniConflist(),
    kubelet: kubeletConfig({ cgroupRoot: '/trainingjob-x', clientCaFile: '/p/ca.crt', tlsCertFile: '/p/k.crt', tlsKeyFile: '/p/k.key', resolvConf: '/n/resolv.conf' }),
    corefile: corefile('/n/coredns.kubeconfig'),
    'kube-proxy': kubeProxyArgs('/n/kp.kubeconfig', 'node', '10.244.0.0/16').join(' '),
    'kube-apiserver': apiserverArgs({ etcdUrl: 'http://127.0.0.1:2379', port: 6443, certDir: '/c', pki: { caCert: '/p/ca', serverCert: '/p/s', serverKey: '/p/k', saKey: '/p/sa', saPub: '/p/sp' } }, { advertiseAddress: NODE_IP, serviceCidr: NODE_SERVICE_CIDR, kubeletClientCert: '/p/kc', kubeletClientKey: '/p/kk' }).join(' '),
  };
  for (const [name, text] of Object.entries(lines)) {
    const ips = ipsIn(text);
    t.ok(ips.length > 0, `${name}: addresses found`);
    t.same(ips.filter((ip) => !contained(ip) && ip !== '0.0.0.0'), [], `${name}: every address is loopback or the node's own`);
  }
});

t.test('CoreDNS serves cluster.local and forwards nothing', async (t) => {
  const cf = corefile('/n/coredns.kubeconfig');
  t.match(cf, /kubernetes cluster\.local/);
  t.notMatch(cf, /\bforward\b/, 'no forward plugin');
  t.notMatch(cf, /resolv\.conf/, 'never the host resolver');
});

t.test('the settings this VM needs are set', async (t) => {
  const c = containerdConfig(paths, 'trainingjob.local/pause:1');
  t.match(c, /restrict_oom_score_adj = true/, 'no CAP_SYS_RESOURCE: containerd keeps oom_score_adj');
  t.match(c, /tolerate_missing_hugetlb_controller = true/, 'cgroup v1 without hugetlb');
  t.match(c, /netns_mounts_under_state_dir = true/, 'pod netns files stay in our state dir');
  t.match(c, /sandbox = 'trainingjob\.local\/pause:1'/, 'the local pause image is pinned');
  t.equal(kubelet.oomScoreAdj, 0);
  t.equal(kubelet.cgroupDriver, 'cgroupfs');
  t.equal(kubelet.failCgroupV1, false);
  t.equal(kubelet.imageGCHighThresholdPercent, 100, 'images that cannot be pulled again are never collected');
  t.same(kubelet.clusterDNS, [CLUSTER_DNS_IP]);
  const cni = JSON.parse(cniConflist()) as { plugins: { type: string; ipMasq?: boolean }[] };
  t.equal(cni.plugins[0]!.type, 'bridge');
  t.equal(cni.plugins[0]!.ipMasq, false, 'nothing to masquerade for: no way out');
  t.match(controllerManagerArgs({ kubeconfigPath: '/k', port: 1, pki: { caCert: '/a', caKey: '/b', saKey: '/c' } }, true).join(' '), /--controllers=(?!.*endpointslice-controller)/, 'EndpointSlices are written for the real node');
});

t.test('the loopback bridge takes HOSTPORT=NODEPORT pairs and refuses anything else', async (t) => {
  t.same(parsePairs(['40001=6443', '40002=2379']), [{ hostPort: 40001, nodePort: 6443 }, { hostPort: 40002, nodePort: 2379 }]);
  t.throws(() => parsePairs(['10.0.0.1:6443']), /HOSTPORT=NODEPORT/);
});

t.test('the audit accepts the node\'s contained ranges only when told', async (t) => {
  const snapshot: ClusterAddresses = {
    nodes: [{ metadata: { name: 'n' }, status: { addresses: [{ type: 'InternalIP', address: NODE_IP }] } }],
    pods: [{ metadata: { name: 'p', namespace: 'd' }, status: { podIP: '10.244.0.7' } }],
    services: [{ metadata: { name: 's', namespace: 'd' }, spec: { clusterIP: '10.0.0.42', externalIPs: ['192.0.2.10'] } }],
    serviceCidrs: [{ metadata: { name: 'kubernetes' }, spec: { cidrs: [NODE_SERVICE_CIDR] } }],
    endpointSlices: [], endpoints: [], webhookConfigurations: [], crds: [], apiServices: [], jobRepositories: [],
  };
  t.equal(nonLoopbackAddresses(snapshot).length, 5, 'without the node ranges every private address is named');
  t.same(nonLoopbackAddresses(snapshot, NODE_PRIVATE_RANGES), ['Service d/s spec.externalIPs: 192.0.2.10'], 'with them, only what lies outside');
});
