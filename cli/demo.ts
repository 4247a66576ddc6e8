// `trainingjob demo`: brings up the local platform and walks through what it does, step by step.
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { loadKubeConfig } from '../kube/kubeconfig.ts';
import { runCommand } from '../localcluster/controlplane.ts';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cloneWorkingCopy, runGit } from '../localcluster/git-cli.ts';
import { repoRoot } from '../localcluster/binaries.ts';
import type { JobRepository } from '../api/index.ts';
import { parseArgs } from 'node:util';
import { portForward } from '../localcluster/port-forward.ts';
import { clusterDir, ensureClusterUp, nodeKind, type NodeKind, type ReadyCluster } from './cluster.ts';
import { demoJobYaml, firstPushFiles } from './demo-jobs.ts';
import { trainingDemo, type TrainingDemoCluster } from './demo-training.ts';

/** manifests/teams/team-a without jobrepository.yaml. */
const TEAM_FILES = ['namespace.yaml', 'resourcequota.yaml', 'trainingpolicy.yaml', 'gitops.yaml', 'controller-access.yaml', 'ml-engineers.yaml', 'feature-store.yaml'];

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

/** kubectl against the demo's cluster, shown with its output; `.quiet` runs it unshown (for polling). */
function kubectlFor(cluster: ReadyCluster) {
  const quiet = (args: string[], input?: string) => runCommand(join(cluster.binDir, 'kubectl'), args, { ...process.env, KUBECONFIG: cluster.kubeconfig }, input);
  const shown = async (args: string[], input?: string): Promise<{ code: number; out: string }> => {
    say(`   $ kubectl ${args.join(' ')}`);
    const r = await quiet(args, input);
    const out = `${r.stdout}${r.stderr}`;
    say(indent(out));
    return { code: r.code, out };
  };
  return Object.assign(shown, { quiet });
}

export type Kubectl = ReturnType<typeof kubectlFor>;

const repoStatus = async (custom: CustomObjectsApi) =>
  ((await custom.getNamespacedCustomObject({ group: 'ml.example.com', version: 'v1', namespace: 'team-a', plural: 'jobrepositories', name: 'jobs' })) as { status?: JobRepository['status'] }).status;

