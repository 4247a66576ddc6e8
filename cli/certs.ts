// `trainingjob certs`: the webhook certificates by hand — offline generation, caBundle injection, forced rotation, inspection.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { createKubeClient, loadKubeConfig, type KubeClient } from '../kube/index.ts';
import { createCertBundle, factsOf, servingPem } from '../certs/bundle.ts';
import { writeCertFiles } from '../certs/cert-files.ts';
import { ensureCerts } from '../certs/ensure-certs.ts';
import { CertError } from '../certs/errors.ts';
import { certFacts, daysUntil, splitPem, type CertFacts } from '../certs/inspect.ts';
import { injectCABundle, type InjectionResult } from '../certs/inject.ts';
import { resolveLifetimes } from '../certs/lifetimes.ts';
import { DEFAULT_SECRET, DEFAULT_TARGETS, serviceNames, type InjectionTargets, type SecretRef, type ServingNames } from '../certs/names.ts';
import { rotationPlan } from '../certs/rotation-plan.ts';
import { readStoredCerts } from '../certs/secret-store.ts';
import { WEBHOOK_SERVICE } from '../api/group.ts';
import { UsageError } from './usage.ts';

const help = `usage: trainingjob certs <generate|inject|rotate|show> [options]

  generate --out DIR [--dns NAME]... [--ip IP]... [--service NAME] [--namespace NS]
           offline: write ca.crt, tls.crt and tls.key to DIR for the webhook Service's
           DNS names, localhost and 127.0.0.1; --dns and --ip add names
  inject   --ca-file FILE   put FILE's PEM bundle into the webhook configurations and the
           TrainingJob CRD's conversion webhook (only where it differs)
  rotate   [--ca]           issue a new serving certificate now (--ca: a new CA too; the old
           CA stays trusted until it expires) and re-inject the bundle
  show     print subject, names, expiry and days left of the stored certificates and
           whether every caBundle matches (never keys)

  cluster options (inject, rotate, show):
    --kubeconfig FILE            default: $KUBECONFIG, ~/.kube/config or in-cluster
    --secret NAME                default ${DEFAULT_SECRET.name}
    --namespace NS               default ${DEFAULT_SECRET.namespace}
    --mutating NAME...           default ${DEFAULT_TARGETS.mutatingWebhookConfigurations.join(', ')}
    --validating NAME...         default ${DEFAULT_TARGETS.validatingWebhookConfigurations.join(', ')}
    --crd NAME...                default ${DEFAULT_TARGETS.crds.join(', ')}`;

const clusterOptions = {
  kubeconfig: { type: 'string' },
  secret: { type: 'string' },
  namespace: { type: 'string' },
  mutating: { type: 'string', multiple: true },
  validating: { type: 'string', multiple: true },
  crd: { type: 'string', multiple: true },
} as const;

interface ClusterFlags {
  kubeconfig?: string;
  secret?: string;
  namespace?: string;
  mutating?: string[];
  validating?: string[];
  crd?: string[];
}

export async function certsCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  try {
    switch (action) {
      case 'generate':
        return generate(rest);
      case 'inject':
        return await inject(rest);
      case 'rotate':
        return await rotate(rest);
      case 'show':
        return await show(rest);
      case undefined:
      case '--help':
      case '-h':
        process.stdout.write(`${help}\n`);
        return action ? 0 : 2;
      default:
        throw new UsageError(`unknown action "${action}"\n${help}`);
    }
  } catch (err) {
    // Certificate failures carry a message written for the user; no stack.
    if (!(err instanceof CertError)) throw err;
    process.stderr.write(`trainingjob certs ${action}: ${err.message}\n`);
    return 1;
  }
}

