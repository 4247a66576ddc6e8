// With controller-manager, scheduler and kwok GPU nodes, a Job's Pods really schedule, run and finish.
import t from 'tap';
import { BatchV1Api, CoreV1Api, type V1Job } from '@kubernetes/client-node';
import { controlPlaneFor, eventually } from '../harness/tap.ts';

const cp = await controlPlaneFor(t, { workloads: { nodes: 2, gpusPerNode: 8 } });
const batch = cp.kubeConfig().makeApiClient(BatchV1Api);
const core = cp.kubeConfig().makeApiClient(CoreV1Api);
const namespace = 'default';

function gpuJob(name: string, gpus: number): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'train', image: 'busybox', command: ['true'], resources: { limits: { 'nvidia.com/gpu': String(gpus) } } }],
        },
      },
    },
  };
}

t.test('the fake nodes advertise 8 GPUs each and are Ready', async (t) => {
  const nodes = await core.listNode({ labelSelector: 'type=kwok' });
  t.equal(nodes.items.length, 2);
  for (const n of nodes.items) {
    t.equal(n.status?.allocatable?.['nvidia.com/gpu'], '8', `${n.metadata?.name} allocatable GPUs`);
    t.ok(n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), `${n.metadata?.name} Ready`);
  }
});

t.test('a Job asking for 1 GPU gets its Pod scheduled on a GPU node and succeeds', async (t) => {
  // The default ServiceAccount is made by kube-controller-manager; Pods need it.
  await eventually(async () => ((await core.readNamespacedServiceAccount({ name: 'default', namespace })) ? true : undefined));
  await batch.createNamespacedJob({ namespace, body: gpuJob('one-gpu', 1) });
  const job = await eventually(async () => {
    const j = await batch.readNamespacedJob({ name: 'one-gpu', namespace });
    return j.status?.succeeded === 1 ? j : undefined;
  }, 120_000);
  t.equal(job?.status?.succeeded, 1, 'Job succeeded');
  t.ok(job?.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True'), 'Complete condition');
  const pods = await core.listNamespacedPod({ namespace, labelSelector: 'job-name=one-gpu' });
  t.equal(pods.items.length, 1);
  t.match(pods.items[0]?.spec?.nodeName ?? '', /^gpu-node-\d$/, 'scheduled on a fake GPU node');
  t.equal(pods.items[0]?.status?.phase, 'Succeeded');
});

t.test('a Job asking for more GPUs than any node has stays unscheduled', async (t) => {
  await batch.createNamespacedJob({ namespace, body: gpuJob('too-big', 9) });
  const pod = await eventually(async () => {
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'job-name=too-big' });
    const p = pods.items[0];
    const cond = p?.status?.conditions?.find((c) => c.type === 'PodScheduled');
    return cond?.status === 'False' && cond.reason === 'Unschedulable' ? p : undefined;
  }, 60_000);
  const cond = pod?.status?.conditions?.find((c) => c.type === 'PodScheduled');
  t.equal(cond?.reason, 'Unschedulable');
  t.match(cond?.message ?? '', /Insufficient nvidia\.com\/gpu/);
  t.notOk(pod?.spec?.nodeName, 'not bound to a node');
  t.equal(pod?.status?.phase, 'Pending');
});
