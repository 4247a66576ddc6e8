// Installs the platform into a local control plane: CRDs (conversion by URL), the webhook on
// loopback (one or more replicas behind a round-robin TCP proxy, as a Service would spread
// connections), certificates from node-forge, and the webhook configurations with caBundle.
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { loadAllYaml, ApiextensionsV1Api, AdmissionregistrationV1Api, CoreV1Api, CustomObjectsApi, ApiException, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { startCertManager, type CertManager } from '../certs/index.ts';
import { createCA, issueCertificate } from '../certs/pki.ts';
import { GROUP, TRAININGPOLICY_PLURAL, V1 } from '../api/index.ts';
import { startWebhookServer, type WebhookServer } from '../webhook/server.ts';
import { mutatingWebhookConfiguration, platformNamespace, validatingWebhookConfiguration } from '../webhook/registration.ts';
import { repoRoot } from './binaries.ts';

export interface PlatformOptions {
  kubeConfig: KubeConfig;
  replicas?: number;
  /** Also create the example TrainingPolicies from policies/examples. */
  examplePolicies?: boolean;
  logger?: Logger;
  progress?: (line: string) => void;
}

export interface Platform {
  /** The URL the apiserver calls (the proxy when there are several replicas). */
  url: string;
  caPem: string;
  replicas: WebhookServer[];
  stop(): Promise<void>;
}

// client-node's loader yields typed models, which its serializer needs to keep x-kubernetes-* keys.
export function readYamlDir(dir: string): Record<string, unknown>[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => loadAllYaml(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>[])
    .filter((d) => d && typeof d === 'object');
}

async function createOrReplace<T extends { metadata?: { name?: string; resourceVersion?: string } }>(read: () => Promise<T>, create: () => Promise<unknown>, replace: (rv: string | undefined) => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
    const current = await read();
    await replace(current.metadata?.resourceVersion);
  }
}