function parse<O extends ParseArgsOptionsConfig>(args: string[], options: O): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true }>>['values'] {
  try {
    return parseArgs({ args, options, strict: true }).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

const clientFrom = (kubeconfigPath: string | undefined): KubeClient => createKubeClient({ kubeConfig: loadKubeConfig(kubeconfigPath), userAgent: 'trainingjob-certs' });

const secretFrom = (f: ClusterFlags): SecretRef => ({ name: f.secret ?? DEFAULT_SECRET.name, namespace: f.namespace ?? DEFAULT_SECRET.namespace });

const targetsFrom = (f: ClusterFlags): InjectionTargets => ({
  mutatingWebhookConfigurations: f.mutating ?? DEFAULT_TARGETS.mutatingWebhookConfigurations,
  validatingWebhookConfigurations: f.validating ?? DEFAULT_TARGETS.validatingWebhookConfigurations,
  crds: f.crd ?? DEFAULT_TARGETS.crds,
});

function generate(args: string[]): number {
  const v = parse(args, { out: { type: 'string' }, dns: { type: 'string', multiple: true }, ip: { type: 'string', multiple: true }, service: { type: 'string' }, namespace: { type: 'string' } });
  if (!v.out) throw new UsageError('generate needs --out DIR');
  const badIp = (v.ip ?? []).find((ip) => !isIP(ip));
  if (badIp) throw new UsageError(`--ip "${badIp}" is not an IP address`);
  const names = serviceNames({ name: v.service ?? WEBHOOK_SERVICE.name, namespace: v.namespace ?? WEBHOOK_SERVICE.namespace }, { dnsNames: v.dns ?? [], ipAddresses: v.ip ?? [] });
  const bundle = createCertBundle({ names, lifetimes: resolveLifetimes(), now: new Date() });
  const paths = writeCertFiles(resolve(v.out), servingPem(bundle));
  const leaf = certFacts(bundle.tlsCertPem);
  process.stdout.write(`wrote ${paths.ca}\nwrote ${paths.cert}\nwrote ${paths.key}\n${describeLeaf(leaf, new Date()).join('\n')}\n`);
  return 0;
}

function resultLine(r: InjectionResult): string {
  const what = { injected: 'caBundle injected', unchanged: 'caBundle already current', stale: 'caBundle differs', missing: 'not found', 'no-webhook': 'no conversion webhook', failed: `failed: ${r.error ?? ''}` }[r.outcome];
  return `  ${`${r.kind}/${r.name}`.padEnd(64)} ${what}`;
}

async function inject(args: string[]): Promise<number> {
  const v = parse(args, { ...clusterOptions, 'ca-file': { type: 'string' } });
  if (!v['ca-file']) throw new UsageError('inject needs --ca-file FILE');
  let caBundlePem: string;
  try {
    caBundlePem = readFileSync(v['ca-file'], 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --ca-file: ${err instanceof Error ? err.message : String(err)}`);
  }
  const cas = splitPem(caBundlePem);
  if (!cas.length) throw new CertError('InvalidPem', `${v['ca-file']} holds no PEM certificate`);
  for (const pem of cas) certFacts(pem, v['ca-file']);
  const results = await injectCABundle({ client: clientFrom(v.kubeconfig), caBundlePem: cas.join(''), targets: targetsFrom(v) });
  process.stdout.write(`${results.map(resultLine).join('\n')}\n`);
  return results.some((r) => r.outcome === 'failed') ? 1 : 0;
}

/** The names a stored leaf already carries, so a manual rotation keeps them. */
function namesOf(leaf: CertFacts): ServingNames {
  const cn = /CN=([^,]+)/.exec(leaf.subject)?.[1] ?? serviceNames().commonName;
  return { commonName: cn, dnsNames: leaf.dnsNames, ipAddresses: leaf.ipAddresses };
}

async function rotate(args: string[]): Promise<number> {
  const v = parse(args, { ...clusterOptions, ca: { type: 'boolean' } });
  const client = clientFrom(v.kubeconfig);
  const secret = secretFrom(v);
  const stored = await readStoredCerts(client, secret);
  if (!stored) throw new CertError('SecretNotFound', `Secret ${secret.namespace}/${secret.name} does not exist; the webhook creates it when it starts`, { secret });
  const now = new Date();
  const names = namesOf(certFacts(stored.bundle.tlsCertPem));
  const { stored: after, rotation } = await ensureCerts({ client, secret, names, lifetimes: resolveLifetimes(), now, force: v.ca ? 'ca' : 'serving' });
  const results = await injectCABundle({ client, caBundlePem: after.bundle.caBundlePem, targets: targetsFrom(v) });
  const lines = [
    rotation ? `rotated: ${rotation.reason}` : 'another writer rotated the Secret at the same time; kept its certificates',
    ...describeLeaf(certFacts(after.bundle.tlsCertPem), now),
    'caBundle:',
    ...results.map(resultLine),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return results.some((r) => r.outcome === 'failed') ? 1 : 0;
}

function describeLeaf(leaf: CertFacts, now: Date): string[] {
  return [
    `  subject    ${leaf.subject}`,
    `  issuer     ${leaf.issuer}`,
    `  DNS names  ${leaf.dnsNames.join(', ') || '-'}`,
    `  IPs        ${leaf.ipAddresses.join(', ') || '-'}`,
    `  expires    ${leaf.notAfter.toISOString()} (${daysUntil(leaf.notAfter, now)} days left)`,
  ];
}

async function show(args: string[]): Promise<number> {
  const v = parse(args, clusterOptions);
  const client = clientFrom(v.kubeconfig);
  const secret = secretFrom(v);
  const stored = await readStoredCerts(client, secret);
  if (!stored) throw new CertError('SecretNotFound', `Secret ${secret.namespace}/${secret.name} does not exist`, { secret });
  const now = new Date();
  const { bundle } = stored;
  const leaf = certFacts(bundle.tlsCertPem, 'tls.crt');
  const plan = rotationPlan(factsOf(bundle), now, resolveLifetimes(), namesOf(leaf));
  const cas = splitPem(bundle.caBundlePem).map((pem) => certFacts(pem, 'ca.crt'));
  const current = certFacts(bundle.caCertPem).fingerprint256;
  const results = await injectCABundle({ client, caBundlePem: bundle.caBundlePem, targets: targetsFrom(v), dryRun: true });
  const lines = [
    `Secret ${secret.namespace}/${secret.name}`,
    'serving certificate (tls.crt)',
    ...describeLeaf(leaf, now),
    `CA bundle (ca.crt): ${cas.length} certificate${cas.length === 1 ? '' : 's'}`,
    ...cas.map((ca) => `  ${ca.fingerprint256 === current ? 'current ' : 'previous'}   ${ca.subject}, expires ${ca.notAfter.toISOString()} (${daysUntil(ca.notAfter, now)} days left)`),
    `rotation: ${plan.rotateServing ? 'due' : 'not due'} (${plan.reason})`,
    'caBundle:',
    ...results.map(resultLine),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
