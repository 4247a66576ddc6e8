// The platform as users install it: `kubectl apply --server-side -k manifests/overlays/default`, with our
// image already in the node, then every Deployment Available (webhook replicas with their certificates
// stored and injected, the controller holding its Lease).
import { join } from 'node:path';
import { repoRoot } from '../binaries.ts';
import { LocalClusterError } from '../errors.ts';
import type { ControlPlane } from '../controlplane.ts';

export const PLATFORM_NAMESPACE = 'trainingjob-system';
export const PLATFORM_DEPLOYMENTS = ['webhook', 'controller-manager'] as const;

export async function applyPlatformOverlay(cp: Pick<ControlPlane, 'kubectl'>, opts: { overlay?: string; timeoutSeconds?: number; progress?: (line: string) => void } = {}): Promise<void> {
  const overlay = opts.overlay ?? join(repoRoot, 'manifests', 'overlays', 'default');
  opts.progress?.(`kubectl apply --server-side -k ${overlay}`);
  const applied = await cp.kubectl(['apply', '--server-side', '-k', overlay]);
  if (applied.code !== 0) throw new LocalClusterError('NodeSetupFailed', `kubectl apply --server-side -k ${overlay} failed: ${applied.stderr.trim()}`, { overlay });
  for (const d of PLATFORM_DEPLOYMENTS) {
    opts.progress?.(`waiting for deployment/${d} to be Available`);
    const r = await cp.kubectl(['-n', PLATFORM_NAMESPACE, 'wait', '--for=condition=Available', `deployment/${d}`, `--timeout=${opts.timeoutSeconds ?? 180}s`]);
    if (r.code !== 0) {
      const pods = await cp.kubectl(['-n', PLATFORM_NAMESPACE, 'get', 'pods', '-o', 'wide']);
      throw new LocalClusterError('StartTimeout', `deployment/${d} did not become Available: ${r.stderr.trim()}\n${pods.stdout}`, { deployment: d });
    }
  }
}
