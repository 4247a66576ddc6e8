// `trainingjob demo`: brings up the local platform and walks through what it does, step by step.
import { BatchV1Api, CoreV1Api, KubeConfig, type V1Job } from '@kubernetes/client-node';
import { ensureClusterUp } from './cluster.ts';

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

export async function demoCommand(_args: string[]): Promise<number> {
  say('== 1. local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok GPU nodes)');
  const cluster = await ensureClusterUp();
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);

  const nodes = await core.listNode({ labelSelector: 'type=kwok' });
  for (const n of nodes.items) say(`   node ${n.metadata?.name}: ${n.status?.allocatable?.['nvidia.com/gpu']} GPUs allocatable`);

  say('== 2. a 2-GPU batch Job is scheduled on a GPU node and runs to completion');
  const namespace = 'default';
  const name = `demo-gpu-${Date.now().toString(36)}`;
  await poll('the default ServiceAccount', () => core.readNamespacedServiceAccount({ name: 'default', namespace }), 60_000);
  const job: V1Job = {
    metadata: { name, namespace },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: 600,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'train', image: 'busybox', command: ['true'], resources: { limits: { 'nvidia.com/gpu': '2' } } }] } },
    },
  };
  await batch.createNamespacedJob({ namespace, body: job });
  const done = await poll('the Job to succeed', async () => {
    const j = await batch.readNamespacedJob({ name, namespace });
    return j.status?.succeeded ? j : undefined;
  }, 120_000);
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `job-name=${name}` });
  say(`   job/${name}: succeeded=${done.status?.succeeded}, pod ${pods.items[0]?.metadata?.name} ran on ${pods.items[0]?.spec?.nodeName}`);

  say('== the cluster keeps running; to use it:');
  say(`   export KUBECONFIG=${cluster.kubeconfig}`);
  say(`   export PATH=${cluster.binDir}:$PATH`);
  say('   kubectl get nodes,jobs,pods -A');
  say('   npx trainingjob cluster down    # stop it and remove its data');
  return 0;
}
