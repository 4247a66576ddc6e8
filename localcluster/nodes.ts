// Fake GPU nodes that kwok manages: they advertise nvidia.com/gpu so the scheduler places GPU pods.
import type { V1Node } from '@kubernetes/client-node';

export interface FakeNodeSpec {
  name: string;
  gpus: number;
  cpu?: string;
  memory?: string;
}

export function fakeGpuNode(spec: FakeNodeSpec): V1Node {
  const capacity = { cpu: spec.cpu ?? '64', memory: spec.memory ?? '512Gi', pods: '110', 'nvidia.com/gpu': String(spec.gpus) };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        type: 'kwok',
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node-role.kubernetes.io/agent': '',
        'nvidia.com/gpu.present': 'true',
      },
    },
    status: { capacity, allocatable: capacity },
  };
}
