// The certificates live in one kubernetes.io/tls Secret; writes are create-or-adopt and resourceVersion-guarded.
import type { V1Secret } from '@kubernetes/client-node';
import { statusCode, type KubeClient, type ObjectRef, type ResourceRef } from '../kube/index.ts';
import { bundleFromPems, type CertBundle } from './bundle.ts';
import { CertError, apiFailure } from './errors.ts';
import type { SecretRef } from './names.ts';

export interface StoredCerts {
  bundle: CertBundle;
  resourceVersion: string;
  /** Kept on update so labels or annotations others put on the Secret (e.g. Argo CD tracking) survive rotation. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const OWN_LABELS = { 'app.kubernetes.io/name': 'trainingjob', 'app.kubernetes.io/component': 'webhook-certs', 'app.kubernetes.io/managed-by': 'trainingjob-certs' };

// tls.crt / tls.key / ca.crt are what cert-manager and kubelet mounts expect; the CA key has its own entry.
export const SECRET_KEYS = { tlsCert: 'tls.crt', tlsKey: 'tls.key', caBundle: 'ca.crt', caKey: 'ca.key' } as const;

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined): string => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

export function secretFromBundle(ref: SecretRef, bundle: CertBundle, previous?: Pick<StoredCerts, 'resourceVersion' | 'labels' | 'annotations'>): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name: ref.name,
      namespace: ref.namespace,
      labels: { ...previous?.labels, ...OWN_LABELS },
      ...(previous ? { resourceVersion: previous.resourceVersion, annotations: previous.annotations } : {}),
    },
    data: {
      [SECRET_KEYS.tlsCert]: b64(bundle.tlsCertPem),
      [SECRET_KEYS.tlsKey]: b64(bundle.tlsKeyPem),
      [SECRET_KEYS.caBundle]: b64(bundle.caBundlePem),
      [SECRET_KEYS.caKey]: b64(bundle.caKeyPem),
    },
  };
}

export function storedFromSecret(secret: V1Secret, ref: SecretRef): StoredCerts {
  const where = `Secret ${ref.namespace}/${ref.name}`;
  const data = secret.data ?? {};
  const missing = Object.values(SECRET_KEYS).filter((k) => !data[k]);
  if (missing.length) throw new CertError('InvalidSecret', `${where} lacks ${missing.join(', ')}`, { secret: ref, missing });
  const bundle = bundleFromPems(
    { caBundlePem: unb64(data[SECRET_KEYS.caBundle]), caKeyPem: unb64(data[SECRET_KEYS.caKey]), tlsCertPem: unb64(data[SECRET_KEYS.tlsCert]), tlsKeyPem: unb64(data[SECRET_KEYS.tlsKey]) },
    where,
  );
  return { bundle, resourceVersion: secret.metadata?.resourceVersion ?? '', labels: secret.metadata?.labels ?? {}, annotations: secret.metadata?.annotations ?? {} };
}

const secretsIn = (ref: SecretRef): ResourceRef => ({ version: 'v1', plural: 'secrets', namespace: ref.namespace });
const secretAt = (ref: SecretRef): ObjectRef => ({ ...secretsIn(ref), name: ref.name });

export async function readStoredCerts(client: KubeClient, ref: SecretRef): Promise<StoredCerts | undefined> {
  let secret: V1Secret | undefined;
  try {
    secret = await client.find<V1Secret>(secretAt(ref));
  } catch (err) {
    throw apiFailure(`reading Secret ${ref.namespace}/${ref.name}`, err, { secret: ref });
  }
  return secret && storedFromSecret(secret, ref);
}

/** Creates the Secret; when another replica won the race (409), adopts what it stored instead. */
export async function createStoredCerts(client: KubeClient, ref: SecretRef, bundle: CertBundle): Promise<{ stored: StoredCerts; created: boolean }> {
  try {
    const secret = await client.create<V1Secret>(secretsIn(ref), secretFromBundle(ref, bundle));
    return { stored: storedFromSecret(secret, ref), created: true };
  } catch (err) {
    if (statusCode(err) !== 409) throw apiFailure(`creating Secret ${ref.namespace}/${ref.name}`, err, { secret: ref });
  }
  const stored = await readStoredCerts(client, ref);
  if (!stored) throw new CertError('WriteConflict', `Secret ${ref.namespace}/${ref.name} already existed but was gone when read back`, { secret: ref });
  return { stored, created: false };
}

/** Replaces the Secret only if it is still at the version `previous` was read at; a newer write by someone else is a WriteConflict. */
export async function replaceStoredCerts(client: KubeClient, ref: SecretRef, bundle: CertBundle, previous: StoredCerts): Promise<StoredCerts> {
  const { resourceVersion } = previous;
  try {
    // secretFromBundle puts `previous.resourceVersion` in the body: the apiserver refuses (409) if the Secret moved on.
    const secret = await client.replace<V1Secret>(secretAt(ref), secretFromBundle(ref, bundle, previous));
    return storedFromSecret(secret, ref);
  } catch (err) {
    if (statusCode(err) === 409) throw new CertError('WriteConflict', `Secret ${ref.namespace}/${ref.name} changed since it was read`, { secret: ref, resourceVersion });
    throw apiFailure(`updating Secret ${ref.namespace}/${ref.name}`, err, { secret: ref });
  }
}
