// Statically provisioned PersistentVolumes: the local cluster has no storage provisioner, so
// checkpoint PVCs bind to these (kube-controller-manager's binder) and their pods can schedule.
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreV1Api } from '@kubernetes/client-node';

export interface VolumePoolOptions {
  capacity?: string;
  /**
   * Folder of the volumes' host paths, made here and writable by any user (fsGroup does not apply to
   * hostPath, and workers run as non-root). Needed on a real node; kwok never mounts anything.
   */
  hostRoot?: string;
}

export async function createVolumePool(core: CoreV1Api, count: number, opts: VolumePoolOptions = {}): Promise<void> {
  for (let i = 0; i < count; i++) {
    let path = `/tmp/trainingjob-pv-${i}`;
    if (opts.hostRoot) {
      path = join(opts.hostRoot, `pv-${i}`);
      mkdirSync(path, { recursive: true });
      chmodSync(path, 0o1777);
    }
    await core.createPersistentVolume({
      body: {
        metadata: { name: `local-pv-${i}`, labels: { 'trainingjob.test/pool': 'true' } },
        spec: {
          capacity: { storage: opts.capacity ?? '1Ti' },
          accessModes: ['ReadWriteOnce', 'ReadWriteMany'],
          persistentVolumeReclaimPolicy: 'Retain',
          hostPath: { path, type: opts.hostRoot ? 'Directory' : 'DirectoryOrCreate' },
        },
      },
    });
  }
}
