// The offline admission chain behind `trainingjob validate`: quota in file order, outside usage, namespace
// labels, v1alpha1 fields located in their own spelling.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../../localcluster/binaries.ts';
import type { TrainingPolicy } from '../../api/trainingpolicy.ts';
import { offlineAdmission } from '../../cli/offline-admission.ts';
import type { OfflineAdmissionOptions } from '../../cli/offline-admission.ts';

const dir = join(repoRoot, 'policies', 'examples');
const policies: TrainingPolicy[] = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()
  .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJSON() as TrainingPolicy));

const teams: Record<string, Record<string, string>> = {
  'team-a': { 'ml.example.com/team': 'team-a' },
  'team-b': { 'ml.example.com/team': 'team-b' },
};

function admission(opts: Partial<OfflineAdmissionOptions> = {}) {
  return offlineAdmission({ policies, defaultNamespace: 'default', namespaceLabels: (ns) => teams[ns] ?? {}, gpusInUse: () => 0, ...opts });
}

const job = (name: string, namespace: string | undefined, spec: Record<string, unknown>, labels = { team: 'a' }) => ({
  apiVersion: 'ml.example.com/v1', kind: 'TrainingJob',
  metadata: { name, labels, ...(namespace ? { namespace } : {}) },
  spec,
});

t.test('admitted jobs count toward the quota of the jobs after them, rejected ones do not', async (t) => {
  const a = admission();
  t.ok(a.admit(job('one', 'team-a', { model: 'resnet50', numWorkers: 4, gpusPerWorker: 2 })).allowed);
  t.ok(a.admit(job('two', 'team-a', { model: 'resnet50', numWorkers: 2, gpusPerWorker: 2 })).allowed);
  const refused = a.admit(job('three', 'team-a', { model: 'resnet50', numWorkers: 4, gpusPerWorker: 2 }));
  t.strictSame(refused.denials.map((d) => [d.message, d.at]), [
    ['namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)', ['metadata', 'namespace']],
  ]);
  t.ok(a.admit(job('four', 'team-a', { model: 'resnet50', numWorkers: 2, gpusPerWorker: 2 })).allowed, 'the refused job left room');
  t.ok(a.admit(job('elsewhere', 'team-b', { model: 'resnet50', numWorkers: 4, gpusPerWorker: 2 })).allowed, 'namespaces have their own usage');
});

t.test('GPUs in use outside the input are counted', async (t) => {
  const a = admission({ gpusInUse: (ns) => (ns === 'team-a' ? 12 : 0) });
  const r = a.admit(job('big', 'team-a', { model: 'resnet50', numWorkers: 4, gpusPerWorker: 2 }));
  t.strictSame(r.denials.map((d) => d.message), ['namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)']);
});

t.test('a queued job holds no GPUs and comes back as a located warning', async (t) => {
  const a = admission({ gpusInUse: (ns) => (ns === 'team-b' ? 4 : 0) });
  const first = a.admit(job('llama', 'team-b', { model: 'llama', numWorkers: 1, gpusPerWorker: 8 }));
  t.ok(first.allowed);
  t.equal(first.queued, 'namespace team-b GPU quota 8: 4 in use, this job asks 8 (1 worker × 8 GPUs)');
  t.strictSame(first.warnings, [{ message: 'queued until capacity frees up: namespace team-b GPU quota 8: 4 in use, this job asks 8 (1 worker × 8 GPUs)', at: [] }]);
  // The queued job left the quota free, so a small job fits; it still waits its turn behind the queued one.
  const small = a.admit(job('small', 'team-b', { model: 'bert', numWorkers: 2, gpusPerWorker: 2 }));
  t.ok(small.allowed);
  t.equal(small.queued, 'namespace team-b queue: 1 job ahead of this one, first in line llama (priority 0, 8 GPUs)', 'queued behind llama, not for quota');
  const never = a.admit(job('huge', 'team-b', { model: 'llama', numWorkers: 2, gpusPerWorker: 8 }));
  t.equal(never.allowed, false, 'a job larger than the quota is refused, not queued');
});

t.test('namespace labels select policies; jobs without a namespace get the default one', async (t) => {
  const r = admission({ defaultNamespace: 'team-a' }).admit(job('unlabelled', undefined, { model: 'resnet50' }, {} as { team: string }));
  t.equal(r.namespace, 'team-a');
  t.strictSame(r.denials.map((d) => [d.message, d.at]), [['metadata.labels.team: required label is missing (TrainingPolicy team-a)', ['metadata', 'labels', 'team']]]);
});

t.test('v1alpha1: judged converted to v1, fields located in v1alpha1 spelling, its own schema last', async (t) => {
  const alpha = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'ml.example.com/v1alpha1', kind: 'TrainingJob', metadata: { name, namespace: 'ml-jobs' }, spec });
  const base = { framework: 'pytorch', image: 'pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime', command: ['python', 'train.py'] };
  const verdict = (spec: Record<string, unknown>) => admission().admit(alpha('j', spec));
  const located = (spec: Record<string, unknown>) => verdict(spec).denials.map((d) => [d.message, d.at]);

  t.strictSame(located({ ...base, workers: 40, checkpointInterval: 0 }), [
    ['spec.numWorkers: 40 exceeds the maximum 32', ['spec', 'workers']],
    ['spec.checkpoint.frequency: 0 is less than the minimum 1', ['spec', 'checkpointInterval']],
  ], 'the webhook sees v1 and speaks v1');
  t.strictSame(located({ ...base, gpuPerWorker: 1, queue: 'fast' }), [['spec.queue: unknown field', ['spec', 'queue']]], 'unknown fields fail before conversion');
  t.strictSame(located({ image: base.image, workers: 1 }), [
    ['spec.framework: Required value', ['spec', 'framework']],
    ['spec.command: Required value', ['spec', 'command']],
  ], 'what only v1alpha1 requires comes from its own schema, once the webhook admitted the job');
  t.ok(verdict({ ...base, workers: 2 }).allowed);

  const moving = verdict({ ...base, image: 'pytorch/pytorch:latest', gpuPerWorker: 1 });
  t.strictSame(moving.warnings, [{ message: 'spec.image: "pytorch/pytorch:latest" has no fixed tag; a restart may run different code', at: ['spec', 'image'] }]);
});
