// Admission under disruption: suspended 2-GPU TrainingJob creates into a namespace with a 16-GPU Reject quota,
// one after another until stopped (at least 20), each answer classified, so a test can show that every create
// was answered by the webhook and exactly quota / demand (8) were admitted while pods came and went.
import type { ControlPlane } from '../../localcluster/controlplane.ts';

export const STREAM_NAMESPACE = 'roll';
export const STREAM_QUOTA = 16;
const GPUS_PER_CREATE = 2;

export interface CreateStream {
  /** Stops after the create in flight (and after at least 20); resolves to 'admitted' | 'quota' | 'error: …' per create. */
  stop(): Promise<string[]>;
}

/** The namespace and its Reject policy; then creates until `stop()`. */
export async function startCreateStream(cp: Pick<ControlPlane, 'kubectl'>, image: string): Promise<CreateStream> {
  for (const doc of [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: STREAM_NAMESPACE, labels: { team: STREAM_NAMESPACE } } },
    { apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name: `${STREAM_NAMESPACE}-quota` }, spec: { namespaceSelector: { matchLabels: { team: STREAM_NAMESPACE } }, gpuQuota: STREAM_QUOTA, overQuota: 'Reject' } },
  ]) {
    const r = await cp.kubectl(['apply', '-f', '-'], { input: JSON.stringify(doc) });
    if (r.code !== 0) throw new Error(`kubectl apply ${doc.kind}: ${r.stderr}`);
  }
  const answers: string[] = [];
  let running = true;
  const loop = (async () => {
    for (let n = 0; running || n < 20; n++) {
      const r = await cp.kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: `r${n}`, namespace: STREAM_NAMESPACE }, spec: { image, numWorkers: 1, gpusPerWorker: GPUS_PER_CREATE, suspend: true } }) });
      answers.push(r.code === 0 ? 'admitted' : new RegExp(`GPU quota ${STREAM_QUOTA}: \\d+ in use`).test(r.stderr) ? 'quota' : `error: ${r.stderr.trim()}`);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return answers;
    },
  };
}

/** GPUs the stream's namespace holds now, from the API. */
export async function streamGpusHeld(cp: Pick<ControlPlane, 'kubectl'>): Promise<number> {
  const r = await cp.kubectl(['-n', STREAM_NAMESPACE, 'get', 'trainingjobs', '-o', 'json']);
  if (r.code !== 0) throw new Error(`kubectl get trainingjobs: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { items: { spec: { numWorkers: number; gpusPerWorker: number } }[] }).items.reduce((s, j) => s + j.spec.numWorkers * j.spec.gpusPerWorker, 0);
}