/** Jobs pushed to Git become TrainingJobs; a push over quota shows its rejection in the sync status. */
async function gitDemo(cluster: ReadyCluster, node: NodeKind, kubectl: Kubectl, custom: CustomObjectsApi): Promise<void> {
  if (!cluster.gitServer) return;
  say('== 7. ML engineers push jobs to Git; a JobRepository syncs them into team-a');
  const bare = join(clusterDir(), 'git', 'jobs.git');
  if (!existsSync(bare)) {
    await runGit(['init', '--quiet', '--bare', '--initial-branch=main', bare]);
    await runGit(['-C', bare, 'config', 'http.receivepack', 'true']);
  }
  const url = `${cluster.gitServer}/jobs.git`;
  // On the real node the controller is a pod: it fetches from the node's address, people push through host loopback.
  const clusterUrl = `${cluster.gitServerInCluster ?? cluster.gitServer}/jobs.git`;
  const wc = await cloneWorkingCopy({ url, branch: 'main' });
  try {
    const files = firstPushFiles(node, (f) => readFileSync(join(repoRoot, 'examples', 'jobs', 'team-a', f), 'utf8'));
    say(`   $ git push ${url}   (${Object.keys(files).join(', ')})`);
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
  url: ${clusterUrl}
  ref: { branch: main }
  path: team-a
  interval: 10m
  secretRef: { name: jobs-git }
  serviceAccountName: gitops
`);
    await poll('the first sync', async () => ((await repoStatus(custom))?.lastAppliedRevision === first ? true : undefined), 60_000);
    await kubectl(['get', 'jobrepository,tj', '-n', 'team-a']);

    say('== 8. a push past the namespace GPU quota (16): the webhook refuses the job that does not fit, the rest apply');
    const llm = (name: string) => demoJobYaml(node, { name, model: 'llama-7b', workers: 4, gpus: 2, seconds: 600 });
    say('   $ git push   (team-a/llm-{pretrain,sweep-a,sweep-b}.yaml: 4 workers × 2 GPUs each, 24 GPUs in all)');
    const second = await wc.commitAndPush({ 'team-a/llm-pretrain.yaml': llm('llm-pretrain'), 'team-a/llm-sweep-a.yaml': llm('llm-sweep-a'), 'team-a/llm-sweep-b.yaml': llm('llm-sweep-b') }, 'team-a: pretrain an LLM, and a sweep');
    await pushHook(cluster, hookSecret, second);
    await poll('the second sync', async () => ((await repoStatus(custom))?.lastAppliedRevision === second ? true : undefined), 60_000);
    await kubectl(['describe', 'jobrepository', 'jobs', '-n', 'team-a']);
    if (node === 'real' && cluster.trainer && cluster.containerdSocket) {
      await trainingDemo({ cluster: cluster as TrainingDemoCluster, kubectl, custom, say, poll, push: async (files, message) => {
        const revision = await wc.commitAndPush(files, message);
        await pushHook(cluster, hookSecret, revision);
        await poll('the sync', async () => ((await repoStatus(custom))?.lastAppliedRevision === revision ? true : undefined), 60_000);
      } });
    }
  } finally {
    wc.remove();
  }
}

/** What a Git host does on push: a signed webhook, so the sync starts now rather than at the next interval. */
async function pushHook(cluster: ReadyCluster, secret: string, revision: string): Promise<void> {
  const body = JSON.stringify({ ref: 'refs/heads/main', after: revision });
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const receiver = await hookReceiver(cluster);
  try {
    const hook = await fetch(`${receiver.url}/hooks/team-a/jobs`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signature }, signal: AbortSignal.timeout(30_000) });
    say(`   $ POST ${receiver.url}/hooks/team-a/jobs (X-Hub-Signature-256)  →  ${hook.status}`);
  } finally {
    receiver.stop();
  }
}

/** The controller's push receiver: in this process on kwok; on the real node a pod, reached with kubectl port-forward. */
async function hookReceiver(cluster: ReadyCluster): Promise<{ url: string; stop(): void }> {
  if (cluster.controllerHooks) return { url: cluster.controllerHooks, stop: () => {} };
  say('   $ kubectl port-forward -n trainingjob-system svc/controller-manager-hooks :9292   (in place of the Ingress a Git host would call)');
  return portForward(join(cluster.binDir, 'kubectl'), { ...process.env, KUBECONFIG: cluster.kubeconfig }, { namespace: 'trainingjob-system', resource: 'svc/controller-manager-hooks', port: 9292 });
}

const demoHelp = `usage: trainingjob demo [--node real|kwok]

  --node real  (the default where the machine allows it: Linux, root) one real node: containerd, kubelet,
               kube-proxy and CoreDNS in a network namespace with no route out; the platform runs in pods,
               installed from manifests/overlays/default, and workers are real containers
  --node kwok  fake GPU nodes (kwok): simulated pods, the platform in this machine's processes`;

export async function demoCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { node: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    say(demoHelp);
    return 0;
  }
  const node = nodeKind(values.node ?? 'real');
  const run = node === 'real' ? 20 : 15;
  say(node === 'real'
    ? '== 1. local control plane (etcd, kube-apiserver, controller-manager, scheduler) and one real node (containerd, kubelet, kube-proxy, CoreDNS), all in a network namespace with no route out; the platform installed from manifests/overlays/default'
    : '== 1. local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok GPU nodes) and platform');
  const cluster = await ensureClusterUp(node === 'real' ? { node, gpusPerNode: 16 } : {});
  const kc = loadKubeConfig(cluster.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const kubectl = kubectlFor(cluster);
  const nodes = await core.listNode();
  for (const n of nodes.items) say(`   node ${n.metadata?.name}: ${n.status?.allocatable?.['nvidia.com/gpu']} GPUs allocatable, ${n.status?.nodeInfo?.containerRuntimeVersion}`);
  if (node === 'real') {
    await kubectl(['get', 'deployments,pods', '-n', 'trainingjob-system', '-o', 'wide']);
  } else {
    say(`   admission webhook: ${cluster.webhook ?? 'not installed'}`);
    say(`   controller metrics: ${cluster.controllerMetrics ?? 'not running'}/metrics`);
  }

  say('== 2. the platform team onboards team-a (manifests/teams/team-a): namespace, GPU quota, TrainingPolicy team-a (16 GPUs), git sync identity, the shared data volume');
  const team = join(repoRoot, 'manifests', 'teams', 'team-a');
  // jobrepository.yaml names a placeholder Git host: step 7 creates the demo's own.
  await kubectl(['apply', ...TEAM_FILES.flatMap((f) => ['-f', join(team, f)])]);
  await kubectl(['get', 'trainingpolicies']);

  say('== 3. a valid job is admitted; the webhook fills in defaults (image, resources, checkpoint)');
  const name = `bert-${Date.now().toString(36)}`;
  const job = (n: string, workers: number, gpus: number): string => demoJobYaml(node, { name: n, model: 'bert-large', workers, gpus, seconds: run });
  await kubectl(['apply', '-f', '-'], job(name, 4, 2));
  await kubectl(['get', 'tj', name, '-n', 'team-a', '-o', 'jsonpath={.spec.image}{"\\n"}{.spec.resources}{"\\n"}{.spec.checkpoint}{"\\n"}']);

  say('== 4. an invalid job is rejected with every problem named');
  await kubectl(['apply', '-f', '-'], job('too-wide', 40, 12));

  say('== 5. a job over the namespace GPU quota is rejected with the numbers');
  await kubectl(['apply', '-f', '-'], job(`${name}-2`, 4, 2));
  await kubectl(['apply', '-f', '-'], job(`${name}-3`, 4, 2));

  say(`== 6. the controller turned the admitted job into workloads: an Indexed Job, 4 pods on ${node === 'real' ? 'the real node' : 'GPU nodes'}`);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const state = async () => ((await custom.getNamespacedCustomObject({ group: 'ml.example.com', version: 'v1', namespace: 'team-a', plural: 'trainingjobs', name })) as { status?: { state?: string } }).status?.state;
  await poll('the job to run', async () => ((await state()) === 'Running' ? true : undefined), 180_000);
  await kubectl(['get', 'tj,jobs,pods', '-n', 'team-a', '-o', 'wide']);
  if (node === 'real') {
    say('   each worker resolved its peers through CoreDNS and printed the environment the controller gave it:');
    const pod = await poll('a worker\'s first log line', async () => {
      const pods = await core.listNamespacedPod({ namespace: 'team-a', labelSelector: `ml.example.com/trainingjob=${name}` });
      const running = pods.items.find((p) => p.metadata?.labels?.['batch.kubernetes.io/job-completion-index'] === '0' && p.status?.phase === 'Running');
      return running?.metadata?.name;
    }, 60_000);
    // The line comes once every peer's name resolves: the headless Service's records follow the pods by a moment.
    await poll('the worker\'s log line', async () => ((await kubectl.quiet(['logs', '-n', 'team-a', pod])).stdout.trim() ? true : undefined), 60_000);
    await kubectl(['logs', '-n', 'team-a', pod]);
  }
  say(node === 'real' ? `   …the workers hold for ${run} s, then exit 0` : `   …the simulated workers finish after ${run} s`);
  await poll('the job to complete', async () => ((await state()) === 'Completed' ? true : undefined), 180_000);
  await kubectl(['get', 'tj', name, '-n', 'team-a']);
  await kubectl(['get', 'events', '-n', 'team-a', '--field-selector', `involvedObject.name=${name}`, '--sort-by=.lastTimestamp']);

  await gitDemo(cluster, node, kubectl, custom);

  say('== the cluster keeps running; to use it:');
  say(`   export KUBECONFIG=${cluster.kubeconfig}`);
  say(`   export PATH=${cluster.binDir}:$PATH`);
  say('   kubectl get trainingjobs -A');
  if (node === 'real') {
    say('   kubectl logs -n team-a -l ml.example.com/trainingjob=llm-pretrain --prefix');
    say('   kubectl port-forward -n trainingjob-system svc/controller-manager-metrics-service 8080:8080 & curl -s 127.0.0.1:8080/metrics | grep ^trainingjob_');
  } else {
    say(`   curl -s ${cluster.controllerMetrics ?? 'http://127.0.0.1:8080'}/metrics | grep ^trainingjob_`);
  }
  say('   npx trainingjob cluster down    # stop it and remove its data');
  return 0;
}