export async function installPlatform(opts: PlatformOptions): Promise<Platform> {
  const progress = opts.progress ?? (() => {});
  const kc = opts.kubeConfig;
  const core = kc.makeApiClient(CoreV1Api);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const reg = kc.makeApiClient(AdmissionregistrationV1Api);

  await createOrReplace(() => core.readNamespace({ name: platformNamespace }), () => core.createNamespace({ body: { metadata: { name: platformNamespace } } }), async () => {});

  const logger = opts.logger ?? pino({ level: 'silent' });
  const replicas: WebhookServer[] = [];
  let proxy: Server | undefined;
  let certs: CertManager | undefined;
  const stop = async (): Promise<void> => {
    if (proxy) await new Promise<void>((r) => proxy!.close(() => r()));
    await Promise.all(replicas.map((s) => s.close()));
    await certs?.stop();
  };
  try {
    progress('starting the admission webhook');
    // A throwaway certificate until the manager has stored the real one and injected its CA.
    const bootstrap = issueCertificate(createCA('bootstrap', 1), { commonName: 'bootstrap', usage: 'server', validDays: 1, ipAddresses: ['127.0.0.1'] });
    for (let i = 0; i < (opts.replicas ?? 1); i++) {
      replicas.push(await startWebhookServer({ kubeConfig: kc, tls: { key: bootstrap.keyPem, cert: bootstrap.certPem }, ledgerNamespace: platformNamespace, logger: opts.logger?.child({ replica: i }) }));
    }
    let url = replicas[0]!.url;
    if (replicas.length > 1) {
      proxy = await roundRobinProxy(replicas.map((r) => r.port));
      url = `https://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    }

    progress('installing CRDs');
    for (const doc of readYamlDir(join(repoRoot, 'manifests', 'crds'))) {
      const crd = doc as unknown as V1CustomResourceDefinition;
      const conv = crd.spec.conversion?.webhook;
      if (conv) conv.clientConfig = { url: `${url}/convert` };
      const name = crd.metadata!.name!;
      await createOrReplace(() => ext.readCustomResourceDefinition({ name }), () => ext.createCustomResourceDefinition({ body: crd }), (rv) => ext.replaceCustomResourceDefinition({ name, body: { ...crd, metadata: { ...crd.metadata, resourceVersion: rv } } }));
    }
    for (const doc of readYamlDir(join(repoRoot, 'manifests', 'crds'))) await waitEstablished(ext, (doc as unknown as V1CustomResourceDefinition).metadata!.name!);

    progress('registering the webhook configurations');
    const registration = { endpoint: { url } };
    const mutating = mutatingWebhookConfiguration(registration);
    const validating = validatingWebhookConfiguration(registration);
    await createOrReplace(() => reg.readMutatingWebhookConfiguration({ name: mutating.metadata!.name! }), () => reg.createMutatingWebhookConfiguration({ body: mutating }), (rv) => reg.replaceMutatingWebhookConfiguration({ name: mutating.metadata!.name!, body: { ...mutating, metadata: { ...mutating.metadata, resourceVersion: rv } } }));
    await createOrReplace(() => reg.readValidatingWebhookConfiguration({ name: validating.metadata!.name! }), () => reg.createValidatingWebhookConfiguration({ body: validating }), (rv) => reg.replaceValidatingWebhookConfiguration({ name: validating.metadata!.name!, body: { ...validating, metadata: { ...validating.metadata, resourceVersion: rv } } }));

    progress('storing webhook certificates and injecting the caBundle');
    const swap = (pem: { certPem: string; keyPem: string }) => {
      for (const r of replicas) r.updateCertificate({ cert: pem.certPem, key: pem.keyPem });
    };
    certs = await startCertManager({ kubeConfig: kc, logger, onRotate: swap });
    swap(certs.current());
    await waitAdmitting(kc);

    if (opts.examplePolicies) {
      progress('creating the example TrainingPolicies');
      const custom = kc.makeApiClient(CustomObjectsApi);
      for (const p of readYamlDir(join(repoRoot, 'policies', 'examples'))) {
        const name = (p.metadata as { name: string }).name;
        await createOrReplace(
          () => custom.getClusterCustomObject({ group: GROUP, version: V1, plural: TRAININGPOLICY_PLURAL, name }) as Promise<{ metadata?: { resourceVersion?: string } }>,
          () => custom.createClusterCustomObject({ group: GROUP, version: V1, plural: TRAININGPOLICY_PLURAL, body: p }),
          (rv) => custom.replaceClusterCustomObject({ group: GROUP, version: V1, plural: TRAININGPOLICY_PLURAL, name, body: { ...p, metadata: { ...(p.metadata as object), resourceVersion: rv } } }),
        );
      }
    }
    return { url, caPem: certs.current().caPem, replicas, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// The apiserver picks up an injected caBundle within moments; a dry-run policy create proves it.
async function waitAdmitting(kc: KubeConfig): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await custom.createClusterCustomObject({ group: GROUP, version: V1, plural: TRAININGPOLICY_PLURAL, dryRun: 'All', body: { apiVersion: `${GROUP}/${V1}`, kind: 'TrainingPolicy', metadata: { name: 'probe' }, spec: {} } });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`the apiserver could not call the webhook within 30s: ${err instanceof Error ? err.message : String(err)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function waitEstablished(ext: ApiextensionsV1Api, name: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const crd = await ext.readCustomResourceDefinition({ name });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`CRD ${name} was not Established within 30s`);
}

/** TLS passes through untouched; each new connection goes to the next replica. */
export async function roundRobinProxy(ports: number[]): Promise<Server> {
  let next = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const port = ports[next++ % ports.length]!;
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  const close = server.close.bind(server);
  // Closing the proxy also cuts its open connections, so shutdown never waits on keep-alives.
  server.close = ((cb?: (err?: Error) => void) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  }) as typeof server.close;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return server;
}
