// `trainingjob demo`: brings up the local platform and walks through what it does, step by step.
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
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
  # kwokRunTime: how long the simulated (kwok) workers run before they succeed
  hyperparameters: { learningRate: 0.0001, batchSize: 32, epochs: 3, kwokRunTime: 15s }
`;

export async function demoCommand(_args: string[]): Promise<number> {
  say('== 1. local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok GPU nodes) and platform');
  const cluster = await ensureClusterUp();
  const kc = loadKubeConfig(cluster.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const kubectl = kubectlFor(cluster);
  const nodes = await core.listNode({ labelSelector: 'type=kwok' });
  for (const n of nodes.items) say(`   node ${n.metadata?.name}: ${n.status?.allocatable?.['nvidia.com/gpu']} GPUs allocatable`);
  say(`   admission webhook: ${cluster.webhook ?? 'not installed'}`);
  say(`   controller metrics: ${cluster.controllerMetrics ?? 'not running'}/metrics`);

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

  say('== 6. the controller turned the admitted job into workloads: an Indexed Job, 4 pods on GPU nodes');
  const custom = kc.makeApiClient(CustomObjectsApi);
  const state = async () => ((await custom.getNamespacedCustomObject({ group: 'ml.example.com', version: 'v1', namespace: 'team-a', plural: 'trainingjobs', name })) as { status?: { state?: string } }).status?.state;
  await poll('the job to run', async () => ((await state()) === 'Running' ? true : undefined), 120_000);
  await kubectl(['get', 'tj,jobs,pods', '-n', 'team-a', '-o', 'wide']);
  say('   …the simulated workers finish after 15 s');
  await poll('the job to complete', async () => ((await state()) === 'Completed' ? true : undefined), 120_000);
  await kubectl(['get', 'tj', name, '-n', 'team-a']);
  await kubectl(['get', 'events', '-n', 'team-a', '--field-selector', `involvedObject.name=${name}`, '--sort-by=.lastTimestamp']);

  say('== the cluster keeps running; to use it:');
  say(`   export KUBECONFIG=${cluster.kubeconfig}`);
  say(`   export PATH=${cluster.binDir}:$PATH`);
  say('   kubectl get trainingjobs -A');
  say(`   curl -s ${cluster.controllerMetrics ?? 'http://127.0.0.1:8080'}/metrics | grep ^trainingjob_`);
  say('   npx trainingjob cluster down    # stop it and remove its data');
  return 0;
}
