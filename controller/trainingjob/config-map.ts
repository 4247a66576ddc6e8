// ConfigMap "<name>-config": the run's configuration as files, mounted read-only into every worker.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { framework, masterPort, networkBackend, numWorkers } from '../../api/trainingjob-v1.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import { childLabels, childMetadata, identityOf } from './child-metadata.ts';
import { configMapName } from './names.ts';

// Keys sorted so the same hyperparameters always serialize to the same bytes.
function sortedHyperparameters(job: TrainingJob): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(job.spec.hyperparameters ?? {}).sort()) out[key] = job.spec.hyperparameters?.[key];
  return out;
}

export function buildConfigMap(job: TrainingJob): V1ConfigMap {
  const id = identityOf(job);
  const data: Record<string, string> = {
    'hyperparameters.json': `${JSON.stringify(sortedHyperparameters(job), null, 2)}\n`,
    backend: networkBackend(job),
    master_port: String(masterPort(job)),
    world_size: String(numWorkers(job)),
    framework: framework(job),
  };
  if (job.spec.model) data.model = job.spec.model;
  if (job.spec.dataset) data.dataset = job.spec.dataset;
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: childMetadata(id, configMapName(id.name), childLabels(id.name, 'config')), data };
}
