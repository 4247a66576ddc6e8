// Our argocd-cm Lua (argocd/lua/, generated into argocd/argocd-cm.yaml) run by the real argocd CLI:
// health of TrainingJobs in every state the controller writes (statuses come from its own state machine)
// and of JobRepositories in every Ready reason the git-sync reconciler writes; the actions each state
// offers, and the object each action returns.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ensureBinaries } from '../../localcluster/binaries.ts';
import { runCommand, type CommandResult } from '../../localcluster/controlplane.ts';
import { ARGOCD_CM_PATH, renderArgocdCm } from '../../scripts/gen-argocd-cm.ts';
import { nextStatus } from '../../controller/trainingjob/state.ts';
import { REQUESTED_AT_ANNOTATION } from '../../api/annotations.ts';
import { DEFAULT_BACKOFF_LIMIT, QUEUED_ANNOTATION, type JobRepository, type TrainingJob } from '../../api/index.ts';
import { COMPLETE, FAILED, LATER, NOW, observed, trainingJob, worker, workerJob, workers } from '../fixtures/controller-jobs.ts';

const { argocd } = await ensureBinaries({ only: ['argocd'], progress: (l) => t.comment(l) });
const dir = mkdtempSync(join(tmpdir(), 'argocd-lua-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
// No Argo CD server or cluster: the CLI reads argocd-cm from the file; an empty HOME keeps any user config out.
const env = { PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: join(dir, 'no-kubeconfig') };

let files = 0;
async function cli(obj: object, args: string[], extraEnv: Record<string, string> = {}): Promise<CommandResult> {
  const file = join(dir, `object-${++files}.yaml`);
  writeFileSync(file, stringify(obj));
  return runCommand(argocd!, ['admin', 'settings', 'resource-overrides', args[0]!, file, ...args.slice(1), '--argocd-cm-path', ARGOCD_CM_PATH], { ...env, ...extraEnv });
}

async function health(obj: object): Promise<{ status: string; message: string; out: string }> {
  const r = await cli(obj, ['health']);
  const status = /^STATUS: (.*)$/m.exec(r.stdout)?.[1] ?? '';
  const message = /^MESSAGE: (.*)$/m.exec(r.stdout)?.[1] ?? '';
  return { status, message, out: `exit ${r.code}\n${r.stdout}${r.stderr}` };
}

async function listActions(obj: object): Promise<Record<string, boolean>> {
  const r = await cli(obj, ['list-actions']);
  if (r.code !== 0) throw new Error(`list-actions exited ${r.code}: ${r.stdout}${r.stderr}`);
  const out: Record<string, boolean> = {};
  for (const line of r.stdout.trim().split('\n').slice(1)) {
    const [name, disabled] = line.trim().split(/\s+/);
    if (name) out[name] = disabled === 'true';
  }
  return out;
}

// The CLI prints the changed object through KUBECTL_EXTERNAL_DIFF (live file, then the action's result): print only the result.
const PRINT_RESULT = 'sh -c \'cat "$2"\' result';
async function runAction<T>(obj: T, action: string): Promise<{ result?: T; code: number; out: string }> {
  const r = await cli(obj as object, ['run-action', action], { KUBECTL_EXTERNAL_DIFF: PRINT_RESULT });
  const out = `${r.stdout}${r.stderr}`;
  const marker = 'Following fields have been changed:';
  const at = r.stdout.indexOf(marker);
  return { code: r.code, out, ...(r.code === 0 && at >= 0 ? { result: parse(r.stdout.slice(at + marker.length)) as T } : {}) };
}

const clone = <T>(v: T): T => structuredClone(v);
const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

// TrainingJobs as the controller writes them: each status is nextStatus's output for that situation.
const running4 = observed(workerJob(0, { active: 4, ready: 4, startTime: '2025-10-25T10:29:00Z' }), workers(4, 'Running'));
const withStatus = (job: TrainingJob, o: Parameters<typeof nextStatus>[1], at = NOW): TrainingJob => ({ ...job, status: nextStatus(job, o, at).status });
const fresh = trainingJob();
const pending = withStatus(trainingJob(), observed());
const queued = withStatus(trainingJob({ suspend: true }, undefined, { [QUEUED_ANNOTATION]: 'namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)' }), observed());
const initializing = withStatus(trainingJob({}, { state: 'Pending' }), observed(workerJob(0, { active: 4, ready: 2 }), [worker(0, 'Running'), worker(1, 'Running'), worker(2, 'Pending'), worker(3, 'Pending')]));
const running = withStatus(trainingJob({}, { state: 'Initializing', lastCheckpoint: 's3://ckpt/resnet/epoch-3' }), running4);
const runningWithProgress = withStatus(trainingJob({}, { state: 'Running' }), {
  ...running4,
  progress: { reachable: true, progress: { currentEpoch: 4, totalEpochs: 10, progress: 40, metrics: { loss: 0.25, accuracy: 0.81 } } },
});
const failedWorkers = [worker(0, 'Failed', { exitCode: 143 }), worker(1, 'Failed', { exitCode: 143 }), worker(2, 'Failed', { exitCode: 1, reason: 'Error', terminationMessage: 'CUDA out of memory' }), worker(3, 'Failed', { exitCode: 143 })];
const borrowing: TrainingJob = { ...running, status: { ...running.status, conditions: [...(running.status?.conditions ?? []), { type: 'Borrowing', status: 'True', reason: 'BorrowedFromCohort', message: "4 of its 8 GPUs are borrowed from the namespace's cohort: reclaimable when the lender needs them", lastTransitionTime: NOW.toISOString() }] } };
const restarting = withStatus(trainingJob({}, { state: 'Running' }), observed(workerJob(0, { failed: 4, conditions: FAILED }), failedWorkers));
const failed = withStatus(trainingJob({}, { state: 'Running', restarts: 3 }), observed(workerJob(3, { failed: 4, conditions: FAILED }), failedWorkers));
const suspended = withStatus(trainingJob({ suspend: true }, { state: 'Running' }), observed(workerJob(0, { suspended: true })));
const completed = withStatus(trainingJob({}, { state: 'Running' }), observed(workerJob(0, { succeeded: 4, conditions: COMPLETE }), workers(4, 'Succeeded')), LATER);
// The reconciler's stall(): a spec no retry can fix, said on the object (controller/trainingjob/reconciler.ts).
const stalled: TrainingJob = {
  ...trainingJob(),
  status: {
    state: 'Pending', observedGeneration: 1,
    conditions: [{ type: 'Stalled', status: 'True', reason: 'InvalidSpec', message: 'spec.image: no image and no model default for framework jax', observedGeneration: 1, lastTransitionTime: NOW.toISOString() }],
  },
};
// Suspended in spec (generation 2), not yet seen by the controller.
const suspendRequested: TrainingJob = { ...running, metadata: { ...running.metadata, generation: 2 }, spec: { ...running.spec, suspend: true } };

t.test('argocd/argocd-cm.yaml is what scripts/gen-argocd-cm.ts makes of argocd/lua/', async (t) => {
  t.equal(readFileSync(ARGOCD_CM_PATH, 'utf8'), renderArgocdCm(), 'regenerate with: node scripts/gen-argocd-cm.ts');
});

t.test('the CLI is Argo CD v3.2', async (t) => {
  const r = await runCommand(argocd!, ['version', '--client', '--short'], env);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /argocd: v?3\.2\.11/);
});

t.test('TrainingJob health in every state the controller writes', async (t) => {
  // Sanity: the fixtures really are in the states they are named for.
  const states = { pending, queued, initializing, running, runningWithProgress, restarting, failed, suspended, completed };
  const expectState: Record<string, string> = { pending: 'Pending', queued: 'Queued', initializing: 'Initializing', running: 'Running', runningWithProgress: 'Running', restarting: 'Restarting', failed: 'Failed', suspended: 'Suspended', completed: 'Completed' };
  for (const [name, job] of Object.entries(states)) t.equal(job.status?.state, expectState[name], `fixture ${name}`);

  const cases: Array<[string, TrainingJob, string, string | RegExp]> = [
    ['no status yet', fresh, 'Progressing', 'Waiting for the controller to pick up the job'],
    ['Pending', pending, 'Progressing', 'Pending: waiting for the worker Job to be created'],
    ['Queued', queued, 'Progressing', 'Queued: queued until capacity frees up: namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)'],
    ['Initializing', initializing, 'Progressing', 'Initializing: 2 of 4 workers running, Job resnet-workers'],
    ['Running without metrics', running, 'Progressing', 'Running: 4 workers running'],
    ['Running with progress', runningWithProgress, 'Progressing', 'Running: 40% (epoch 4/10), 4 workers running, loss 0.25'],
    ['Running on borrowed GPUs', borrowing, 'Progressing', "Running: 4 workers running, 4 of its 8 GPUs are borrowed from the namespace's cohort: reclaimable when the lender needs them"],
    ['Restarting', restarting, 'Progressing', 'Restarting: worker 2 (pod resnet-workers-2-abcde) exited 1 (Error): CUDA out of memory; restart 1 of 3, starting over: no checkpoint reported'],
    ['Suspended', suspended, 'Suspended', 'workers stopped by spec.suspend; resuming continues from the last checkpoint'],
    ['suspend requested, not yet observed', suspendRequested, 'Progressing', 'Waiting for the controller to observe generation 2'],
    ['Completed', completed, 'Healthy', 'all 4 workers succeeded'],
    ['Failed', failed, 'Degraded', 'worker 2 (pod resnet-workers-2-abcde) exited 1 (Error): CUDA out of memory; failed after 3 restarts (backoffLimit 3)'],
    ['Stalled', stalled, 'Degraded', 'spec.image: no image and no model default for framework jax'],
  ];
  for (const [name, job, status, message] of cases) {
    const h = await health(job);
    t.equal(h.status, status, `${name}: status`, { out: h.out });
    if (typeof message === 'string') t.equal(h.message, message, `${name}: message`);
    else t.match(h.message, message, `${name}: message`);
  }
});

t.test('a Stalled verdict of an older generation no longer counts', async (t) => {
  const fixed: TrainingJob = { ...stalled, metadata: { ...stalled.metadata, generation: 2 } };
  t.match(await health(fixed), { status: 'Progressing', message: 'Waiting for the controller to observe generation 2' });
});

t.test('TrainingJob actions offered in each state', async (t) => {
  t.same(await listActions(running), { restart: false, resume: true, suspend: false }, 'Running: suspend or restart');
  t.same(await listActions(initializing), { restart: false, resume: true, suspend: false }, 'Initializing: suspend or restart');
  t.same(await listActions(pending), { restart: true, resume: true, suspend: false }, 'Pending: nothing to restart yet');
  t.same(await listActions(suspended), { restart: true, resume: false, suspend: true }, 'Suspended: resume only');
  t.same(await listActions(queued), { restart: true, resume: true, suspend: true }, 'Queued: the controller releases it in order');
  t.same(await listActions(restarting), { restart: true, resume: true, suspend: false }, 'Restarting: already restarting');
  t.same(await listActions(completed), { restart: true, resume: true, suspend: true }, 'Completed is final');
  t.same(await listActions(failed), { restart: true, resume: true, suspend: true }, 'Failed is final');
  const noLimit = (restarts: number): TrainingJob => {
    const j = clone(running);
    delete j.spec.backoffLimit;
    j.status!.restarts = restarts;
    return j;
  };
  t.match(await listActions(noLimit(DEFAULT_BACKOFF_LIMIT - 1)), { restart: false }, 'a restart left under the default backoffLimit');
  t.match(await listActions(noLimit(DEFAULT_BACKOFF_LIMIT)), { restart: true }, 'no restart left under the default backoffLimit');
});

t.test('suspend and resume change spec.suspend and nothing else', async (t) => {
  const s = await runAction(running, 'suspend');
  const expected = clone(running);
  expected.spec.suspend = true;
  t.same(s.result, expected, 'suspend', { out: s.out });

  const r = await runAction(suspended, 'resume');
  const resumed = clone(suspended);
  resumed.spec.suspend = false;
  t.same(r.result, resumed, 'resume', { out: r.out });
});

t.test('restart asks the controller for the next worker Job generation, from the last checkpoint', async (t) => {
  const r = await runAction(running, 'restart');
  const got = r.result;
  t.ok(got, 'an object came back', { out: r.out });
  const ready = got?.status?.conditions?.find((c) => c.type === 'Ready');
  const runningCond = got?.status?.conditions?.find((c) => c.type === 'Running');
  const message = 'restart 1 of 3 requested through Argo CD, resuming from s3://ckpt/resnet/epoch-3';
  t.match(ready, { status: 'False', reason: 'RestartRequested', message }, 'Ready says why');
  t.match(runningCond, { status: 'False', reason: 'RestartRequested', message });
  t.match(ready?.lastTransitionTime, iso, 'Ready moved to False now');
  t.not(ready?.lastTransitionTime, running.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime);
  // Everything but state, restarts and those two conditions is untouched.
  const expected = clone(running);
  expected.status!.state = 'Restarting';
  expected.status!.restarts = 1;
  expected.status!.conditions = expected.status!.conditions!.map((c) => (c.type === 'Ready' || c.type === 'Running' ? { ...c, status: 'False', reason: 'RestartRequested', message, lastTransitionTime: ready?.lastTransitionTime ?? '' } : c));
  t.same(got, expected);
  t.match(await health(got!), { status: 'Progressing', message: `Restarting: ${message}` }, 'and health shows it at once');
});

t.test('actions refuse what the controller would not do, in words', async (t) => {
  const cases: Array<[string, TrainingJob, string, RegExp]> = [
    ['restart a Completed job', completed, 'restart', /is Completed: only a Running or Initializing job can be restarted/],
    ['restart a suspended job', suspended, 'restart', /is suspended: resume it instead/],
    ['restart past backoffLimit', { ...running, status: { ...running.status, restarts: 3 } }, 'restart', /has used all 3 restarts of spec.backoffLimit/],
    ['resume a queued job', queued, 'resume', /is queued for GPU quota; the controller starts it when capacity frees up/],
    ['suspend a Failed job', failed, 'suspend', /is Failed, which is final: there is nothing to suspend/],
  ];
  for (const [name, job, action, message] of cases) {
    const r = await runAction(job, action);
    t.not(r.code, 0, `${name}: refused`);
    t.match(r.out, message, `${name}: says why`);
  }
});

// JobRepositories with the Ready condition as controller/gitsync/reconciler.ts writes it.
function repository(ready?: { status: 'True' | 'False'; reason: string; message: string; observedGeneration?: number }, spec: Partial<JobRepository['spec']> = {}, generation = 1): JobRepository {
  return {
    apiVersion: 'ml.example.com/v1',
    kind: 'JobRepository',
    metadata: { name: 'jobs', namespace: 'team-a', generation, uid: 'uid-r' },
    spec: { url: 'https://git.example.com/ml/jobs.git', ref: { branch: 'main' }, path: 'team-a', interval: '5m', ...spec },
    ...(ready ? { status: { lastFetchedRevision: 'a1b2c3d4e5f6a7b8', lastAppliedRevision: 'a1b2c3d4e5f6a7b8', observedGeneration: 1, inventory: [], errors: [], conditions: [{ type: 'Ready', lastTransitionTime: NOW.toISOString(), observedGeneration: 1, ...ready }] } } : {}),
  };
}

t.test('JobRepository health for every Ready reason the git-sync reconciler writes', async (t) => {
  const manifestErrors = 'revision a1b2c3d4e5f6 applied with 1 error in 1 file(s); first: team-a/bert.yaml:3: namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)';
  const cases: Array<[string, JobRepository, string, string]> = [
    ['never synced', repository(), 'Progressing', 'Waiting for the first sync'],
    ['Synced', repository({ status: 'True', reason: 'Synced', message: 'revision a1b2c3d4e5f6: 3 jobs' }), 'Healthy', 'revision a1b2c3d4e5f6: 3 jobs'],
    ['ManifestErrors', repository({ status: 'False', reason: 'ManifestErrors', message: manifestErrors }), 'Degraded', `ManifestErrors: ${manifestErrors}`],
    ['AuthFailed', repository({ status: 'False', reason: 'AuthFailed', message: 'fetch of https://git.example.com/ml/jobs.git failed: HTTP 401' }), 'Degraded', 'AuthFailed: fetch of https://git.example.com/ml/jobs.git failed: HTTP 401'],
    ['PruneBlocked', repository({ status: 'False', reason: 'PruneBlocked', message: 'would delete 6 of 8 jobs; annotate ml.example.com/confirm-prune=a1b2c3d4 to proceed' }), 'Degraded', 'PruneBlocked: would delete 6 of 8 jobs; annotate ml.example.com/confirm-prune=a1b2c3d4 to proceed'],
    ['suspended', repository({ status: 'False', reason: 'Suspended', message: 'syncing is suspended (spec.suspend)' }, { suspend: true }), 'Suspended', 'Syncing is suspended (spec.suspend)'],
    ['resumed, not yet synced', repository({ status: 'False', reason: 'Suspended', message: 'syncing is suspended (spec.suspend)' }, { suspend: false }, 2), 'Progressing', 'Waiting for the controller to sync generation 2'],
  ];
  for (const [name, repo, status, message] of cases) {
    const h = await health(repo);
    t.equal(h.status, status, `${name}: status`, { out: h.out });
    t.equal(h.message, message, `${name}: message`);
  }
});

t.test('JobRepository actions: sync now, suspend, resume', async (t) => {
  const synced = repository({ status: 'True', reason: 'Synced', message: 'revision a1b2c3d4e5f6: 3 jobs' });
  const paused = repository(undefined, { suspend: true });
  t.same(await listActions(synced), { resume: true, suspend: false, sync: false });
  t.same(await listActions(paused), { resume: false, suspend: true, sync: true });

  const s = await runAction(synced, 'sync');
  t.match(s.result?.metadata?.annotations?.[REQUESTED_AT_ANNOTATION], iso, 'a new requestedAt the controller answers with a fetch', { out: s.out });
  const expected = clone(synced);
  expected.metadata!.annotations = { [REQUESTED_AT_ANNOTATION]: s.result?.metadata?.annotations?.[REQUESTED_AT_ANNOTATION] ?? '' };
  t.same(s.result, expected, 'nothing else changes');

  const p = await runAction(synced, 'suspend');
  t.equal(p.result?.spec.suspend, true);
  const r = await runAction(paused, 'resume');
  t.equal(r.result?.spec.suspend, false);
});
