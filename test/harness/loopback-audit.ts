// Lists every address a test cluster could make someone dial (node, pod and host IPs, Service
// ClusterIPs and ServiceCIDRs, Endpoints and EndpointSlices, webhook and conversion endpoints, JobRepository hosts) and names each
// one outside 127.0.0.0/8 and ::1. Run before every control plane stops (tap.ts) and by its own e2e test.
import { isIP } from 'node:net';
import { isLoopbackCidr, isLoopbackHost } from '../../kube/dial-guard.ts';
import { getText, type TlsClient } from '../../localcluster/http.ts';

interface Meta {
  name?: string;
  namespace?: string;
}
interface ServiceRef {
  name: string;
  namespace: string;
  port?: number;
}
interface ClientConfig {
  url?: string;
  service?: ServiceRef;
}
type Obj<S = unknown, T = unknown> = { metadata?: Meta; spec?: S; status?: T };

export interface ClusterAddresses {
  nodes: Obj<unknown, { addresses?: { type: string; address: string }[] }>[];
  pods: Obj<{ hostNetwork?: boolean }, { podIP?: string; podIPs?: { ip: string }[]; hostIP?: string; hostIPs?: { ip: string }[] }>[];
  services: Obj<{ type?: string; clusterIP?: string; clusterIPs?: string[]; externalIPs?: string[]; externalName?: string; loadBalancerIP?: string }, { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } }>[];
  serviceCidrs: Obj<{ cidrs?: string[] }>[];
  endpointSlices: { metadata?: Meta; endpoints?: { addresses?: string[] }[] }[];
  endpoints: { metadata?: Meta; subsets?: { addresses?: { ip: string }[]; notReadyAddresses?: { ip: string }[] }[] }[];
  webhookConfigurations: { kind: string; metadata?: Meta; webhooks?: { name: string; clientConfig?: ClientConfig }[] }[];
  crds: Obj<{ conversion?: { webhook?: { clientConfig?: ClientConfig } } }>[];
  apiServices: Obj<{ service?: ServiceRef }>[];
  jobRepositories: Obj<{ url?: string }>[];
}

const where = (kind: string, m?: Meta): string => `${kind} ${m?.namespace ? `${m.namespace}/` : ''}${m?.name ?? '?'}`;

/**
 * Every address in the snapshot outside loopback, each as "<Kind> <ns/name> <field>: <value>". `contained`
 * names the ranges of a real node's namespace, which exist only there (that namespace has no route out).
 */
export function nonLoopbackAddresses(c: ClusterAddresses, contained: readonly string[] = []): string[] {
  const out: string[] = [];
  const ok = (value: string): boolean => isLoopbackHost(value) || contained.some((cidr) => inIpv4Cidr(value, cidr));
  const ip = (owner: string, field: string, value: string | undefined): void => {
    if (value && !ok(value)) out.push(`${owner} ${field}: ${value}`);
  };
  // `inside`: dialled only from within the node's namespace (by a pod), where its contained ranges are reachable.
  const host = (owner: string, field: string, url: string | undefined, inside = false): void => {
    if (!url) return;
    let h: string;
    try {
      h = new URL(url).hostname;
    } catch {
      h = url.replace(/^[^@]*@/, '').split(/[:/]/)[0] ?? url; // scp-like git URLs
    }
    if (!isLoopbackHost(h) && !(inside && contained.some((cidr) => inIpv4Cidr(h, cidr)))) out.push(`${owner} ${field}: ${url}`);
  };
  const clusterIpOf = (ref: ServiceRef): string | undefined =>
    c.services.find((s) => s.metadata?.name === ref.name && s.metadata?.namespace === ref.namespace)?.spec?.clusterIP;
  const endpoint = (owner: string, field: string, cc: ClientConfig | undefined): void => {
    if (cc?.url) host(owner, `${field}.url`, cc.url);
    // The apiserver dials a Service-referenced webhook at the Service's ClusterIP.
    if (cc?.service) ip(owner, `${field}.service ${cc.service.namespace}/${cc.service.name} ClusterIP`, clusterIpOf(cc.service));
  };

  for (const n of c.nodes) {
    // A Hostname address is never dialled: the apiserver prefers InternalIP (component-args.ts).
    for (const a of n.status?.addresses ?? []) if (isIP(a.address)) ip(where('Node', n.metadata), `status.addresses[${a.type}]`, a.address);
  }
  for (const p of c.pods) {
    const w = where('Pod', p.metadata);
    ip(w, 'status.podIP', p.status?.podIP);
    for (const x of p.status?.podIPs ?? []) ip(w, 'status.podIPs', x.ip);
    ip(w, 'status.hostIP', p.status?.hostIP);
    for (const x of p.status?.hostIPs ?? []) ip(w, 'status.hostIPs', x.ip);
  }
  for (const s of c.services) {
    const w = where('Service', s.metadata);
    for (const x of new Set([s.spec?.clusterIP, ...(s.spec?.clusterIPs ?? [])])) if (x && x !== 'None') ip(w, 'spec.clusterIP', x);
    for (const x of s.spec?.externalIPs ?? []) ip(w, 'spec.externalIPs', x);
    ip(w, 'spec.loadBalancerIP', s.spec?.loadBalancerIP);
    if (s.spec?.externalName) host(w, 'spec.externalName', s.spec.externalName);
    for (const x of s.status?.loadBalancer?.ingress ?? []) {
      ip(w, 'status.loadBalancer.ingress.ip', x.ip);
      if (x.hostname) host(w, 'status.loadBalancer.ingress.hostname', x.hostname);
    }
  }
  for (const s of c.serviceCidrs) {
    for (const cidr of s.spec?.cidrs ?? []) if (!isLoopbackCidr(cidr) && !contained.includes(cidr)) out.push(`${where('ServiceCIDR', s.metadata)} spec.cidrs: ${cidr}`);
  }
  for (const e of c.endpointSlices) {
    for (const x of e.endpoints ?? []) for (const a of x.addresses ?? []) ip(where('EndpointSlice', e.metadata), 'endpoints.addresses', a);
  }
  for (const e of c.endpoints) {
    for (const sub of e.subsets ?? []) for (const a of [...(sub.addresses ?? []), ...(sub.notReadyAddresses ?? [])]) ip(where('Endpoints', e.metadata), 'subsets.addresses', a.ip);
  }
  for (const w of c.webhookConfigurations) {
    for (const h of w.webhooks ?? []) endpoint(where(w.kind, w.metadata), `webhooks[${h.name}].clientConfig`, h.clientConfig);
  }
  for (const crd of c.crds) endpoint(where('CustomResourceDefinition', crd.metadata), 'spec.conversion.webhook.clientConfig', crd.spec?.conversion?.webhook?.clientConfig);
  for (const a of c.apiServices) {
    if (a.spec?.service) ip(where('APIService', a.metadata), `spec.service ${a.spec.service.namespace}/${a.spec.service.name} ClusterIP`, clusterIpOf(a.spec.service));
  }
  // On a real node the controller that fetches them runs in a pod; elsewhere `contained` is empty.
  for (const r of c.jobRepositories) host(where('JobRepository', r.metadata), 'spec.url', r.spec?.url, true);
  return out;
}

