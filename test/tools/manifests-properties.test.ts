// What the rendered overlays promise beyond "the apiserver accepts them": seed 000's names and ports,
// locked-down containers, webhook rules identical to webhook/registration.ts, certificates wired to
// what the webhook reads. Only `kubectl kustomize` and our CLI run here; no apiserver is needed.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Container, V1Deployment, V1NetworkPolicy, V1PodDisruptionBudget, V1PodSpec, V1Service } from '@kubernetes/client-node';
import { GROUP, TRAININGJOB_PLURAL, TRAININGPOLICY_PLURAL, WEBHOOK_SERVICE } from '../../api/index.ts';
import { DEFAULT_SECRET, DEFAULT_TARGETS, serviceNames } from '../../certs/names.ts';
import { mutatingWebhookConfiguration, platformNamespace, validatingWebhookConfiguration } from '../../webhook/registration.ts';
import { repoRoot } from '../../localcluster/binaries.ts';
import { runCommand, type CommandResult } from '../../localcluster/controlplane.ts';
import { parseDocuments, renderKustomize, type KubeDocument } from '../harness/manifests.ts';

const overlaysDir = join(repoRoot, 'manifests', 'overlays');
const overlays = readdirSync(overlaysDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const expectedImage = `ghcr.io/example/trainingjob:${version}`;
const clusterScoped = new Set(['Namespace', 'CustomResourceDefinition', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'ClusterRole', 'ClusterRoleBinding', 'ClusterIssuer', 'TrainingPolicy', 'PriorityClass']);

const rendered = new Map<string, KubeDocument[]>();
for (const overlay of overlays) rendered.set(overlay, parseDocuments(await renderKustomize(join(overlaysDir, overlay))));

// Each distinct container command line, run once with --help (loading the CLI takes seconds), all at once.
const cliRuns = new Map<string, Promise<CommandResult>>();
const cliAccepts = (args: string[]): Promise<CommandResult> => {
  const key = JSON.stringify(args);
  if (!cliRuns.has(key)) cliRuns.set(key, runCommand(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), ...args, '--help'], process.env));
  return cliRuns.get(key)!;
};
for (const docs of rendered.values()) {
  for (const d of docs) if (d.kind === 'Deployment') for (const c of (d as unknown as V1Deployment).spec?.template.spec?.containers ?? []) void cliAccepts(c.args ?? []);
}

