// `trainingjob demo`: brings up the local platform and walks through what it does, step by step.
import { join } from 'node:path';
import { BatchV1Api, CoreV1Api, type V1Job } from '@kubernetes/client-node';
import { loadKubeConfig } from '../controller/runtime/kubeconfig.ts';
import { runCommand } from '../test/harness/controlplane.ts';
import { ensureClusterUp, type ReadyCluster } from './cluster.ts';

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const indent = (text: string): string => text.trimEnd().split('\n').map((l) => `     ${l}`).join('\n');

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

function kubectlFor(cluster: ReadyCluster) {
  return async (args: string[], input?: string): Promise<{ code: number; out: string }> => {
    say(`   $ kubectl ${args.join(' ')}`);
    const r = await runCommand(join(cluster.binDir, 'kubectl'), args, { ...process.env, KUBECONFIG: cluster.kubeconfig }, input);
    const out = `${r.stdout}${r.stderr}`;
    say(indent(out));
    return { code: r.code, out };
  };
}

const teamJob = (name: string, workers: number, gpus: number): string => `apiVersion: ml.example.com/v1
kind: TrainingJob
metadata:
  name: ${name}
  namespace: team-a
  labels: { team: team-a }
spec:
  model: bert-large
  dataset: wikipedia
  numWorkers: ${workers}
  gpusPerWorker: ${gpus}
  hyperparameters: { learningRate: 0.0001, batchSize: 32, epochs: 3 }
`;

export async function demoCommand(_args: string[]): Promise<number> {
  say('== 1. local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok GPU nodes) and platform');
  const cluster = await ensureClusterUp();
  const kc = loadKubeConfig(cluster.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const kubectl = kubectlFor(cluster);
  const nodes = await core.listNode({ labelSelector: 'type=kwok' });
  for (const n of nodes.items) say(`   node ${n.metadata?.name}: ${n.status?.allocatable?.['nvidia.com/gpu']} GPUs allocatable`);
  say(`   admission webhook: ${cluster.webhook ?? 'not installed'}`);

  say('== 2. team-a gets a namespace; TrainingPolicy team-a gives it 16 GPUs');
  await kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata: { name: team-a, labels: { ml.example.com/team: team-a } }\n');
  await kubectl(['get', 'trainingpolicies']);

  say('== 3. a valid job is admitted; the webhook fills in defaults (image, resources, checkpoint)');
  const name = `bert-${Date.now().toString(36)}`;
  await kubectl(['apply', '-f', '-'], teamJob(name, 4, 2));
  await kubectl(['get', 'tj', name, '-n', 'team-a', '-o', 'jsonpath={.spec.image}{"\\n"}{.spec.checkpoint}{"\\n"}']);

  say('== 4. an invalid job is rejected with every problem named');
  await kubectl(['apply', '-f', '-'], teamJob('too-wide', 40, 12));

  say('== 5. a job over the namespace GPU quota is rejected with the numbers');
  await kubectl(['apply', '-f', '-'], teamJob(`${name}-2`, 4, 2));
  await kubectl(['apply', '-f', '-'], teamJob(`${name}-3`, 4, 2));

  say('== 6. the cluster really runs GPU workloads: a 2-GPU batch Job is scheduled and completes');
  const jobName = `demo-gpu-${Date.now().toString(36)}`;
  await poll('the default ServiceAccount', () => core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }), 60_000);
  const job: V1Job = {
    metadata: { name: jobName, namespace: 'default' },
    spec: { backoffLimit: 0, ttlSecondsAfterFinished: 600, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'train', image: 'busybox', command: ['true'], resources: { limits: { 'nvidia.com/gpu': '2' } } }] } } },
  };
  await batch.createNamespacedJob({ namespace: 'default', body: job });
  const done = await poll('the Job to succeed', async () => {
    const j = await batch.readNamespacedJob({ name: jobName, namespace: 'default' });
    return j.status?.succeeded ? j : undefined;
  }, 120_000);
  const pods = await core.listNamespacedPod({ namespace: 'default', labelSelector: `job-name=${jobName}` });
  say(`   job/${jobName}: succeeded=${done.status?.succeeded}, pod ran on ${pods.items[0]?.spec?.nodeName}`);

  say('== the cluster keeps running; to use it:');
  say(`   export KUBECONFIG=${cluster.kubeconfig}`);
  say(`   export PATH=${cluster.binDir}:$PATH`);
  say('   kubectl get trainingjobs -A');
  say('   npx trainingjob cluster down    # stop it and remove its data');
  return 0;
}