/** True when `ip` is an IPv4 address inside `cidr` (a.b.c.d/n). */
export function inIpv4Cidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = Number(bits);
  const toInt = (a: string): number | undefined => {
    const parts = a.split('.').map(Number);
    return parts.length === 4 && parts.every((x) => Number.isInteger(x) && x >= 0 && x <= 255) ? parts.reduce((acc, x) => acc * 256 + x, 0) : undefined;
  };
  const a = toInt(ip);
  const b = base ? toInt(base) : undefined;
  if (a === undefined || b === undefined || !Number.isInteger(n) || n < 0 || n > 32) return false;
  const size = 2 ** (32 - n);
  return Math.floor(a / size) === Math.floor(b / size);
}

/** Reads the snapshot from the cluster; a resource the cluster does not serve (no CRD yet) reads as empty. */
export async function readClusterAddresses(server: string, tls: TlsClient): Promise<ClusterAddresses> {
  const list = async <T>(path: string): Promise<T[]> => {
    let res = await getText(`${server}${path}`, tls, 10_000);
    // A CRD installed moments ago answers 429 "storage is (re)initializing" for a second or two.
    for (let tries = 0; (res.status === 429 || res.status === 503) && tries < 20; tries++) {
      await new Promise((r) => setTimeout(r, 500));
      res = await getText(`${server}${path}`, tls, 10_000);
    }
    if (res.status === 404) return [];
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
    return (JSON.parse(res.body) as { items?: T[] }).items ?? [];
  };
  const [nodes, pods, services, serviceCidrs, endpointSlices, endpoints, validating, mutating, crds, apiServices, jobRepositories] = await Promise.all([
    list<ClusterAddresses['nodes'][number]>('/api/v1/nodes'),
    list<ClusterAddresses['pods'][number]>('/api/v1/pods'),
    list<ClusterAddresses['services'][number]>('/api/v1/services'),
    list<ClusterAddresses['serviceCidrs'][number]>('/apis/networking.k8s.io/v1/servicecidrs'),
    list<ClusterAddresses['endpointSlices'][number]>('/apis/discovery.k8s.io/v1/endpointslices'),
    list<ClusterAddresses['endpoints'][number]>('/api/v1/endpoints'),
    list<Omit<ClusterAddresses['webhookConfigurations'][number], 'kind'>>('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations'),
    list<Omit<ClusterAddresses['webhookConfigurations'][number], 'kind'>>('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations'),
    list<ClusterAddresses['crds'][number]>('/apis/apiextensions.k8s.io/v1/customresourcedefinitions'),
    list<ClusterAddresses['apiServices'][number]>('/apis/apiregistration.k8s.io/v1/apiservices'),
    list<ClusterAddresses['jobRepositories'][number]>('/apis/ml.example.com/v1/jobrepositories'),
  ]);
  return {
    nodes, pods, services, serviceCidrs, endpointSlices, endpoints, crds, apiServices, jobRepositories,
    webhookConfigurations: [
      ...validating.map((w) => ({ kind: 'ValidatingWebhookConfiguration', ...w })),
      ...mutating.map((w) => ({ kind: 'MutatingWebhookConfiguration', ...w })),
    ],
  };
}
