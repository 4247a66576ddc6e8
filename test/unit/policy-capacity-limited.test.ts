// Admission reserves GPUs in the ledger only where some limit could refuse a job.
import t from 'tap';
import { capacityLimited } from '../../policies/index.ts';
import type { TrainingPolicy } from '../../api/index.ts';

const policy = (name: string, spec: Partial<TrainingPolicy['spec']>, team?: string): TrainingPolicy =>
  ({ apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name }, spec: { ...(team ? { namespaceSelector: { matchLabels: { 'ml.example.com/team': team } } } : {}), ...spec } }) as TrainingPolicy;
const ns = (labels: Record<string, string> = {}) => ({ name: 'ns', labels });

t.equal(capacityLimited({ namespace: ns(), policies: [policy('defaults', { maxGPUsPerJob: 64 })] }), false, 'per-job limits only: nothing to reserve');
t.equal(capacityLimited({ namespace: ns({ 'ml.example.com/team': 'b' }), policies: [policy('a', { gpuQuota: 16 }, 'a')] }), false, "another team's quota does not apply");
t.equal(capacityLimited({ namespace: ns({ 'ml.example.com/team': 'a' }), policies: [policy('a', { gpuQuota: 16 }, 'a')] }), true, 'a matching GPU quota');
t.equal(capacityLimited({ namespace: ns(), policies: [policy('cap', { maxConcurrentJobs: 3 })] }), true, 'a job cap');
t.equal(capacityLimited({ namespace: ns(), policies: [], resourceQuotas: [{ name: 'rq', hard: { 'requests.nvidia.com/gpu': '8' } }] }), true, 'a GPU ResourceQuota');
t.equal(capacityLimited({ namespace: ns(), policies: [], resourceQuotas: [{ name: 'rq', hard: { 'requests.cpu': '8' } }] }), false, 'a ResourceQuota without GPUs');
