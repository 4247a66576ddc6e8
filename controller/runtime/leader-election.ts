// Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules: take a lease that is
// free, released, ours, or unrenewed for a whole leaseDuration (timed by our own clock, so clock skew
// between replicas does not matter); renew with resourceVersion preconditions; give up leading when a
// renewal cannot succeed within renewDeadline, or someone else holds the lease.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { sleep, systemClock, type Clock } from '../../clock/clock.ts';
import { createKubeClient } from '../../kube/client.ts';
import { createInformer, type Informer, type ResourceRef } from '../../kube/informer.ts';
import { statusCode } from '../../kube/json-request.ts';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  /** Unique per replica (the pod name, plus a random suffix if pods can restart in place). */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Called once this replica leads; `signal` aborts when it stops leading for any reason. */
  onStartedLeading(signal: AbortSignal): void;
  onStoppedLeading?(): void;
  onNewLeader?(identity: string): void;
  /** Watch the Lease so a released lock is taken at once rather than at the next retry (needs list/watch on leases). */
  watchLease?: boolean;
  clock?: Clock;
  logger: Logger;
}

export type ElectionEnd = 'stopped' | 'lost';

export interface LeaderElection {
  isLeader(): boolean;
  /** Stops campaigning; a leader releases the lease first so a standby can take over at once. */
  stop(): Promise<void>;
  /** Settles when the election ends: stopped by us, or leadership lost (the process should exit). */
  readonly done: Promise<ElectionEnd>;
}

export const DEFAULT_LEASE_DURATION_MS = 15_000;
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
export const DEFAULT_RETRY_PERIOD_MS = 2_000;

