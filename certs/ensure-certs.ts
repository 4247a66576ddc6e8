// Brings the stored certificates up to date: create when missing, rotate when the plan says so, adopt a racing replica's write.
import type { KubeClient } from '../kube/index.ts';
import { createCertBundle, factsOf, rotateCertBundle } from './bundle.ts';
import { CertError } from './errors.ts';
import { rotationPlan, type RotationPlan } from './rotation-plan.ts';
import { createStoredCerts, readStoredCerts, replaceStoredCerts, type StoredCerts } from './secret-store.ts';
import type { Lifetimes } from './lifetimes.ts';
import type { SecretRef, ServingNames } from './names.ts';

export interface EnsureCertsOptions {
  client: KubeClient;
  secret: SecretRef;
  names: ServingNames;
  lifetimes: Lifetimes;
  now: Date;
  /** Rotate now whatever the expiry: a new serving certificate, or a new CA and serving certificate. */
  force?: 'serving' | 'ca';
}

export interface EnsureCertsResult {
  stored: StoredCerts;
  /** This call created the Secret (false when it existed or another replica created it first). */
  created: boolean;
  /** Set when this call rotated. */
  rotation?: RotationPlan;
}

const ATTEMPTS = 3;

function forced(force: EnsureCertsOptions['force']): RotationPlan | undefined {
  if (force === 'ca') return { rotateCA: true, rotateServing: true, reason: 'rotation of the CA was requested' };
  if (force === 'serving') return { rotateCA: false, rotateServing: true, reason: 'rotation of the serving certificate was requested' };
  return undefined;
}

export async function ensureCerts(opts: EnsureCertsOptions): Promise<EnsureCertsResult> {
  const { client, secret, names, lifetimes, now } = opts;
  let stored = await readStoredCerts(client, secret);
  let created = false;
  if (!stored) {
    ({ stored, created } = await createStoredCerts(client, secret, createCertBundle({ names, lifetimes, now })));
    if (created && !opts.force) return { stored, created };
  }
  for (let attempt = 1; ; attempt++) {
    const plan = forced(opts.force) ?? rotationPlan(factsOf(stored.bundle), now, lifetimes, names);
    if (!plan.rotateCA && !plan.rotateServing) return { stored, created };
    try {
      stored = await replaceStoredCerts(client, secret, rotateCertBundle(stored.bundle, plan, { names, lifetimes, now }), stored);
      return { stored, created, rotation: plan };
    } catch (err) {
      if (!(err instanceof CertError && err.code === 'WriteConflict') || attempt >= ATTEMPTS) throw err;
    }
    // Another replica wrote first: plan again on what it stored (usually nothing is left to do); a forced rotation counts theirs.
    const latest = await readStoredCerts(client, secret);
    if (!latest) throw new CertError('SecretNotFound', `Secret ${secret.namespace}/${secret.name} was deleted during rotation`, { secret });
    stored = latest;
    if (opts.force) return { stored, created };
  }
}
