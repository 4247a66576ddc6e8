// Getters apply the same defaults as the CRD; quantities compare exactly.
import t from 'tap';
import {
  backoffLimit, checkpointEnabled, checkpointFrequency, checkpointStorageType, framework, gpuDemand, gpusPerWorker,
  isQueued, isTerminal, masterPort, networkBackend, numWorkers, restartPolicy,
} from '../../api/trainingjob-v1.ts';
import type { TrainingJob } from '../../api/trainingjob-v1.ts';
import { overQuotaAction } from '../../api/trainingpolicy.ts';
import { manifestPath, pruneEnabled, syncInterval, isRepositorySuspended } from '../../api/jobrepository.ts';
import { compareQuantities, parseQuantity, quantityToInteger } from '../../api/quantity.ts';
import { QUEUED_ANNOTATION } from '../../api/annotations.ts';
import { withSchemaDefaults } from '../../policies/schema-validation.ts';

const bare: TrainingJob = { spec: { model: 'resnet50' } };

t.test('TrainingJob getters fall back to the CRD defaults', async (t) => {
  t.equal(numWorkers(bare), 1);
  t.equal(gpusPerWorker(bare), 1);
  t.equal(gpuDemand(bare), 1);
  t.equal(backoffLimit(bare), 3);
  t.equal(framework(bare), 'pytorch');
  t.equal(checkpointEnabled(bare), true);
  t.equal(checkpointFrequency(bare), 1);
  t.equal(checkpointStorageType(bare), 'pvc');
  t.equal(masterPort(bare), 29500);
  t.equal(restartPolicy(bare), 'Never');
  t.equal(networkBackend(bare), 'nccl');
  t.equal(networkBackend({ spec: { gpusPerWorker: 0 } }), 'gloo', 'CPU-only jobs use gloo');
});

t.test('getters and the CRD schema agree on every default', async (t) => {
  const defaulted: TrainingJob = withSchemaDefaults<TrainingJob>('TrainingJob/v1', { spec: { model: 'm', checkpoint: {}, networking: {} } });
  t.equal(numWorkers(defaulted), defaulted.spec.numWorkers);
  t.equal(gpusPerWorker(defaulted), defaulted.spec.gpusPerWorker);
  t.equal(backoffLimit(bare), defaulted.spec.backoffLimit);
  t.equal(framework(bare), defaulted.spec.framework);
  t.equal(checkpointEnabled(bare), defaulted.spec.checkpoint?.enabled);
  t.equal(checkpointFrequency(bare), defaulted.spec.checkpoint?.frequency);
  t.equal(checkpointStorageType(bare), defaulted.spec.checkpoint?.storage?.type);
  t.equal(masterPort(bare), defaulted.spec.networking?.masterPort);
});

t.test('gpuDemand is workers × GPUs per worker', async (t) => {
  t.equal(gpuDemand({ spec: { numWorkers: 4, gpusPerWorker: 2 } }), 8);
  t.equal(gpuDemand({ spec: { numWorkers: 3, gpusPerWorker: 0 } }), 0);
});

t.test('terminal and queued', async (t) => {
  t.ok(isTerminal({ spec: {}, status: { state: 'Completed' } }));
  t.ok(isTerminal({ spec: {}, status: { state: 'Failed' } }));
  t.notOk(isTerminal({ spec: {}, status: { state: 'Suspended' } }));
  t.notOk(isTerminal(bare));
  const queued: TrainingJob = { metadata: { annotations: { [QUEUED_ANNOTATION]: 'over quota' } }, spec: { suspend: true } };
  t.ok(isQueued(queued));
  t.notOk(isQueued({ ...queued, spec: { suspend: false } }), 'the annotation alone does not queue a running job');
});

t.test('TrainingPolicy and JobRepository getters', async (t) => {
  t.equal(overQuotaAction({ spec: {} }), 'Reject');
  t.equal(overQuotaAction({ spec: { overQuota: 'Queue' } }), 'Queue');
  const repo = { spec: { url: 'https://git.example.com/jobs.git' } };
  t.equal(syncInterval(repo), '5m');
  t.equal(manifestPath(repo), './');
  t.equal(pruneEnabled(repo), true);
  t.equal(isRepositorySuspended(repo), false);
  t.strictSame(withSchemaDefaults('JobRepository/v1', repo).spec, { url: repo.spec.url, path: './', interval: '5m', prune: true });
});

t.test('quantities compare exactly', async (t) => {
  t.equal(compareQuantities('1', '1000m'), 0);
  t.equal(compareQuantities('100m', '0.1'), 0);
  t.equal(compareQuantities('1Gi', '1G'), 1);
  t.equal(compareQuantities('16Gi', '17179869184'), 0);
  t.equal(compareQuantities(2, '1500m'), 1);
  t.equal(compareQuantities('1e3', '1k'), 0);
  t.equal(compareQuantities('lots', '1'), undefined);
  t.strictSame(parseQuantity('-2.5'), { num: -25n, den: 10n });
  t.equal(quantityToInteger('16'), 16);
  t.equal(quantityToInteger('1500m'), 2, 'rounded up');
  t.equal(quantityToInteger('1.5'), 2);
  t.equal(quantityToInteger('x'), undefined);
});
