// The long-running certificate loop of a webhook replica: keep the Secret current, keep caBundles injected, hand new certs to the server.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { servingPem, type ServingPem } from './bundle.ts';
import { systemClock, type Clock, type TimerHandle } from '../clock/clock.ts';
import { createInformer, createKubeClient, type CacheTransform, type Informer, type KubeObject, type ResourceRef } from '../kube/index.ts';
import { writeCertFiles } from './cert-files.ts';
import { ensureCerts } from './ensure-certs.ts';
import { CertError } from './errors.ts';
import { certFacts, splitPem } from './inspect.ts';
import { INJECTION_RESOURCES, injectCABundle, type InjectionResult } from './inject.ts';
import { resolveLifetimes, type Lifetimes } from './lifetimes.ts';
import { DEFAULT_SECRET, DEFAULT_TARGETS, serviceNames, type InjectionTargets, type SecretRef, type ServingNames } from './names.ts';

export interface CertManagerOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  clock?: Clock;
  secret?: SecretRef;
  names?: ServingNames;
  targets?: InjectionTargets;
  lifetimes?: Partial<Lifetimes>;
  /** Called after the serving certificate changed (not for the first one: read `current()` at startup). */
  onRotate?: (pem: ServingPem) => void | Promise<void>;
  /** Also keep ca.crt / tls.crt / tls.key in this folder, for servers that reload from disk. */
  certDir?: string;
  /** Watch the Secret and the injection targets, so overwrites are undone at once instead of at the next check. */
  watch?: boolean;
  /** Delay before retrying a pass that failed. */
  retryMs?: number;
}

export interface CertManager {
  /** The serving certificate, key and CA bundle to serve with now. */
  current(): ServingPem;
  /** Runs one pass (rotate if due, re-inject, publish) now and returns the serving PEMs after it. */
  sync(): Promise<ServingPem>;
  stop(): Promise<void>;
}

const summary = (pem: string): { serial: string; notAfter: string } => {
  const f = certFacts(pem);
  return { serial: f.serialNumber, notAfter: f.notAfter.toISOString() };
};

// A change is all a watch reports; caching only the identity keeps the Secret's keys out of a second copy in memory.
const identityOnly: CacheTransform = ({ metadata }) => ({
  metadata: { name: metadata?.name, namespace: metadata?.namespace, resourceVersion: metadata?.resourceVersion, uid: metadata?.uid },
});

