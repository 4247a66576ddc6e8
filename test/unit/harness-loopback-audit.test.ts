// The loopback audit names every kind of address outside loopback, and resolves Service-referenced
// webhooks to the ClusterIP the apiserver would dial.
import t from 'tap';
import { nonLoopbackAddresses, type ClusterAddresses } from '../harness/loopback-audit.ts';

const empty: ClusterAddresses = { nodes: [], pods: [], services: [], serviceCidrs: [], endpointSlices: [], endpoints: [], webhookConfigurations: [], crds: [], apiServices: [], jobRepositories: [] };

t.test('an all-loopback cluster has nothing to report', async (t) => {
  t.same(nonLoopbackAddresses({
    ...empty,
    nodes: [{ metadata: { name: 'n' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: 'gpu-node-0' }] } }],
    pods: [{ metadata: { name: 'p', namespace: 'a' }, status: { podIP: '127.128.0.4', podIPs: [{ ip: '127.128.0.4' }], hostIP: '127.0.0.1', hostIPs: [{ ip: '127.0.0.1' }] } }],
    services: [{ metadata: { name: 'hook', namespace: 'sys' }, spec: { clusterIP: '127.64.0.20', clusterIPs: ['127.64.0.20'] } }, { metadata: { name: 'headless', namespace: 'a' }, spec: { clusterIP: 'None' } }],
    serviceCidrs: [{ metadata: { name: 'kubernetes' }, spec: { cidrs: ['127.64.0.0/24'] } }],
    webhookConfigurations: [{ kind: 'ValidatingWebhookConfiguration', metadata: { name: 'v' }, webhooks: [{ name: 'a', clientConfig: { url: 'https://127.0.0.1:9443/validate' } }, { name: 'b', clientConfig: { service: { name: 'hook', namespace: 'sys' } } }] }],
    crds: [{ metadata: { name: 'x' }, spec: { conversion: { webhook: { clientConfig: { url: 'https://localhost:9443/convert' } } } } }],
    jobRepositories: [{ metadata: { name: 'jobs', namespace: 'a' }, spec: { url: 'http://127.0.0.1:4000/jobs.git' } }],
  }), []);
});

t.test('each kind of leak is named with its object and field', async (t) => {
  const found = nonLoopbackAddresses({
    nodes: [{ metadata: { name: 'n' }, status: { addresses: [{ type: 'InternalIP', address: '10.244.0.1' }] } }],
    pods: [{ metadata: { name: 'p', namespace: 'a' }, status: { podIP: '10.244.0.9', hostIP: '10.244.0.1' } }],
    services: [
      { metadata: { name: 'hook', namespace: 'sys' }, spec: { clusterIP: '10.0.0.20', externalIPs: ['192.168.1.4'] } },
      { metadata: { name: 'ext', namespace: 'a' }, spec: { type: 'ExternalName', externalName: 'db.example.com' } },
    ],
    serviceCidrs: [{ metadata: { name: 'kubernetes' }, spec: { cidrs: ['10.0.0.0/24'] } }],
    endpointSlices: [{ metadata: { name: 'e', namespace: 'a' }, endpoints: [{ addresses: ['172.16.0.3'] }] }],
    endpoints: [{ metadata: { name: 'ep', namespace: 'a' }, subsets: [{ addresses: [{ ip: '172.16.0.4' }], notReadyAddresses: [{ ip: '127.0.0.9' }] }] }],
    webhookConfigurations: [{ kind: 'MutatingWebhookConfiguration', metadata: { name: 'm' }, webhooks: [{ name: 'w', clientConfig: { service: { name: 'hook', namespace: 'sys' } } }] }],
    crds: [{ metadata: { name: 'x' }, spec: { conversion: { webhook: { clientConfig: { url: 'https://hooks.example.com/convert' } } } } }],
    apiServices: [{ metadata: { name: 'v1.metrics' }, spec: { service: { name: 'hook', namespace: 'sys' } } }],
    jobRepositories: [{ metadata: { name: 'jobs', namespace: 'b' }, spec: { url: 'https://git.example.com/ml/jobs.git' } }, { metadata: { name: 'ssh', namespace: 'b' }, spec: { url: 'git@git.example.com:ml/jobs.git' } }],
  });
  t.same(found, [
    'Node n status.addresses[InternalIP]: 10.244.0.1',
    'Pod a/p status.podIP: 10.244.0.9',
    'Pod a/p status.hostIP: 10.244.0.1',
    'Service sys/hook spec.clusterIP: 10.0.0.20',
    'Service sys/hook spec.externalIPs: 192.168.1.4',
    'Service a/ext spec.externalName: db.example.com',
    'ServiceCIDR kubernetes spec.cidrs: 10.0.0.0/24',
    'EndpointSlice a/e endpoints.addresses: 172.16.0.3',
    'Endpoints a/ep subsets.addresses: 172.16.0.4',
    'MutatingWebhookConfiguration m webhooks[w].clientConfig.service sys/hook ClusterIP: 10.0.0.20',
    'CustomResourceDefinition x spec.conversion.webhook.clientConfig.url: https://hooks.example.com/convert',
    'APIService v1.metrics spec.service sys/hook ClusterIP: 10.0.0.20',
    'JobRepository b/jobs spec.url: https://git.example.com/ml/jobs.git',
    'JobRepository b/ssh spec.url: git@git.example.com:ml/jobs.git',
  ]);
});

t.test('a real node\'s jobs repository inside its namespace is contained; a webhook URL there is not', async (t) => {
  const found = nonLoopbackAddresses({
    ...empty,
    webhookConfigurations: [{ kind: 'ValidatingWebhookConfiguration', metadata: { name: 'v' }, webhooks: [{ name: 'a', clientConfig: { url: 'https://10.244.255.1:9443/validate' } }] }],
    jobRepositories: [{ metadata: { name: 'jobs', namespace: 'a' }, spec: { url: 'http://10.244.255.1:8929/jobs.git' } }, { metadata: { name: 'out', namespace: 'a' }, spec: { url: 'http://192.168.1.4/jobs.git' } }],
  }, ['10.244.0.0/16']);
  t.same(found, [
    'ValidatingWebhookConfiguration v webhooks[a].clientConfig.url: https://10.244.255.1:9443/validate',
    'JobRepository a/out spec.url: http://192.168.1.4/jobs.git',
  ], 'the in-cluster controller fetches from inside the namespace; the apiserver dials webhooks from the host');
});
