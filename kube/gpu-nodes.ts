// Nodes and pods as GPU capacity: what admission (largest node) and the queue (free GPUs per node) read, trimmed
// before caching, since a Node is kilobytes of images and conditions and a pod its whole spec.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { GPU_RESOURCE } from '../api/group.ts';
import { quantityToInteger } from '../api/quantity.ts';
import type { KubeObject } from './kube-object.ts';

/** A node's name and allocatable GPUs (policies/node-fit.ts's NodeGpuInfo). */
export function nodeGpuInfo(node: V1Node): { name: string; gpus: number } {
  return { name: node.metadata?.name ?? '', gpus: quantityToInteger(node.status?.allocatable?.[GPU_RESOURCE] ?? '0') ?? 0 };
}

/** Keeps a Node's identity and allocatable GPUs. */
export function trimNode(obj: KubeObject): KubeObject {
  const gpus = (obj as V1Node).status?.allocatable?.[GPU_RESOURCE];
  const { name, resourceVersion, uid } = obj.metadata ?? {};
  return { metadata: { name, resourceVersion, uid }, ...(gpus === undefined ? {} : { status: { allocatable: { [GPU_RESOURCE]: gpus } } }) } as KubeObject;
}

/** GPUs a pod holds on its node: the larger of its containers' sum and its largest init container (as the scheduler counts). */
export function podGpus(pod: V1Pod): number {
  const of = (c: { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }) => quantityToInteger(c.resources?.requests?.[GPU_RESOURCE] ?? c.resources?.limits?.[GPU_RESOURCE] ?? '0') ?? 0;
  const sum = (pod.spec?.containers ?? []).reduce((s, c) => s + of(c), 0);
  return Math.max(sum, ...(pod.spec?.initContainers ?? []).map(of));
}

/** Keeps a pod's identity, node, phase, GPUs (as a request on one container) and TrainingJob label. */
export function gpuPodTrim(trainingJobLabel: string): (obj: KubeObject) => KubeObject {
  return (obj) => {
    const pod = obj as V1Pod;
    const { name, namespace, resourceVersion, uid } = pod.metadata ?? {};
    const owner = pod.metadata?.labels?.[trainingJobLabel];
    const identity = Object.fromEntries(Object.entries({ name, namespace, resourceVersion, uid }).filter(([, v]) => v !== undefined));
    return {
      metadata: { ...identity, ...(owner ? { labels: { [trainingJobLabel]: owner } } : {}) },
      spec: { nodeName: pod.spec?.nodeName, containers: [{ name: 'gpus', resources: { requests: { [GPU_RESOURCE]: String(podGpus(pod)) } } }] },
      status: { phase: pod.status?.phase },
    } as KubeObject;
  };
}