/** metav1.MicroTime wants exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function startLeaderElection(opts: LeaderElectionOptions): LeaderElection {
  const clock = opts.clock ?? systemClock;
  const leaseDurationMs = opts.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
  const renewDeadlineMs = opts.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
  const retryPeriodMs = opts.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
  if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs)) {
    throw new Error(`leader election needs leaseDuration > renewDeadline > retryPeriod (got ${leaseDurationMs}/${renewDeadlineMs}/${retryPeriodMs} ms)`);
  }
  const log = opts.logger.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
  const leases: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: opts.namespace };
  const leaseRef = { ...leases, name: opts.name };

  let observed: Lease | undefined;
  let observedAt = 0;
  let lastHolder = '';
  let leading = false;
  let lastRenew = 0;
  let leadCtrl: AbortController | undefined;
  const stopCtrl = new AbortController();
  let wakeCtrl = new AbortController();
  let informer: Informer<Lease> | undefined;

  const observe = (lease: Lease): void => {
    const before = observed?.spec;
    const after = lease.spec;
    // Expiry is measured from when *we* saw the record change, never from the holder's timestamps.
    if (!before || before.holderIdentity !== after?.holderIdentity || before.renewTime !== after?.renewTime) observedAt = clock.now();
    observed = lease;
    const holder = after?.holderIdentity ?? '';
    if (holder !== lastHolder) {
      lastHolder = holder;
      if (holder) {
        log.info({ leader: holder }, 'new leader observed');
        opts.onNewLeader?.(holder);
      }
    }
  };

  // No rate limiter: a renewal queued behind a burst of reconciles could cost the lease. A short timeout: a hung call must not outlive the renew deadline.
  const client = createKubeClient({ kubeConfig: opts.kubeConfig, timeoutMs: Math.max(1000, Math.min(renewDeadlineMs, leaseDurationMs / 2)) });

  const desiredSpec = (current: LeaseSpec | undefined, now: number): LeaseSpec => {
    const ours = current?.holderIdentity === opts.identity;
    return {
      holderIdentity: opts.identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      acquireTime: ours && current?.acquireTime ? current.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: ours ? (current?.leaseTransitions ?? 0) : (current?.leaseTransitions ?? 0) + (current ? 1 : 0),
    };
  };

  const write = async (base: Lease): Promise<boolean> => {
    const updated: Lease = { ...base, metadata: { ...base.metadata }, spec: desiredSpec(base.spec, clock.now()) };
    try {
      observe(await client.replace<Lease>(leaseRef, updated));
      return true;
    } catch (err) {
      // 409: someone wrote the lease since we read it; the next read tells who holds it now.
      if (statusCode(err) !== 409) log.warn({ err: errorSummary(err) }, 'could not write lease');
      return false;
    }
  };

  /** One attempt to take or keep the lease; true when we hold it afterwards. */
  const tryAcquireOrRenew = async (): Promise<boolean> => {
    // A leader first renews from what it last wrote; a 409 there falls through to a fresh read.
    if (leading && observed && observed.spec?.holderIdentity === opts.identity && (await write(observed))) return true;
    let lease: Lease;
    try {
      lease = await client.get<Lease>(leaseRef);
    } catch (err) {
      if (statusCode(err) !== 404) {
        log.warn({ err: errorSummary(err) }, 'could not read lease');
        return false;
      }
      try {
        const fresh: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: opts.name, namespace: opts.namespace }, spec: desiredSpec(undefined, clock.now()) };
        observe(await client.create<Lease>(leases, fresh));
        return true;
      } catch (createErr) {
        if (statusCode(createErr) !== 409) log.warn({ err: errorSummary(createErr) }, 'could not create lease');
        return false;
      }
    }
    observe(lease);
    const holder = lease.spec?.holderIdentity ?? '';
    const durationMs = (lease.spec?.leaseDurationSeconds ?? Math.ceil(leaseDurationMs / 1000)) * 1000;
    if (holder && holder !== opts.identity && observedAt + durationMs > clock.now()) return false;
    return write(lease);
  };

  const startLeading = (): void => {
    leading = true;
    lastRenew = clock.now();
    leadCtrl = new AbortController();
    log.info({ leaseTransitions: observed?.spec?.leaseTransitions }, 'started leading');
    try {
      opts.onStartedLeading(leadCtrl.signal);
    } catch (err) {
      log.error({ err }, 'onStartedLeading threw');
    }
  };

  const stopLeading = (why: string): void => {
    if (!leading) return;
    leading = false;
    log.warn({ why }, 'stopped leading');
    leadCtrl?.abort(new Error(`leadership lost: ${why}`));
    try {
      opts.onStoppedLeading?.();
    } catch (err) {
      log.error({ err }, 'onStoppedLeading threw');
    }
  };

  const release = async (): Promise<void> => {
    if (!observed || observed.spec?.holderIdentity !== opts.identity) return;
    const now = clock.now();
    const released: Lease = {
      ...observed,
      metadata: { ...observed.metadata },
      // An empty holder with a one-second duration is free for anyone at once (client-go's release).
      spec: { ...observed.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now), acquireTime: microTime(now) },
    };
    try {
      observe(await client.replace<Lease>(leaseRef, released));
      log.info('released lease');
    } catch (err) {
      log.warn({ err: errorSummary(err) }, 'could not release lease; a standby takes over once it expires');
    }
  };

  const wake = (): void => wakeCtrl.abort();

  const campaign = async (): Promise<ElectionEnd> => {
    while (!stopCtrl.signal.aborted) {
      if (!leading) {
        if (await tryAcquireOrRenew()) {
          if (stopCtrl.signal.aborted) break;
          startLeading();
          continue;
        }
        wakeCtrl = new AbortController();
        // client-go jitters retries by up to 20% so standbys do not ask in lockstep.
        await sleep(clock, retryPeriodMs * (1 + Math.random() * 0.2), AbortSignal.any([stopCtrl.signal, wakeCtrl.signal]));
        continue;
      }
      await sleep(clock, retryPeriodMs, stopCtrl.signal);
      if (stopCtrl.signal.aborted) break;
      if (await tryAcquireOrRenew()) {
        lastRenew = clock.now();
        continue;
      }
      const holder = observed?.spec?.holderIdentity ?? '';
      if (holder && holder !== opts.identity) {
        stopLeading(`lease taken by ${holder}`);
        return 'lost';
      }
      if (clock.now() - lastRenew >= renewDeadlineMs) {
        stopLeading(`no successful renewal within ${renewDeadlineMs} ms`);
        return 'lost';
      }
    }
    return 'stopped';
  };

  if (opts.watchLease !== false) {
    informer = createInformer<Lease>({
      kubeConfig: opts.kubeConfig,
      resource: leases,
      fieldSelector: `metadata.name=${opts.name}`,
      logger: log,
      clock,
    });
    informer.on({
      update: (_old, lease) => {
        if (!leading && !lease.spec?.holderIdentity) wake();
      },
      delete: () => {
        if (!leading) wake();
      },
    });
    informer.start();
  }

  const done = campaign().then(async (end) => {
    await informer?.stop();
    return end;
  });

  return {
    isLeader: () => leading,
    get done() {
      return done;
    },
    async stop() {
      if (stopCtrl.signal.aborted) {
        await done;
        return;
      }
      stopCtrl.abort();
      const end = await done;
      if (end === 'stopped' && leading) {
        // Release before telling the caller we stopped, so "stopped leading" means the lease is free.
        await release();
        stopLeading('stopped');
      }
    },
  };
}

/** Error text without response headers or bodies that could carry more than we want in logs. */
function errorSummary(err: unknown): { code?: number; message: string } {
  const code = statusCode(err);
  const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
  return code === undefined ? { message } : { code, message };
}
