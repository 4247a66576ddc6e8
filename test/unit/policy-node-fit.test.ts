// A worker larger than every node is refused at admission, naming the largest node; no GPU node at all says nothing.
import t from 'tap';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import { evaluate } from '../../policies/index.ts';
import { workerFitViolations } from '../../policies/node-fit.ts';

const job = (gpusPerWorker: number): TrainingJob => ({ apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: 'j', namespace: 'ml' }, spec: { image: 'img', numWorkers: 2, gpusPerWorker } });
const nodes = [{ name: 'cpu-1', gpus: 0 }, { name: 'a100-1', gpus: 4 }, { name: 'a100-2', gpus: 4 }, { name: 't4-1', gpus: 1 }];

t.test('more GPUs per worker than the largest node', async (t) => {
  t.strictSame(workerFitViolations(job(8), nodes).map((v) => [v.reason, v.message]), [['WorkerLargerThanNodes', 'spec.gpusPerWorker: 8 GPUs per worker, but the largest node, a100-1, has 4 allocatable nvidia.com/gpu: no worker could ever be scheduled']]);
  t.strictSame(workerFitViolations(job(4), nodes), [], 'exactly the largest node fits');
  t.strictSame(workerFitViolations(job(0), nodes), [], 'CPU-only workers');
  t.strictSame(workerFitViolations(job(8), [{ name: 'cpu-1', gpus: 0 }]), [], 'no GPU node at all: a pool may scale from zero');
  t.strictSame(workerFitViolations(job(8), []), [], 'no nodes');
});

t.test('checked on create only, and only when nodes are known', async (t) => {
  const base = { namespace: { name: 'ml', labels: {} }, policies: [], namespaceJobs: [] };
  t.notOk(evaluate({ ...base, operation: 'CREATE', object: job(8), nodes }).allowed);
  t.ok(evaluate({ ...base, operation: 'CREATE', object: job(8) }).allowed, 'offline: not checked');
  t.ok(evaluate({ ...base, operation: 'UPDATE', object: job(8), oldObject: job(8), nodes }).allowed, 'an existing job is not refused when nodes shrink');
});
