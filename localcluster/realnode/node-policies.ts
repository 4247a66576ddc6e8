// The real node's cluster-wide TrainingPolicy: policies/examples/platform-defaults.yaml names registry images
// and multi-CPU workers that a one-node, no-registry cluster cannot run, so here only the node's own images
// (the worker, the trainer) are trusted, the worker is every framework's default, and defaults fit a small machine.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../binaries.ts';
import { LocalClusterError } from '../errors.ts';
import type { ControlPlane } from '../controlplane.ts';
import { TRAINER_IMAGE_NAME, WORKER_IMAGE_NAME } from './images.ts';

const FRAMEWORKS = ['pytorch', 'tensorflow', 'xgboost', 'jax'] as const;

export function realNodeDefaultsPolicy(workerImage: string): Record<string, unknown> {
  const base = examplePolicy('platform-defaults') as { spec: { defaults: Record<string, unknown> } } & Record<string, unknown>;
  return {
    ...base,
    spec: {
      ...base.spec,
      allowedImages: [`${WORKER_IMAGE_NAME}:`, `${TRAINER_IMAGE_NAME}:`],
      defaults: {
        ...base.spec.defaults,
        images: Object.fromEntries(FRAMEWORKS.map((f) => [f, workerImage])),
        // Two CPUs run the platform and a demo's worth of workers (each a small Node process).
        resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
      },
    },
  };
}

/** The example policies, as the kwok cluster has them, with the real node's platform defaults. */
export async function applyRealNodePolicies(cp: Pick<ControlPlane, 'kubectl'>, workerImage: string): Promise<void> {
  const items = [realNodeDefaultsPolicy(workerImage), examplePolicy('team-a'), examplePolicy('team-b')];
  const r = await cp.kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
  if (r.code !== 0) throw new LocalClusterError('NodeSetupFailed', `applying the example TrainingPolicies failed: ${r.stderr.trim()}`, {});
}

function examplePolicy(name: string): Record<string, unknown> {
  return parse(readFileSync(join(repoRoot, 'policies', 'examples', `${name}.yaml`), 'utf8')) as Record<string, unknown>;
}
