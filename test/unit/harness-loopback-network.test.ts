// The local cluster's ranges, node IPs and component flags are loopback-only, and third-party
// binaries run with telemetry off: a regression here would send packets off this machine.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLoopbackCidr, isLoopbackHost } from '../../kube/dial-guard.ts';
import { apiserverArgs, apiserverCertificateIps, controllerManagerArgs, kwokArgs, schedulerArgs } from '../../localcluster/component-args.ts';
import { KUBERNETES_SERVICE_IP, KWOK_NODE_IP, KWOK_POD_CIDR, SERVICE_CIDR } from '../../localcluster/network.ts';
import { repoRoot } from '../../localcluster/binaries.ts';
import { opaServerArgs } from '../../bench/opa-args.ts';

const pki = { caCert: '/p/ca.crt', caKey: '/p/ca.key', serverCert: '/p/s.crt', serverKey: '/p/s.key', saKey: '/p/sa.key', saPub: '/p/sa.pub' };
const commandLines: Record<string, string[]> = {
  'kube-apiserver': apiserverArgs({ etcdUrl: 'http://127.0.0.1:2379', port: 6443, certDir: '/p/certs', pki }),
  'kube-controller-manager': controllerManagerArgs({ kubeconfigPath: '/p/kubeconfig', port: 10257, pki }),
  'kube-scheduler': schedulerArgs({ kubeconfigPath: '/p/kubeconfig', port: 10259 }),
  kwok: kwokArgs({ kubeconfigPath: '/p/kubeconfig', port: 10250, stagesPath: '/p/stages.yaml' }),
  opa: opaServerArgs({ port: 8181, certPath: '/p/c', keyPath: '/p/k', policyPath: '/p/r.rego', dataPath: '/p/d.json' }),
};
const flag = (args: string[], name: string): string | undefined => args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);

t.test('every range and address constant lies in 127.0.0.0/8', async (t) => {
  t.ok(isLoopbackCidr(SERVICE_CIDR), `service range ${SERVICE_CIDR}`);
  t.ok(isLoopbackCidr(KWOK_POD_CIDR), `kwok pod range ${KWOK_POD_CIDR}`);
  t.ok(isLoopbackHost(KWOK_NODE_IP), `kwok node IP ${KWOK_NODE_IP}`);
  t.ok(isLoopbackHost(KUBERNETES_SERVICE_IP), `kubernetes Service IP ${KUBERNETES_SERVICE_IP}`);
  t.equal(KUBERNETES_SERVICE_IP, SERVICE_CIDR.replace(/0\/\d+$/, '1'), 'the kubernetes Service takes the first address of the range');
  t.same(apiserverCertificateIps.filter((ip) => !isLoopbackHost(ip)), [], 'the apiserver certificate names loopback IPs only');
  t.ok(apiserverCertificateIps.includes(KUBERNETES_SERVICE_IP), 'and the kubernetes Service IP, as pods would dial it');
});

t.test('no component command line names an address outside loopback', async (t) => {
  for (const [name, args] of Object.entries(commandLines)) {
    const addresses = args.flatMap((a) => [...a.matchAll(/\b\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?\b/g)].map((m) => m[0]));
    const hosts = args.flatMap((a) => [...a.matchAll(/\bhttps?:\/\/([^/:]+)/g)].map((m) => m[1]!));
    t.ok(addresses.length + hosts.length > 0, `${name}: its addresses were found`);
    t.same(addresses.filter((a) => !(a.includes('/') ? isLoopbackCidr(a) : isLoopbackHost(a))), [], `${name}: every IP and range is loopback`);
    t.same(hosts.filter((h) => !isLoopbackHost(h) && !h.endsWith('.svc.cluster.local')), [], `${name}: every URL host is loopback (the SA issuer is a name, never dialled)`);
  }
});

t.test('the flags that keep the apiserver, controllers and kwok on loopback are set', async (t) => {
  const api = commandLines['kube-apiserver']!;
  t.equal(flag(api, '--service-cluster-ip-range'), SERVICE_CIDR);
  t.equal(flag(api, '--endpoint-reconciler-type'), 'none', 'no Endpoints for the apiserver itself (loopback is refused there)');
  t.equal(flag(api, '--kubelet-preferred-address-types'), 'InternalIP', 'logs and exec dial the node IP, never a looked-up host name');
  const controllers = flag(commandLines['kube-controller-manager']!, '--controllers')!.split(',');
  for (const c of ['endpoints-controller', 'endpointslice-controller', 'endpointslice-mirroring-controller', 'nodeipam']) t.ok(controllers.includes(`-${c}`), `kube-controller-manager runs without ${c}`);
  const kwok = commandLines.kwok!;
  t.equal(flag(kwok, '--cidr'), KWOK_POD_CIDR);
  t.equal(flag(kwok, '--node-ip'), KWOK_NODE_IP);
  t.equal(flag(kwok, '--server-address'), `${KWOK_NODE_IP}:${flag(kwok, '--node-port')}`, "the node's kubelet port is kwok's own server");
});

t.test('third-party binaries run with telemetry and update checks off', async (t) => {
  t.ok(commandLines.opa!.includes('--disable-telemetry'), 'OPA');
  t.match(readFileSync(join(repoRoot, '.npmrc'), 'utf8'), /^update-notifier=false$/m, 'npm asks no registry for a newer npm');
  const ci = readFileSync(join(repoRoot, '.ci', 'run'), 'utf8');
  t.match(ci, /unshare --net -- bash -c 'ip link set lo up && .*npm test'/, 'CI runs the test phase in a network namespace with only lo');
});
