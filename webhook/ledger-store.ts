// The GPU ledger kept in a ConfigMap per namespace (in the webhook's own namespace), one key per job.
import { ApiException, type CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import type { Ledger, LedgerStore, Reservation } from './gpu-ledger.ts';

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
      if (typeof r.gpus === 'number' && typeof r.at === 'string') out[name] = { gpus: r.gpus, workers: Number(r.workers) || 0, at: r.at };
    } catch {
      // An entry edited by hand into garbage is ignored rather than blocking every admission.
    }
  }
  return out;
}

export function configMapLedgerStore(core: CoreV1Api, ledgerNamespace: string): LedgerStore {
  return {
    async read(namespace) {
      try {
        const cm = await core.readNamespacedConfigMap({ name: ledgerName(namespace), namespace: ledgerNamespace });
        const listedAt = cm.data?.[listedAtKey];
        return { entries: decode(cm), version: cm.metadata?.resourceVersion, ...(listedAt ? { listedAt } : {}) };
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return { entries: {}, version: undefined } satisfies Ledger;
        throw err;
      }
    },
    async write(namespace, { entries, listedAt }, version) {
      const body: V1ConfigMap = {
        metadata: { name: ledgerName(namespace), namespace: ledgerNamespace, labels: { [ledgerLabel]: namespace }, ...(version ? { resourceVersion: version } : {}) },
        data: { ...Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, JSON.stringify(v)])), ...(listedAt ? { [listedAtKey]: listedAt } : {}) },
      };
      try {
        if (version === undefined) await core.createNamespacedConfigMap({ namespace: ledgerNamespace, body });
        else await core.replaceNamespacedConfigMap({ name: ledgerName(namespace), namespace: ledgerNamespace, body });
        return true;
      } catch (err) {
        // 409: another replica wrote first (conflict on update, AlreadyExists on create).
        if (err instanceof ApiException && err.code === 409) return false;
        throw err;
      }
    },
  };
}
