// The GPU ledger kept in a ConfigMap per namespace (in the webhook's own namespace), one key per job.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { statusCode, type KubeClient, type ResourceRef } from '../kube/index.ts';
import type { Ledger, LedgerStore, Reservation } from './gpu-ledger.ts';
import { newestVersion } from '../kube/index.ts';

export const ledgerLabel = 'ml.example.com/gpu-ledger';
// Not a job name (those start with a letter or digit), so it cannot collide with a reservation.
const listedAtKey = '.listed-at';

export function ledgerName(namespace: string): string {
  return `gpu-ledger.${namespace}`;
}

function decode(cm: V1ConfigMap): Record<string, Reservation> {
  const out: Record<string, Reservation> = {};
  for (const [name, text] of Object.entries(cm.data ?? {})) {
    if (name === listedAtKey) continue;
    try {
      const r = JSON.parse(text) as Reservation;
      if (typeof r.gpus === 'number' && typeof r.at === 'string') out[name] = { gpus: r.gpus, workers: Number(r.workers) || 0, at: r.at, ...(typeof r.queuedVersion === 'string' ? { queuedVersion: r.queuedVersion } : {}) };
    } catch {
      // An entry edited by hand into garbage is ignored rather than blocking every admission.
    }
  }
  return out;
}

function ledgerOf(cm: V1ConfigMap): Ledger {
  const listedAt = cm.data?.[listedAtKey];
  return { entries: decode(cm), version: cm.metadata?.resourceVersion, ...(listedAt ? { listedAt } : {}) };
}

export function configMapLedgerStore(client: KubeClient, ledgerNamespace: string): LedgerStore {
  const configMaps: ResourceRef = { version: 'v1', plural: 'configmaps', namespace: ledgerNamespace };
  return {
    async read(namespace) {
      const cm = await client.find<V1ConfigMap>({ ...configMaps, name: ledgerName(namespace) });
      return cm ? ledgerOf(cm) : ({ entries: {}, version: undefined } satisfies Ledger);
    },
    async write(namespace, { entries, listedAt }, version) {
      const body: V1ConfigMap = {
        metadata: { name: ledgerName(namespace), namespace: ledgerNamespace, labels: { [ledgerLabel]: namespace }, ...(version ? { resourceVersion: version } : {}) },
        data: { ...Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, JSON.stringify(v)])), ...(listedAt ? { [listedAtKey]: listedAt } : {}) },
      };
      try {
        // The response is the ledger as stored, exactly what the next read would return.
        if (version === undefined) return ledgerOf(await client.create<V1ConfigMap>(configMaps, body));
        return ledgerOf(await client.replace<V1ConfigMap>({ ...configMaps, name: ledgerName(namespace) }, body));
      } catch (err) {
        // 409: another replica wrote first (conflict on update, AlreadyExists on create); 404: deleted since read.
        const code = statusCode(err);
        if (code === 409 || (code === 404 && version !== undefined)) return undefined;
        throw err;
      }
    },
  };
}

/**
 * Remembers the last ledger read or written per namespace, so a reservation can be attempted
 * without reading first: the conditional write fails if another replica wrote since, and the
 * retry reads afresh. A conflict forgets the namespace's ledger.
 */
export function rememberingLedgerStore(store: LedgerStore): LedgerStore {
  const last = new Map<string, Ledger>();
  // A read that started before a write may answer after it: never go back to an older version.
  const remember = (namespace: string, ledger: Ledger): void => {
    const known = last.get(namespace)?.version;
    if (!known || !ledger.version || newestVersion([known, ledger.version]) === ledger.version) last.set(namespace, ledger);
  };
  return {
    async read(namespace) {
      const ledger = await store.read(namespace);
      remember(namespace, ledger);
      return ledger;
    },
    async write(namespace, next, version) {
      const stored = await store.write(namespace, next, version);
      if (stored) remember(namespace, stored);
      else last.delete(namespace);
      return stored;
    },
    remembered: (namespace) => last.get(namespace),
  };
}
