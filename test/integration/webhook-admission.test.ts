// The webhook registered with a real kube-apiserver (URL + caBundle): kubectl shows our messages,
// defaults land on stored objects, immutable fields hold, seed examples apply in both versions.
import t from 'tap';
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { controlPlaneFor } from '../harness/tap.ts';
import { installPlatform } from '../../localcluster/platform.ts';
import { pytorchMnistYaml, resnetSimpleYaml, testJobYaml } from '../fixtures/api-seed-examples.ts';

const cp = await controlPlaneFor(t);
const platform = await installPlatform({ kubeConfig: cp.kubeConfig(), examplePolicies: true });
t.teardown(() => platform.stop());
const core = cp.kubeConfig().makeApiClient(CoreV1Api);
for (const [name, labels] of [['ml-training', {}], ['ml-jobs', {}], ['team-a', { 'ml.example.com/team': 'team-a' }]] as const) {
  await core.createNamespace({ body: { metadata: { name, labels } } });
}

const apply = (yaml: string) => cp.kubectl(['apply', '-f', '-'], { input: yaml });
const getJson = async (args: string[]) => {
  const r = await cp.kubectl(['get', ...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { spec: Record<string, unknown>; metadata: Record<string, unknown> };
};

t.test('seed 001 test-job applies and is stored with CRD and policy defaults', async (t) => {
  const r = await apply(testJobYaml);
  t.equal(r.code, 0, 'exit code 0', { output: r.stderr });
  t.match(r.stdout, 'trainingjob.ml.example.com/test-job created');
  const job = await getJson(['tj', 'test-job', '-n', 'default']);
  t.equal(job.spec.backoffLimit, 3, 'CRD default');
  t.match(job.spec.checkpoint, { enabled: true, frequency: 1, storage: { type: 'pvc', size: '10Gi' } }, 'CRD + platform-defaults checkpoint');
  t.equal(job.spec.image, 'pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime', 'image filled from the policy for the framework');
  t.match(job.spec.resources, { requests: { cpu: '2', memory: '8Gi' } }, 'policy resources');
});

t.test('seed 000 resnet-simple applies in ml-training', async (t) => {
  const r = await apply(resnetSimpleYaml);
  t.equal(r.code, 0, 'exit code 0', { output: r.stderr });
  const job = await getJson(['tj', 'resnet-simple', '-n', 'ml-training']);
  t.equal(job.spec.numWorkers, 1);
});

t.test('seed 002 pytorch-mnist applies as v1alpha1, is stored as v1 and reads back unchanged', async (t) => {
  const r = await apply(pytorchMnistYaml);
  t.equal(r.code, 0, 'exit code 0', { output: r.stderr });
  const v1 = await getJson(['trainingjobs.v1.ml.example.com', 'pytorch-mnist', '-n', 'ml-jobs']);
  t.equal(v1.spec.numWorkers, 2, 'workers → numWorkers');
  t.equal(v1.spec.gpusPerWorker, 0, 'gpuPerWorker → gpusPerWorker');
  const alpha = await getJson(['trainingjobs.v1alpha1.ml.example.com', 'pytorch-mnist', '-n', 'ml-jobs']);
  t.match(alpha.spec, {
    framework: 'pytorch',
    image: 'pytorch/pytorch:1.12.0-cuda11.3',
    workers: 2,
    gpuPerWorker: 0,
    args: ['--epochs=10', '--batch-size=64'],
    hyperparameters: { learningRate: '0.001', optimizer: 'adam' },
    resources: { requests: { cpu: '2', memory: '4Gi' }, limits: { cpu: '2', memory: '4Gi' } },
  }, 'v1alpha1 fields as written');
});

const badJob = `apiVersion: ml.example.com/v1
kind: TrainingJob
metadata: { name: too-big, namespace: default }
spec:
  model: resnet50
  numWorkers: 40
  gpusPerWorker: 12
`;

t.test('kubectl apply of an invalid job prints every violation in our words', async (t) => {
  const r = await apply(badJob);
  t.not(r.code, 0);
  t.match(r.stderr, /admission webhook "trainingjob\.ml\.example\.com" denied the request: 3 problems: /);
  t.match(r.stderr, 'spec.numWorkers: 40 exceeds the maximum 32');
  t.match(r.stderr, 'spec.gpusPerWorker: 12 exceeds the maximum 8');
  t.match(r.stderr, 'spec: 480 GPUs (40 workers × 12 GPUs) exceeds the maximum 64 GPUs per job (TrainingPolicy platform-defaults)');
});

t.test('a job with neither image nor model is refused', async (t) => {
  const r = await apply('apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata: { name: nothing, namespace: default }\nspec: { numWorkers: 1 }\n');
  t.not(r.code, 0);
  t.match(r.stderr, /denied the request: .*spec: .*image.*model/);
});

t.test('immutable fields cannot change; suspend can', async (t) => {
  const changed = await apply(testJobYaml.replace('numWorkers: 2', 'numWorkers: 4').replace('model: resnet50', 'model: resnet101'));
  t.not(changed.code, 0);
  t.match(changed.stderr, /spec\.numWorkers: .*immutable/);
  t.match(changed.stderr, /spec\.model: .*immutable/);
  const suspended = await cp.kubectl(['patch', 'tj', 'test-job', '-n', 'default', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
  t.equal(suspended.code, 0, 'exit code 0', { output: suspended.stderr });
});

t.test('team-a quota: the rejection names quota, usage and demand', async (t) => {
  const job = (name: string, workers: number, gpus: number) => `apiVersion: ml.example.com/v1
kind: TrainingJob
metadata: { name: ${name}, namespace: team-a, labels: { team: team-a } }
spec: { model: bert, numWorkers: ${workers}, gpusPerWorker: ${gpus} }
`;
  t.equal((await apply(job('first', 4, 2))).code, 0);
  t.equal((await apply(job('second', 2, 2))).code, 0);
  const r = await apply(job('third', 4, 2));
  t.not(r.code, 0);
  t.match(r.stderr, 'namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)');
  const dry = await cp.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: job('fits', 2, 2) });
  t.equal(dry.code, 0, 'a server dry run that fits is allowed', { output: dry.stderr });
  const after = await cp.kubectl(['apply', '-f', '-'], { input: job('fits', 2, 2) });
  t.equal(after.code, 0, 'the dry run reserved nothing', { output: after.stderr });
  const missingLabel = await apply(job('unlabelled', 1, 1).replace(', labels: { team: team-a }', ''));
  t.not(missingLabel.code, 0);
  t.match(missingLabel.stderr, /team/);
});

t.test('system namespaces are outside the webhook', async (t) => {
  const r = await cp.kubectl(['create', 'configmap', 'probe', '-n', 'kube-system', '--from-literal=a=b']);
  t.equal(r.code, 0, 'exit code 0', { output: r.stderr });
});

t.test('an invalid TrainingPolicy is refused by its own webhook', async (t) => {
  const r = await apply('apiVersion: ml.example.com/v1\nkind: TrainingPolicy\nmetadata: { name: broken }\nspec: { gpuQuota: -1 }\n');
  t.not(r.code, 0);
  t.match(r.stderr, /gpuQuota/);
});

t.test('a worker larger than every node is refused, naming the largest node', async (t) => {
  const noNodes = await apply('apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata: { name: no-nodes-yet, namespace: ml-jobs }\nspec: { model: bert, gpusPerWorker: 6, numWorkers: 1 }\n');
  t.equal(noNodes.code, 0, 'no node has GPUs (a pool scaling from zero): not refused', { output: noNodes.stderr });
  for (const [name, gpus] of [['gpu-small', '2'], ['gpu-medium', '4']] as const) {
    await core.createNode({ body: { metadata: { name } } });
    await core.patchNodeStatus({ name, body: { status: { capacity: { 'nvidia.com/gpu': gpus }, allocatable: { 'nvidia.com/gpu': gpus } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  }
  const job = (name: string, gpus: number) => `apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata: { name: ${name}, namespace: ml-jobs }\nspec: { model: bert, gpusPerWorker: ${gpus}, numWorkers: 2 }\n`;
  let r = await apply(job('too-wide', 6));
  for (let i = 0; i < 50 && r.code === 0; i++) {
    // The webhook reads nodes from its watch: wait for it to see them (deleting what slipped through).
    await cp.kubectl(['delete', 'tj', 'too-wide', '-n', 'ml-jobs', '--wait=false']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    r = await apply(job('too-wide', 6));
  }
  t.not(r.code, 0);
  t.match(r.stderr, 'spec.gpusPerWorker: 6 GPUs per worker, but the largest node, gpu-medium, has 4 allocatable nvidia.com/gpu: no worker could ever be scheduled');
  const fits = await apply(job('fits-a-node', 4));
  t.equal(fits.code, 0, 'a worker the largest node holds is admitted', { output: fits.stderr });
});