const find = <T>(docs: KubeDocument[], kind: string, name: string): T | undefined => docs.find((d) => d.kind === kind && d.metadata.name === name) as T | undefined;
const subsetOf = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
const podSpecs = (docs: KubeDocument[]): { owner: string; spec: V1PodSpec; labels: Record<string, string> }[] =>
  docs.flatMap((d) => {
    const template = (['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(d.kind) ? (d as { spec?: { template?: unknown } }).spec?.template
      : d.kind === 'CronJob' ? (d as { spec?: { jobTemplate?: { spec?: { template?: unknown } } } }).spec?.jobTemplate?.spec?.template : undefined) as { metadata?: { labels?: Record<string, string> }; spec: V1PodSpec } | undefined;
    return template ? [{ owner: `${d.kind}/${d.metadata.name}`, spec: template.spec, labels: template.metadata?.labels ?? {} }] : [];
  });
const containersOf = (spec: V1PodSpec): V1Container[] => [...(spec.initContainers ?? []), ...spec.containers];
// Flag value of `--name=value` or `--name value`.
const flag = (args: string[] | undefined, name: string): string | undefined => {
  const a = args ?? [];
  const i = a.findIndex((x) => x === name || x.startsWith(`${name}=`));
  if (i < 0) return undefined;
  return a[i]!.includes('=') ? a[i]!.slice(name.length + 1) : a[i + 1];
};
/** Whether some NetworkPolicy selecting these pod labels lets ingress reach `port`. */
const ingressAllowed = (policies: V1NetworkPolicy[], labels: Record<string, string>, port: number): boolean =>
  policies.some((p) => subsetOf(p.spec?.podSelector?.matchLabels, labels) && (p.spec?.policyTypes ?? ['Ingress']).includes('Ingress') &&
    (p.spec?.ingress ?? []).some((rule) => !rule.ports || rule.ports.some((rp) => rp.port === port)));

t.ok(overlays.includes('default') && overlays.includes('cert-manager'), `overlays found: ${overlays.join(', ')}`);

for (const overlay of overlays) {
  const docs = rendered.get(overlay)!;

  t.test(`${overlay}: every container runs locked down, with requests and limits`, async (t) => {
    const pods = podSpecs(docs);
    t.ok(pods.length >= 2, 'the webhook and the controller are among the workloads');
    for (const { owner, spec } of pods) {
      for (const c of containersOf(spec)) {
        const at = `${owner} container ${c.name}`;
        const sc = c.securityContext ?? {};
        t.equal(sc.readOnlyRootFilesystem, true, `${at}: readOnlyRootFilesystem`);
        t.equal(sc.runAsNonRoot ?? spec.securityContext?.runAsNonRoot, true, `${at}: runAsNonRoot`);
        t.not(sc.runAsUser ?? spec.securityContext?.runAsUser, 0, `${at}: not uid 0`);
        t.equal(sc.allowPrivilegeEscalation, false, `${at}: no privilege escalation`);
        t.ok(sc.capabilities?.drop?.includes('ALL'), `${at}: drops ALL capabilities`);
        t.equal((sc.seccompProfile ?? spec.securityContext?.seccompProfile)?.type, 'RuntimeDefault', `${at}: seccomp RuntimeDefault`);
        for (const kind of ['requests', 'limits'] as const) {
          t.ok(c.resources?.[kind]?.cpu && c.resources[kind].memory, `${at}: cpu and memory ${kind}`);
        }
      }
    }
  });

  t.test(`${overlay}: container arguments are accepted by our CLI and the image is ours`, async (t) => {
    for (const name of ['webhook', 'controller-manager']) {
      const d = find<V1Deployment>(docs, 'Deployment', name);
      if (!t.ok(d, `Deployment ${name} rendered`)) continue;
      for (const c of d!.spec!.template.spec!.containers) {
        t.equal(c.image, expectedImage, `${name}/${c.name} runs ${expectedImage}`);
        t.notOk(c.command, `${name}/${c.name} keeps the image ENTRYPOINT (the trainingjob CLI)`);
        // parseArgs is strict: an unknown or misspelt flag fails even with --help.
        const r = await cliAccepts(c.args ?? []);
        t.equal(r.code, 0, `trainingjob ${(c.args ?? []).join(' ')} parses: ${r.stderr.trim()}`);
      }
    }
  });

  t.test(`${overlay}: webhook configurations fail closed on our kinds only, never in system namespaces`, async (t) => {
    const configs = docs.filter((d) => d.kind === 'MutatingWebhookConfiguration' || d.kind === 'ValidatingWebhookConfiguration');
    t.equal(configs.length, 2, 'one mutating and one validating configuration');
    for (const cfg of configs) {
      for (const w of (cfg as unknown as { webhooks: Record<string, unknown>[] }).webhooks) {
        const at = `${cfg.kind} ${cfg.metadata.name} webhook ${String(w.name)}`;
        // TrainingJobs fail closed; TrainingPolicy edits (platform admins) stay possible in an outage.
        const expected = w.name === 'trainingpolicy.ml.example.com' ? 'Ignore' : 'Fail';
        t.equal(w.failurePolicy, expected, `${at}: failurePolicy ${expected}`);
        t.ok(typeof w.timeoutSeconds === 'number' && w.timeoutSeconds <= 5, `${at}: timeoutSeconds ${String(w.timeoutSeconds)} ≤ 5`);
        t.strictSame(w.admissionReviewVersions, ['v1'], `${at}: admissionReviewVersions v1`);
        const rules = w.rules as { apiGroups: string[]; resources: string[]; operations: string[]; scope: string }[];
        for (const r of rules) {
          t.strictSame(r.apiGroups, [GROUP], `${at}: only ${GROUP}`);
          t.strictSame(r.operations, ['CREATE', 'UPDATE'], `${at}: CREATE and UPDATE`);
          t.ok(r.resources.every((x) => x === TRAININGJOB_PLURAL || x === TRAININGPOLICY_PLURAL), `${at}: resources ${r.resources.join(',')} are ours`);
          if (r.resources.includes(TRAININGJOB_PLURAL)) {
            const excluded = (w.namespaceSelector as { matchExpressions?: { key: string; operator: string; values: string[] }[] } | undefined)?.matchExpressions
              ?.find((e) => e.key === 'kubernetes.io/metadata.name' && e.operator === 'NotIn')?.values ?? [];
            t.ok(['kube-system', platformNamespace].every((ns) => excluded.includes(ns)), `${at}: namespaceSelector excludes kube-system and ${platformNamespace} (${excluded.join(', ')})`);
          } else {
            t.equal(r.scope, 'Cluster', `${at}: the TrainingPolicy rule is cluster-scoped (no namespace to exclude)`);
          }
        }
      }
    }
    // Names, paths and rules must be the ones --manage-certs injects into and the code registers.
    const endpoint = { service: { name: WEBHOOK_SERVICE.name, namespace: WEBHOOK_SERVICE.namespace, port: WEBHOOK_SERVICE.port } };
    const comparable = (o: unknown): unknown => {
      const c = structuredClone(o) as { metadata: { annotations?: unknown }; webhooks: { clientConfig: { caBundle?: unknown } }[] };
      delete c.metadata.annotations;
      for (const w of c.webhooks) delete w.clientConfig.caBundle;
      return JSON.parse(JSON.stringify(c));
    };
    t.strictSame(comparable(find(docs, 'MutatingWebhookConfiguration', DEFAULT_TARGETS.mutatingWebhookConfigurations[0]!)), comparable(mutatingWebhookConfiguration({ endpoint })), 'mutating configuration equals webhook/registration.ts');
    t.strictSame(comparable(find(docs, 'ValidatingWebhookConfiguration', DEFAULT_TARGETS.validatingWebhookConfigurations[0]!)), comparable(validatingWebhookConfiguration({ endpoint })), 'validating configuration equals webhook/registration.ts');
  });

  t.test(`${overlay}: webhook Deployment, Service and PodDisruptionBudget`, async (t) => {
    const d = find<V1Deployment>(docs, 'Deployment', 'webhook')!;
    const pod = d.spec!.template;
    const c = pod.spec!.containers[0]!;
    t.equal(d.metadata?.namespace, platformNamespace);
    t.equal(d.spec!.replicas, 2, 'two replicas');
    t.ok(subsetOf(d.spec!.selector.matchLabels, pod.metadata?.labels), 'selector matches its pods');
    t.equal(pod.spec!.serviceAccountName, 'webhook');
    const anti = pod.spec!.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.podAffinityTerm;
    t.equal(anti?.topologyKey, 'kubernetes.io/hostname', 'replicas spread over hosts');
    t.ok(subsetOf(anti?.labelSelector?.matchLabels, pod.metadata?.labels), 'anti-affinity selects the webhook pods');
    const port = c.ports?.find((p) => p.name === 'https');
    t.equal(port?.containerPort, Number(flag(c.args, '--port') ?? 9443), 'container port is the --port the server listens on');
    t.match(c.readinessProbe?.httpGet, { path: '/readyz', scheme: 'HTTPS', port: 'https' }, 'readiness from /readyz over HTTPS (503 until caches synced; no listener before certs)');
    t.match(c.livenessProbe?.httpGet, { path: '/healthz', scheme: 'HTTPS' });

    const svc = find<V1Service>(docs, 'Service', WEBHOOK_SERVICE.name)!;
    t.ok(svc, `Service ${WEBHOOK_SERVICE.name} (what the webhook configurations and the CRD conversion call)`);
    t.equal(svc.metadata?.namespace, WEBHOOK_SERVICE.namespace);
    t.ok(subsetOf(svc.spec?.selector, pod.metadata?.labels), 'Service selects the webhook pods');
    const sp = svc.spec?.ports?.find((p) => p.port === WEBHOOK_SERVICE.port);
    t.ok(sp && (sp.targetPort === port?.name || sp.targetPort === port?.containerPort), `Service ${WEBHOOK_SERVICE.port} → container port ${port?.containerPort}`);
    const crd = find<{ spec: { conversion?: { webhook?: { clientConfig?: { service?: { name: string; namespace: string } } } } } }>(docs, 'CustomResourceDefinition', `${TRAININGJOB_PLURAL}.${GROUP}`);
    t.match(crd?.spec.conversion?.webhook?.clientConfig?.service, { name: WEBHOOK_SERVICE.name, namespace: WEBHOOK_SERVICE.namespace }, 'the CRD converts through the same Service');

    const pdbs = docs.filter((x) => x.kind === 'PodDisruptionBudget') as unknown as V1PodDisruptionBudget[];
    const pdb = pdbs.find((p) => subsetOf(p.spec?.selector?.matchLabels, pod.metadata?.labels));
    t.ok(pdb, 'a PodDisruptionBudget selects the webhook pods');
    t.equal(pdb?.spec?.minAvailable, 1, 'minAvailable 1');
    t.notOk(subsetOf(pdb?.spec?.selector?.matchLabels, find<V1Deployment>(docs, 'Deployment', 'controller-manager')!.spec!.template.metadata?.labels), 'and not the controller pods');
  });

  t.test(`${overlay}: controller-manager per seed 000`, async (t) => {
    const d = find<V1Deployment>(docs, 'Deployment', 'controller-manager')!;
    const pod = d.spec!.template;
    const c = pod.spec!.containers[0]!;
    t.equal(d.metadata?.namespace, platformNamespace, `namespace ${platformNamespace}`);
    t.equal(d.metadata?.labels?.['control-plane'], 'controller-manager', 'Deployment label control-plane: controller-manager');
    t.equal(pod.metadata?.labels?.['control-plane'], 'controller-manager', 'pod label control-plane: controller-manager (kubectl logs -l)');
    t.ok(subsetOf(d.spec!.selector.matchLabels, pod.metadata?.labels), 'selector matches its pods');
    t.equal(pod.spec!.serviceAccountName, 'controller-manager');
    t.equal(c.args?.[0], 'controller');
    t.notOk(c.args?.includes('--no-leader-elect'), 'leader election on');
    const ports = Object.fromEntries((c.ports ?? []).map((p) => [p.name, p.containerPort]));
    t.strictSame(ports, { metrics: 8080, health: 8081, hooks: 9292 }, 'metrics 8080 named metrics, health 8081, hooks 9292');
    t.equal(flag(c.args, '--metrics-addr')?.split(':').pop(), '8080');
    t.equal(flag(c.args, '--health-addr')?.split(':').pop(), '8081');
    t.equal(flag(c.args, '--hooks-addr')?.split(':').pop(), '9292');
    t.match(c.livenessProbe?.httpGet, { path: '/healthz', port: 'health' });
    t.match(c.readinessProbe?.httpGet, { path: '/readyz', port: 'health' });
    const cacheDir = flag(c.args, '--git-cache-dir');
    const mount = c.volumeMounts?.find((m) => m.mountPath === cacheDir);
    t.ok(mount && pod.spec!.volumes?.find((v) => v.name === mount.name)?.emptyDir, `--git-cache-dir ${cacheDir} is an emptyDir (the root filesystem is read-only)`);

    const metricsSvc = find<V1Service>(docs, 'Service', 'controller-manager-metrics-service');
    t.equal(metricsSvc?.metadata?.labels?.['control-plane'], 'controller-manager', 'metrics Service labelled for the ServiceMonitor');
    t.ok(subsetOf(metricsSvc?.spec?.selector, pod.metadata?.labels), 'metrics Service selects the controller pods');
    t.match(metricsSvc?.spec?.ports, [{ name: 'metrics', port: 8080 }]);
    const hooks = find<V1Service>(docs, 'Service', 'controller-manager-hooks');
    t.ok(subsetOf(hooks?.spec?.selector, pod.metadata?.labels), 'push receiver Service selects the controller pods');
    t.match(hooks?.spec?.ports, [{ port: 9292, targetPort: 'hooks' }]);
  });

  t.test(`${overlay}: NetworkPolicies deny by default and open exactly the served ports`, async (t) => {
    const policies = docs.filter((d) => d.kind === 'NetworkPolicy' && d.metadata.namespace === platformNamespace) as unknown as V1NetworkPolicy[];
    t.ok(policies.some((p) => Object.keys(p.spec?.podSelector?.matchLabels ?? {}).length === 0 && !p.spec?.podSelector?.matchExpressions && p.spec?.policyTypes?.includes('Ingress') && !p.spec.ingress?.length), 'default deny of ingress for every pod');
    const webhookPod = find<V1Deployment>(docs, 'Deployment', 'webhook')!.spec!.template.metadata!.labels!;
    const controllerPod = find<V1Deployment>(docs, 'Deployment', 'controller-manager')!.spec!.template.metadata!.labels!;
    t.ok(ingressAllowed(policies, webhookPod, 9443), 'apiserver → webhook :9443');
    t.ok(ingressAllowed(policies, controllerPod, 8080), 'scrapes → controller :8080');
    t.ok(ingressAllowed(policies, controllerPod, 9292), 'push hooks → controller :9292');
    t.notOk(ingressAllowed(policies, controllerPod, 8081), 'health :8081 stays closed (kubelet probes come from the node)');
    const webhookEgress = policies.filter((p) => subsetOf(p.spec?.podSelector?.matchLabels, webhookPod) && p.spec?.policyTypes?.includes('Egress'));
    const egressPorts = webhookEgress.flatMap((p) => (p.spec?.egress ?? []).flatMap((r) => (r.ports ?? []).map((x) => `${String(x.port)}/${x.protocol ?? 'TCP'}`)));
    t.ok(['53/UDP', '443/TCP', '6443/TCP'].every((p) => egressPorts.includes(p)), `webhook egress reaches DNS and the apiserver (${egressPorts.join(' ')})`);
    t.notOk(policies.some((p) => subsetOf(p.spec?.podSelector?.matchLabels, controllerPod) && Object.keys(p.spec?.podSelector?.matchLabels ?? {}).length > 0 && p.spec?.policyTypes?.includes('Egress')), 'controller egress left open (any Git host, rank-0 pods in team namespaces)');
  });
}

// The two overlays made of the base alone: everything lives in the platform namespace.
for (const overlay of ['default', 'cert-manager']) {
  t.test(`${overlay}: namespaced objects live in ${platformNamespace}, which enforces the restricted Pod Security profile`, async (t) => {
    const docs = rendered.get(overlay)!;
    for (const d of docs.filter((x) => !clusterScoped.has(x.kind))) t.equal(d.metadata.namespace, platformNamespace, `${d.kind}/${d.metadata.name}`);
    t.equal(find<KubeDocument>(docs, 'Namespace', platformNamespace)?.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
    for (const sa of ['webhook', 'controller-manager']) t.ok(find(docs, 'ServiceAccount', sa), `ServiceAccount ${sa}`);
  });
}

t.test('default: the webhook manages its certificates and injects them into the rendered objects', async (t) => {
  const docs = rendered.get('default')!;
  const c = find<V1Deployment>(docs, 'Deployment', 'webhook')!.spec!.template.spec!.containers[0]!;
  t.ok(c.args?.includes('--manage-certs'), '--manage-certs');
  t.notOk(flag(c.args, '--cert-dir'), 'no mounted certificates');
  t.equal(flag(c.args, '--namespace') ?? platformNamespace, DEFAULT_SECRET.namespace, `its Secret ${DEFAULT_SECRET.name} lives in the webhook's namespace`);
  for (const name of DEFAULT_TARGETS.mutatingWebhookConfigurations) t.ok(find(docs, 'MutatingWebhookConfiguration', name), `injection target MutatingWebhookConfiguration ${name} is rendered`);
  for (const name of DEFAULT_TARGETS.validatingWebhookConfigurations) t.ok(find(docs, 'ValidatingWebhookConfiguration', name), `injection target ValidatingWebhookConfiguration ${name} is rendered`);
  for (const name of DEFAULT_TARGETS.crds) t.ok(find(docs, 'CustomResourceDefinition', name), `injection target CRD ${name} is rendered`);
  t.notOk(docs.some((d) => d.metadata.annotations?.['cert-manager.io/inject-ca-from']), 'no cert-manager annotations');
});

t.test('cert-manager: the webhook serves the Certificate cert-manager issues, and the CA is injected where --manage-certs would', async (t) => {
  const docs = rendered.get('cert-manager')!;
  const pod = find<V1Deployment>(docs, 'Deployment', 'webhook')!.spec!.template.spec!;
  const c = pod.containers[0]!;
  t.notOk(c.args?.includes('--manage-certs'), 'no self-managed certificates');
  const certDir = flag(c.args, '--cert-dir');
  t.ok(certDir, '--cert-dir');
  const mount = c.volumeMounts?.find((m) => m.mountPath === certDir);
  const secretName = pod.volumes?.find((v) => v.name === mount?.name)?.secret?.secretName;
  t.ok(secretName, `--cert-dir ${certDir} is a mounted Secret`);

  type Certificate = KubeDocument & { spec: { secretName: string; dnsNames?: string[]; isCA?: boolean; issuerRef: { name: string; kind?: string } } };
  type Issuer = KubeDocument & { spec: { selfSigned?: object; ca?: { secretName: string } } };
  const certs = docs.filter((d) => d.kind === 'Certificate') as Certificate[];
  const serving = certs.find((x) => x.spec.secretName === secretName);
  if (!t.ok(serving, `a Certificate writes Secret ${secretName}`)) return;
  const wanted = serviceNames().dnsNames.filter((n) => n !== 'localhost');
  t.ok(wanted.every((n) => serving!.spec.dnsNames?.includes(n)), `certificate covers ${wanted.join(', ')}`);
  const issuer = find<Issuer>(docs, serving!.spec.issuerRef.kind ?? 'Issuer', serving!.spec.issuerRef.name);
  t.ok(issuer?.spec.ca, 'signed by a CA issuer');
  const ca = certs.find((x) => x.spec.secretName === issuer?.spec.ca?.secretName);
  t.equal(ca?.spec.isCA, true, 'whose CA certificate is issued into its Secret');
  t.ok(find<Issuer>(docs, ca?.spec.issuerRef.kind ?? 'Issuer', ca?.spec.issuerRef.name ?? '')?.spec.selfSigned, 'and bootstrapped by a self-signed issuer');

  const from = `${serving!.metadata.namespace}/${serving!.metadata.name}`;
  const targets: [string, readonly string[]][] = [['MutatingWebhookConfiguration', DEFAULT_TARGETS.mutatingWebhookConfigurations], ['ValidatingWebhookConfiguration', DEFAULT_TARGETS.validatingWebhookConfigurations], ['CustomResourceDefinition', DEFAULT_TARGETS.crds]];
  for (const [kind, names] of targets) {
    for (const name of names) t.equal(find<KubeDocument>(docs, kind, name)?.metadata.annotations?.['cert-manager.io/inject-ca-from'], from, `${kind} ${name} gets its caBundle from ${from}`);
  }
});

// Prometheus must trust the CA that signs the webhook's serving certificate, wherever that overlay keeps it.
for (const overlay of overlays.filter((o) => rendered.get(o)!.some((d) => d.kind === 'ServiceMonitor' && d.metadata.name === 'webhook'))) {
  t.test(`${overlay}: the webhook ServiceMonitor verifies against the Secret that holds the webhook's CA`, async (t) => {
    const docs = rendered.get(overlay)!;
    type ServiceMonitor = KubeDocument & { spec: { endpoints: Array<{ scheme?: string; tlsConfig?: { serverName?: string; ca?: { secret?: { name: string; key: string } } } }> } };
    const endpoint = find<ServiceMonitor>(docs, 'ServiceMonitor', 'webhook')!.spec.endpoints[0]!;
    t.equal(endpoint.scheme, 'https');
    const c = find<V1Deployment>(docs, 'Deployment', 'webhook')!.spec!.template.spec!.containers[0]!;
    // --manage-certs keeps ca.crt in its own Secret; with --cert-dir, the mounted Secret (cert-manager writes ca.crt into it).
    const pod = find<V1Deployment>(docs, 'Deployment', 'webhook')!.spec!.template.spec!;
    const certDir = flag(c.args, '--cert-dir');
    const mounted = certDir ? pod.volumes?.find((v) => v.name === c.volumeMounts?.find((m) => m.mountPath === certDir)?.name)?.secret?.secretName : undefined;
    const expected = c.args?.includes('--manage-certs') ? DEFAULT_SECRET.name : mounted;
    t.ok(expected, 'the webhook keeps its certificates in a Secret');
    t.same(endpoint.tlsConfig?.ca?.secret, { name: expected, key: 'ca.crt' }, `CA from Secret ${expected}, key ca.crt`);
    t.equal(endpoint.tlsConfig?.serverName, serviceNames().dnsNames.find((n) => n.endsWith('.svc')), 'the Service name the certificate covers');
  });
}
