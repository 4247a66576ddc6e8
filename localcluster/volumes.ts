// Statically provisioned PersistentVolumes: the local cluster has no storage provisioner, so
// checkpoint PVCs bind to these (kube-controller-manager's binder) and their pods can schedule.
import type { CoreV1Api } from '@kubernetes/client-node';

export async function createVolumePool(core: CoreV1Api, count: number, capacity = '1Ti'): Promise<void> {
  for (let i = 0; i < count; i++) {
    await core.createPersistentVolume({
      body: {
        metadata: { name: `local-pv-${i}`, labels: { 'trainingjob.test/pool': 'true' } },
        spec: {
          capacity: { storage: capacity },
          accessModes: ['ReadWriteOnce', 'ReadWriteMany'],
          persistentVolumeReclaimPolicy: 'Retain',
          hostPath: { path: `/tmp/trainingjob-pv-${i}`, type: 'DirectoryOrCreate' },
        },
      },
    });
  }
}
