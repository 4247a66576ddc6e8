// Headless Service "<name>-workers": per-rank DNS names for rendezvous, published before pods are ready.
import type { V1Service } from '@kubernetes/client-node';
import { masterPort } from '../../api/trainingjob-v1.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import { childLabels, childMetadata, identityOf, workerSelector } from './child-metadata.ts';
import { workerServiceName } from './names.ts';
import { METRICS_PORT } from './worker-env.ts';

export function buildWorkerService(job: TrainingJob): V1Service {
  const id = identityOf(job);
  const port = masterPort(job);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(id, workerServiceName(id.name), childLabels(id.name, 'workers')),
    spec: {
      clusterIP: 'None',
      // Ranks must resolve each other while they are still starting, before any readiness.
      publishNotReadyAddresses: true,
      selector: workerSelector(id.name),
      ports: [
        { name: 'master', port, targetPort: port, protocol: 'TCP' },
        { name: 'metrics', port: METRICS_PORT, targetPort: METRICS_PORT, protocol: 'TCP' },
      ],
    },
  };
}
