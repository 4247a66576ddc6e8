// All or nothing before the start: every worker must fit the nodes' free GPUs, less what jobs just started will take.
import t from 'tap';
import { QUEUED_ANNOTATION } from '../../api/annotations.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import { freeGpus, nodeRoomShortfall, promisedGpus, PROMISE_WINDOW_MS } from '../../controller/queue/node-room.ts';
import { gpuPodTrim, podGpus } from '../../kube/gpu-nodes.ts';

const now = Date.parse('2026-12-07T12:00:00Z');
const job = (name: string, workers: number, gpus: number, status?: TrainingJob['status'], queued = false): TrainingJob => ({
  metadata: { name, namespace: 'ns', ...(queued ? { annotations: { [QUEUED_ANNOTATION]: 'over quota' } } : {}) },
  spec: { image: 'img', numWorkers: workers, gpusPerWorker: gpus, ...(queued ? { suspend: true } : {}) },
  ...(status ? { status } : {}),
});
const nodes = [{ name: 'gpu-a', gpus: 8 }, { name: 'gpu-b', gpus: 8 }, { name: 'cpu', gpus: 0 }];

t.test('free GPUs per GPU node, from the pods bound to it', async (t) => {
  const free = freeGpus(nodes, [{ nodeName: 'gpu-a', gpus: 6 }, { nodeName: 'gpu-b', gpus: 2 }, { gpus: 4 }]);
  t.strictSame(free, [{ name: 'gpu-b', gpus: 6 }, { name: 'gpu-a', gpus: 2 }], 'most free first; CPU nodes and unbound pods left out');
});

t.test('workers fit whole: free GPUs split across nodes do not make a worker', async (t) => {
  const free = [{ name: 'gpu-a', gpus: 3 }, { name: 'gpu-b', gpus: 3 }];
  const empty = [{ name: 'gpu-a', gpus: 8 }, { name: 'gpu-b', gpus: 8 }];
  t.equal(nodeRoomShortfall(job('j', 2, 3), free, 0), undefined, 'one 3-GPU worker per node');
  t.equal(nodeRoomShortfall(job('j', 1, 4), free, 0, empty), 'the nodes have room for 0 of its 1 workers (4 GPUs each) now: free GPUs gpu-a 3, gpu-b 3', '6 free GPUs, but no node has 4');
  t.equal(nodeRoomShortfall(job('j', 4, 2), [{ name: 'gpu-a', gpus: 8 }], 4, empty), 'the nodes have room for 2 of its 4 workers (2 GPUs each) now: free GPUs gpu-a 8, 4 of them about to be taken by jobs just started');
  t.equal(nodeRoomShortfall(job('j', 4, 2), [], 0), undefined, 'no GPU node at all: a pool may scale up from zero, the scheduler decides');
  t.equal(nodeRoomShortfall(job('cpu', 2, 0), free, 0), undefined, 'a CPU-only job needs no GPU room');
  t.equal(nodeRoomShortfall(job('j', 3, 8), [{ name: 'gpu-a', gpus: 0 }, { name: 'gpu-b', gpus: 8 }], 0, [{ name: 'gpu-a', gpus: 8 }, { name: 'gpu-b', gpus: 8 }]), undefined, 'not even the empty nodes could hold it: waiting cannot help, the scheduler and the startup timeout say why');
});

t.test('promised GPUs: jobs just started whose workers have not landed yet', async (t) => {
  const released = (msAgo: number) => ({ state: 'Initializing' as const, startTime: new Date(now - msAgo).toISOString() });
  const jobs = [
    { ...job('fresh', 4, 2), metadata: { name: 'fresh', namespace: 'ns', creationTimestamp: new Date(now - 1000).toISOString() } }, // just created, no status yet
    { ...job('old-pending', 4, 2, { state: 'Pending' }), metadata: { name: 'old-pending', namespace: 'ns', creationTimestamp: new Date(now - PROMISE_WINDOW_MS - 1).toISOString() } }, // waiting for longer: holds nothing
    { ...job('stalled', 4, 2, { state: 'Pending', conditions: [{ type: 'Stalled', status: 'True', reason: 'InvalidSpec', message: '', lastTransitionTime: new Date(now).toISOString() }] }), metadata: { name: 'stalled', namespace: 'ns', creationTimestamp: new Date(now).toISOString() } },
    job('landing', 4, 2, released(5_000)), // 2 of 4 workers bound
    job('stuck', 4, 2, released(PROMISE_WINDOW_MS + 1)), // unschedulable for a minute: its pods hold nothing
    job('waiting', 4, 2, undefined, true), // queued: promised nothing
    job('done', 4, 2, { state: 'Completed' }),
  ];
  const placed = [{ nodeName: 'gpu-a', gpus: 2, trainingJob: 'ns/landing' }, { nodeName: 'gpu-a', gpus: 2, trainingJob: 'ns/landing' }, { gpus: 2, trainingJob: 'ns/fresh' }];
  t.equal(promisedGpus(jobs, placed, now), 8 + 4);
  const hourAgo = new Date(now - 3_600_000).toISOString();
  const rereleased = job('rereleased', 2, 2, { state: 'Queued', startTime: hourAgo, conditions: [{ type: 'Queued', status: 'False', reason: 'Started', message: '', lastTransitionTime: hourAgo }] });
  t.equal(promisedGpus([rereleased], [], now, undefined, () => now - 2_000), 4, 'released again after a preemption, its status still says Queued with the first start\'s times: the release this replica made counts');
  t.equal(promisedGpus([rereleased], [], now, undefined, () => now - PROMISE_WINDOW_MS - 1), 0, 'but not for ever: a job whose status never caught up promises nothing after the window');
});

t.test('a pod trimmed for the cache keeps its node, phase, GPUs and TrainingJob', async (t) => {
  const pod = { metadata: { name: 'w-0', namespace: 'ns', labels: { 'ml.example.com/trainingjob': 'resnet', other: 'x' } }, spec: { nodeName: 'gpu-a', containers: [{ name: 'a', resources: { limits: { 'nvidia.com/gpu': '2' } } }, { name: 'b', resources: { requests: { 'nvidia.com/gpu': '1' } } }], initContainers: [{ name: 'i', resources: { requests: { 'nvidia.com/gpu': '4' } } }] }, status: { phase: 'Running', podIP: '127.0.0.9' } };
  t.equal(podGpus(pod), 4, 'the largest init container when it asks more than the containers together');
  const trimmed = gpuPodTrim('ml.example.com/trainingjob')(pod as never) as never;
  t.equal(podGpus(trimmed), 4);
  t.strictSame((trimmed as { metadata: unknown }).metadata, { name: 'w-0', namespace: 'ns', labels: { 'ml.example.com/trainingjob': 'resnet' } });
  t.equal((trimmed as { spec: { nodeName: string } }).spec.nodeName, 'gpu-a');
});
