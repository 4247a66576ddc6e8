// `trainingjob demo`: brings up the local platform and walks through what it does, step by step.
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { loadKubeConfig } from '../kube/kubeconfig.ts';
import { runCommand } from '../localcluster/controlplane.ts';
import { clusterDir, ensureClusterUp, type ReadyCluster } from './cluster.ts';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cloneWorkingCopy, runGit } from '../localcluster/git-cli.ts';
import { repoRoot } from '../localcluster/binaries.ts';
import type { JobRepository } from '../api/index.ts';

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

type Kubectl = ReturnType<typeof kubectlFor>;

const repoStatus = async (custom: CustomObjectsApi) =>
  ((await custom.getNamespacedCustomObject({ group: 'ml.example.com', version: 'v1', namespace: 'team-a', plural: 'jobrepositories', name: 'jobs' })) as { status?: JobRepository['status'] }).status;

/** Jobs pushed to Git become TrainingJobs; a push over quota shows its rejection in the sync status. */
async function gitDemo(cluster: ReadyCluster, kubectl: Kubectl, custom: CustomObjectsApi): Promise<void> {
  if (!cluster.gitServer || !cluster.controllerHooks) return;
  say('== 7. ML engineers push jobs to Git; a JobRepository syncs them into team-a');
  const bare = join(clusterDir(), 'git', 'jobs.git');
  if (!existsSync(bare)) {
    await runGit(['init', '--quiet', '--bare', '--initial-branch=main', bare]);
    await runGit(['-C', bare, 'config', 'http.receivepack', 'true']);
  }
  const url = `${cluster.gitServer}/jobs.git`;
  const wc = await cloneWorkingCopy({ url, branch: 'main' });
  try {
    const files = Object.fromEntries(['bert-finetune.yaml', 'xgboost-churn.yaml'].map((f) => [`team-a/${f}`, readFileSync(join(repoRoot, 'examples', 'jobs', 'team-a', f), 'utf8')]));
    say(`   $ git push ${url}   (team-a/bert-finetune.yaml, team-a/xgboost-churn.yaml)`);
    const first = await wc.commitAndPush(files, 'team-a: bert fine-tuning and churn model');
    const hookSecret = 'demo-hook-secret';
    await kubectl(['apply', '-f', '-'], `apiVersion: v1
kind: Secret
metadata: { name: jobs-git, namespace: team-a }
stringData: { hookSecret: ${hookSecret} }
---
apiVersion: ml.example.com/v1
kind: JobRepository
metadata: { name: jobs, namespace: team-a }
spec:
  url: ${url}
  ref: { branch: main }
  path: team-a
  interval: 10m
  secretRef: { name: jobs-git }
`);
    await poll('the first sync', async () => ((await repoStatus(custom))?.lastAppliedRevision === first ? true : undefined), 60_000);
    await kubectl(['get', 'jobrepository,tj', '-n', 'team-a']);

    say('== 8. a push past the namespace GPU quota (16): the webhook refuses the job that does not fit, the rest apply');
    const llm = (name: string) => `apiVersion: ml.example.com/v1
kind: TrainingJob
metadata:
  name: ${name}
  namespace: team-a
  labels: { team: team-a }
spec:
  model: llama-7b
  numWorkers: 4
  gpusPerWorker: 2
  hyperparameters: { kwokRunTime: 10m }
`;
    say('   $ git push   (team-a/llm-{pretrain,sweep-a,sweep-b}.yaml: 4 workers × 2 GPUs each, 24 GPUs in all)');
    const second = await wc.commitAndPush({ 'team-a/llm-pretrain.yaml': llm('llm-pretrain'), 'team-a/llm-sweep-a.yaml': llm('llm-sweep-a'), 'team-a/llm-sweep-b.yaml': llm('llm-sweep-b') }, 'team-a: pretrain an LLM, and a sweep');
    // What a Git host does on push: a signed webhook, so the sync starts now rather than in 10 minutes.
    const body = JSON.stringify({ ref: 'refs/heads/main', after: second });
    const signature = `sha256=${createHmac('sha256', hookSecret).update(body).digest('hex')}`;
    const hook = await fetch(`${cluster.controllerHooks}/hooks/team-a/jobs`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signature } });
    say(`   $ POST ${cluster.controllerHooks}/hooks/team-a/jobs (X-Hub-Signature-256)  →  ${hook.status}`);
    await poll('the second sync', async () => ((await repoStatus(custom))?.lastAppliedRevision === second ? true : undefined), 60_000);
    await kubectl(['describe', 'jobrepository', 'jobs', '-n', 'team-a']);
  } finally {
    wc.remove();
  }
}

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

  await gitDemo(cluster, kubectl, custom);

  say('== the cluster keeps running; to use it:');
  say(`   export KUBECONFIG=${cluster.kubeconfig}`);
  say(`   export PATH=${cluster.binDir}:$PATH`);
  say('   kubectl get trainingjobs -A');
  say(`   curl -s ${cluster.controllerMetrics ?? 'http://127.0.0.1:8080'}/metrics | grep ^trainingjob_`);
  say('   npx trainingjob cluster down    # stop it and remove its data');
  return 0;
}
