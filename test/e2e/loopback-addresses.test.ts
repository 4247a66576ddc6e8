// Everything this test cluster could make anyone dial is loopback: node addresses, pod and host IPs,
// Service ClusterIPs and the ServiceCIDR, webhook and conversion endpoints (by URL or through a
// Service), and JobRepository hosts. The same audit runs before every control plane stops (tap.ts);
// here it runs on a cluster that has one of each, and is shown to catch a leak.
import t from 'tap';
import { CustomObjectsApi, AdmissionregistrationV1Api } from '@kubernetes/client-node';
import { controllerEnv } from '../harness/e2e.ts';
import { startGitServer } from '../../localcluster/git-server.ts';
import { eventually } from '../harness/tap.ts';
import { nonLoopbackAddresses, readClusterAddresses } from '../harness/loopback-audit.ts';
import { KWOK_NODE_IP, KWOK_POD_CIDR, SERVICE_CIDR } from '../../localcluster/network.ts';
import type { TrainingJob } from '../../api/index.ts';

const namespace = 'net';
const env = await controllerEnv(t, { namespace });
const { cp, core, kc } = env;
const custom = kc.makeApiClient(CustomObjectsApi);
const git = await startGitServer();
t.teardown(() => git.stop());
git.createRepo('jobs');

// A running job (its pods get IPs), a plain ClusterIP Service, a Service-referenced webhook as the
// manifests register one (its selector matches no namespace, so the apiserver never calls it) and a JobRepository.
await custom.createNamespacedCustomObject({ group: 'ml.example.com', version: 'v1', namespace, plural: 'trainingjobs', body: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: 'net-job', namespace }, spec: { model: 'bert', numWorkers: 2, gpusPerWorker: 1, checkpoint: { enabled: false }, hyperparameters: { kwokRunTime: '1h' } } } });
await core.createNamespacedService({ namespace, body: { metadata: { name: 'plain' }, spec: { selector: { app: 'plain' }, ports: [{ port: 443, targetPort: 8443 }] } } });
await kc.makeApiClient(AdmissionregistrationV1Api).createValidatingWebhookConfiguration({
  body: {
    metadata: { name: 'by-service' },
    webhooks: [{
      name: 'by-service.ml.example.com', admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy: 'Ignore',
      clientConfig: { service: { name: 'plain', namespace, port: 443, path: '/validate' } },
      namespaceSelector: { matchLabels: { 'loopback-audit': 'never-matches' } },
      rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }],
    }],
  },
});
await custom.createNamespacedCustomObject({ group: 'ml.example.com', version: 'v1', namespace, plural: 'jobrepositories', body: { apiVersion: 'ml.example.com/v1', kind: 'JobRepository', metadata: { name: 'jobs', namespace }, spec: { url: git.url('jobs'), ref: { branch: 'main' }, path: '.' } } });

const running = await eventually(async () => {
  const j = (await custom.getNamespacedCustomObject({ group: 'ml.example.com', version: 'v1', namespace, plural: 'trainingjobs', name: 'net-job' })) as TrainingJob;
  return j.status?.state === 'Running' ? j : undefined;
}, 90_000);
t.equal(running?.status?.state, 'Running', 'the job runs, so its pods have IPs');

const inRange = (ip: string | undefined, cidr: string): boolean => {
  const [base, bits] = cidr.split('/');
  const n = (a: string): number => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const mask = 2 ** 32 - 2 ** (32 - Number(bits));
  return ip !== undefined && (n(ip) & mask) >>> 0 === (n(base!) & mask) >>> 0;
};

t.test('the cluster holds one of each kind of address, and every one is loopback', async (t) => {
  const a = await readClusterAddresses(cp.server, cp.admin);
  const internal = a.nodes.flatMap((n) => n.status?.addresses ?? []).filter((x) => x.type === 'InternalIP');
  t.ok(internal.length >= 2 && internal.every((x) => x.address === KWOK_NODE_IP), `nodes' InternalIP is ${KWOK_NODE_IP}`, { internal });
  const workers = a.pods.filter((p) => p.metadata?.namespace === namespace && p.status?.podIP);
  t.equal(workers.length, 2, 'both worker pods have an IP');
  t.ok(workers.every((p) => inRange(p.status?.podIP, KWOK_POD_CIDR) && p.status?.hostIP === KWOK_NODE_IP), `pod IPs in ${KWOK_POD_CIDR}, host IPs ${KWOK_NODE_IP}`, { ips: workers.map((p) => [p.status?.podIP, p.status?.hostIP]) });
  const clusterIps = a.services.map((s) => s.spec?.clusterIP).filter((ip) => ip && ip !== 'None');
  t.ok(clusterIps.length >= 2 && clusterIps.every((ip) => inRange(ip, SERVICE_CIDR)), `ClusterIPs in ${SERVICE_CIDR}`, { clusterIps });
  t.same(a.serviceCidrs.flatMap((s) => s.spec?.cidrs ?? []), [SERVICE_CIDR], 'the one ServiceCIDR is the loopback range');
  t.ok(a.webhookConfigurations.some((w) => w.webhooks?.some((h) => h.clientConfig?.service)), 'a Service-referenced webhook is audited');
  t.ok(a.webhookConfigurations.some((w) => w.webhooks?.some((h) => h.clientConfig?.url)), 'URL webhooks are audited');
  t.ok(a.crds.some((c) => c.spec?.conversion?.webhook?.clientConfig?.url), 'the conversion webhook is audited');
  t.equal(a.jobRepositories.length, 1, 'the JobRepository is audited');
  t.same(nonLoopbackAddresses(a), [], 'no address outside 127.0.0.0/8 and ::1');
});

t.test('the audit catches an address outside loopback in the live cluster', async (t) => {
  // externalIPs are never routed here (no kube-proxy): the object only carries the address.
  await core.createNamespacedService({ namespace, body: { metadata: { name: 'leaky' }, spec: { selector: { app: 'leaky' }, ports: [{ port: 80 }], externalIPs: ['192.0.2.10'] } } });
  const found = nonLoopbackAddresses(await readClusterAddresses(cp.server, cp.admin));
  t.same(found, [`Service ${namespace}/leaky spec.externalIPs: 192.0.2.10`]);
  await core.deleteNamespacedService({ name: 'leaky', namespace });
});