/** Resolves after the first pass has stored (or adopted) the certificates; throws a CertError when the Secret cannot be read or written. */
export async function startCertManager(opts: CertManagerOptions): Promise<CertManager> {
  if (!opts.kubeConfig) throw new TypeError('startCertManager: kubeConfig is required');
  if (!opts.logger) throw new TypeError('startCertManager: logger is required');
  const { kubeConfig, logger: log, onRotate, certDir } = opts;
  const clock = opts.clock ?? systemClock;
  const secret = opts.secret ?? DEFAULT_SECRET;
  const names = opts.names ?? serviceNames();
  const targets = opts.targets ?? DEFAULT_TARGETS;
  const lifetimes = resolveLifetimes(opts.lifetimes);
  const retryMs = opts.retryMs ?? 10_000;
  const client = createKubeClient({ kubeConfig, userAgent: 'trainingjob-certs' });

  let published: ServingPem | undefined;
  let timer: TimerHandle | undefined;
  let stopped = false;
  let queued = false;
  let chain: Promise<unknown> = Promise.resolve();

  // One pass at a time: watch events, the timer and sync() all queue behind each other.
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn);
    chain = next.catch(() => undefined);
    return next;
  };

  const schedule = (ms: number): void => {
    if (timer !== undefined) clock.clearTimer(timer);
    if (stopped) return;
    timer = clock.setTimer(kick, ms);
  };

  async function publish(next: ServingPem): Promise<void> {
    if (published?.certPem === next.certPem && published.caPem === next.caPem) return;
    const first = !published;
    published = next;
    if (certDir) writeCertFiles(certDir, next);
    log.info({ ...summary(next.certPem), cas: splitPem(next.caPem).length }, first ? 'serving with the stored webhook certificate' : 'serving with a new webhook certificate');
    if (first || !onRotate) return;
    try {
      await onRotate(next);
    } catch (err) {
      log.error({ error: err instanceof Error ? err.message : String(err) }, 'onRotate failed');
    }
  }

  /** Returns the targets that could not be injected; throws when the Secret itself fails. */
  async function pass(): Promise<InjectionResult[]> {
    const { stored, created, rotation } = await ensureCerts({ client, secret, names, lifetimes, now: new Date(clock.now()) });
    if (created) log.info({ secret, ...summary(stored.bundle.tlsCertPem) }, 'stored new webhook certificates');
    if (rotation) log.info({ secret, reason: rotation.reason, rotateCA: rotation.rotateCA, ...summary(stored.bundle.tlsCertPem) }, 'rotated webhook certificates');
    const results = await injectCABundle({ client, caBundlePem: stored.bundle.caBundlePem, targets });
    for (const r of results) {
      if (r.outcome === 'injected') log.info({ kind: r.kind, name: r.name }, 'injected caBundle');
      else if (r.outcome === 'failed') log.error({ kind: r.kind, name: r.name, error: r.error }, 'caBundle injection failed');
      else if (r.outcome === 'missing') log.debug({ kind: r.kind, name: r.name }, 'caBundle target does not exist yet');
    }
    const failed = results.filter((r) => r.outcome === 'failed');
    // A certificate from a new CA is served only once that CA reached every caBundle, or clients would reject it.
    const trusted = !published || splitPem(published.caPem).some((p) => p.trim() === stored.bundle.caCertPem.trim());
    if (!failed.length || trusted) await publish(servingPem(stored.bundle));
    return failed;
  }

  const runPass = async (): Promise<void> => {
    try {
      const failed = await pass();
      schedule(failed.length ? retryMs : lifetimes.checkIntervalMs);
    } catch (err) {
      log.error({ code: err instanceof CertError ? err.code : undefined, error: err instanceof Error ? err.message : String(err) }, 'certificate pass failed; retrying');
      schedule(retryMs);
      throw err;
    }
  };

  function kick(): void {
    if (stopped || queued) return;
    queued = true;
    void serial(async () => {
      queued = false;
      if (!stopped) await runPass();
    }).catch(() => undefined);
  }

  const current = (): ServingPem => {
    if (!published) throw new CertError('SecretNotFound', 'no webhook certificate has been published yet', { secret });
    return published;
  };

  try {
    await serial(runPass);
  } catch (err) {
    stopped = true;
    if (timer !== undefined) clock.clearTimer(timer);
    throw err;
  }

  const informers: Informer<KubeObject>[] = [];
  if (opts.watch !== false) {
    const watched: { resource: ResourceRef; name: string }[] = [
      { resource: { version: 'v1', plural: 'secrets', namespace: secret.namespace }, name: secret.name },
      ...targets.mutatingWebhookConfigurations.map((name) => ({ resource: INJECTION_RESOURCES.MutatingWebhookConfiguration, name })),
      ...targets.validatingWebhookConfigurations.map((name) => ({ resource: INJECTION_RESOURCES.ValidatingWebhookConfiguration, name })),
      ...targets.crds.map((name) => ({ resource: INJECTION_RESOURCES.CustomResourceDefinition, name })),
    ];
    // One named object each (RBAC grants these names only); any change, including a delete, runs a pass.
    for (const { resource, name } of watched) {
      const informer = createInformer<KubeObject>({ kubeConfig, resource, fieldSelector: `metadata.name=${name}`, resyncMs: 0, logger: log, clock, transform: identityOnly });
      informer.on({ add: kick, update: kick, delete: kick });
      informer.start();
      informers.push(informer);
    }
  }

  return {
    current,
    sync: () =>
      serial(async () => {
        await runPass();
        return current();
      }),
    async stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimer(timer);
      await Promise.all(informers.map((i) => i.stop()));
      await chain;
    },
  };
}
