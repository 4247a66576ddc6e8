// `trainingjob validate` as a user runs it: exact lines on stdout, exit codes 0/1/2, the examples repository
// clean, the pre-commit hook in a real git repository.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../localcluster/binaries.ts';

// File names are printed as given, so the commands run from the repository root with relative paths.
process.chdir(repoRoot);
// Synchronous, so a command that exits before reading its stdin cannot fail the write (EPIPE).
function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, input = ''): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { env, input, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const cli = async (args: string[], input?: string) => run(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), 'validate', ...args], process.env, input);
const fx = (name: string): string => `test/fixtures/validate/${name}`;
const policies = ['--policy', 'policies/examples'];
const lines = (...l: string[]): string => `${l.join('\n')}\n`;

const tmp = mkdtempSync(join(tmpdir(), 'tj-validate-cli-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

t.test('the seed examples, v1 and v1alpha1, are valid', async (t) => {
  const res = await cli(['-f', fx('seeds-v1.yaml'), '-f', fx('pytorch-mnist-v1alpha1.yaml'), ...policies]);
  t.equal(res.stdout, lines('2 files, 3 jobs: all valid'));
  t.equal(res.code, 0, 'exit code 0', { stderr: res.stderr });
});

t.test('every violation of a job at once, each at the line of its field', async (t) => {
  const res = await cli(['-f', fx('invalid-job.yaml'), ...policies]);
  const f = fx('invalid-job.yaml');
  t.equal(res.stdout, lines(
    `${f}:10: spec.learningRate: unknown field`,
    `${f}:8: spec.numWorkers: 40 exceeds the maximum 32`,
    `${f}:9: spec.gpusPerWorker: 12 exceeds the maximum 8`,
    `${f}:6: spec: either image or model must be given`,
    `${f}:13: spec.resources.requests.cpu: 8 must be less than or equal to the limit 4`,
    `${f}:6: spec: 480 GPUs (40 workers × 12 GPUs) exceeds the maximum 64 GPUs per job (TrainingPolicy platform-defaults)`,
    '1 file, 1 job: 1 invalid',
  ));
  t.equal(res.code, 1);
});

t.test('v1alpha1: the webhook\'s v1 messages at the v1alpha1 key, then v1alpha1\'s own schema', async (t) => {
  const f = fx('v1alpha1-invalid.yaml');
  const res = await cli(['-f', f, ...policies]);
  t.equal(res.stdout, lines(
    `${f}:12: spec.numWorkers: 40 exceeds the maximum 32`,
    `${f}:21: spec.command: Required value`,
    '1 file, 2 jobs: 2 invalid',
  ));
  t.equal(res.code, 1);
});

t.test('quota: jobs of the input count in file order, with a policy found under -f', async (t) => {
  const res = await cli(['-f', fx('over-quota')]);
  t.equal(res.stdout, lines(
    `${fx('over-quota/jobs.yaml')}:15: namespace vision GPU quota 8: 8 in use, this job asks 4 (1 worker × 4 GPUs)`,
    '2 files, 2 jobs: 1 invalid',
  ));
  t.equal(res.code, 1);

  const used = await cli(['-f', fx('over-quota'), '--usage', 'vision:4']);
  t.equal(used.stdout, lines(
    `${fx('over-quota/jobs.yaml')}:5: namespace vision GPU quota 8: 4 in use, this job asks 8 (2 workers × 4 GPUs)`,
    '2 files, 2 jobs: 1 invalid',
  ), 'GPUs in use outside the input; the refused first job leaves room for the second');
});

t.test('standard input, namespace labels and the default namespace select the team policies', async (t) => {
  const job = 'apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata:\n  name: big\nspec:\n  model: resnet50\n  numWorkers: 4\n  gpusPerWorker: 2\n  suspend: false\n';
  const res = await cli(['-f', '-', ...policies, '--namespace', 'team-a', '--namespace-labels', 'team-a:ml.example.com/team=team-a', '--usage', '12'], job);
  t.equal(res.stdout, lines(
    '<stdin>:3: metadata.labels.team: required label is missing (TrainingPolicy team-a)',
    '<stdin>:3: namespace team-a GPU quota 16: 12 in use, this job asks 8 (4 workers × 2 GPUs)',
    '1 file, 1 job: 1 invalid',
  ));
  t.equal(res.code, 1);

  const queued = await cli(['-f', '-', ...policies, '--namespace', 'team-b', '--namespace-labels', 'ml.example.com/team=team-b', '--usage', '4'], job);
  t.equal(queued.stdout, lines(
    '<stdin>:1: warning: queued until capacity frees up: namespace team-b GPU quota 8: 4 in use, this job asks 8 (4 workers × 2 GPUs)',
    '1 file, 1 job: all valid',
  ), 'team-b queues instead of refusing');
  t.equal(queued.code, 0);
});

t.test('unreadable input: exit 2, every problem reported, the readable files still judged', async (t) => {
  const res = await cli(['-f', fx('broken.yaml'), '-f', fx('not-a-job.yaml'), '-f', fx('alias-bomb.yaml'), '-f', fx('missing.yaml'), '-f', fx('invalid-job.yaml')]);
  t.equal(res.stdout.split('\n').filter((l) => !l.startsWith(fx('invalid-job.yaml'))).join('\n'), lines(
    `${fx('broken.yaml')}:8:3: YAML error: Flow map in block collection must be sufficiently indented and end with a }`,
    `${fx('not-a-job.yaml')}:1: not a TrainingJob or TrainingPolicy: kind ConfigMap, apiVersion v1`,
    `${fx('alias-bomb.yaml')}:8:85: YAML error: aliases expand past the limit of 100; refusing what looks like an alias bomb ("billion laughs")`,
    `${fx('missing.yaml')}: cannot read: no such file or directory`,
    '5 files, 1 job: 1 invalid, 4 errors',
  ));
  t.equal(res.code, 2);
});

t.test('-o json carries the same findings with fields, reasons and lines', async (t) => {
  const res = await cli(['-f', fx('v1alpha1-invalid.yaml'), '-f', fx('not-a-job.yaml'), '-o', 'json']);
  t.equal(res.code, 2);
  const out = JSON.parse(res.stdout) as { documents: unknown[]; errors: unknown[]; summary: unknown };
  t.match(out.documents, [
    { file: fx('v1alpha1-invalid.yaml'), line: 3, kind: 'TrainingJob', apiVersion: 'ml.example.com/v1alpha1', name: 'mnist-wide', namespace: 'ml-jobs', allowed: false,
      violations: [{ line: 12, field: 'spec.numWorkers', message: 'spec.numWorkers: 40 exceeds the maximum 32', reason: 'FieldValueTooLarge' }], warnings: [] },
    { name: 'mnist-commandless', allowed: false, violations: [{ line: 21, field: 'spec.command', reason: 'FieldValueRequired' }] },
  ]);
  t.strictSame(out.errors, [{ file: fx('not-a-job.yaml'), line: 1, message: 'not a TrainingJob or TrainingPolicy: kind ConfigMap, apiVersion v1' }]);
  t.strictSame(out.summary, { files: 2, jobs: 2, invalid: 2, invalidPolicies: 0, errors: 1 });
});

t.test('examples/jobs validates clean, with and without the team namespaces labelled', async (t) => {
  const plain = await cli(['-f', 'examples/jobs', ...policies]);
  t.equal(plain.stdout, lines('7 files, 7 jobs: all valid'));
  t.equal(plain.code, 0);
  const labelled = await cli(['-f', 'examples/jobs', ...policies, '--namespace-labels', 'team-a:ml.example.com/team=team-a', '--namespace-labels', 'team-b:ml.example.com/team=team-b']);
  t.equal(labelled.stdout, lines('7 files, 7 jobs: all valid'));
  t.equal(labelled.code, 0);
});

t.test('a 50k-line file is judged whole, its one bad line named', async (t) => {
  const job = (i: number): string => `apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata:\n  name: job-${i}\n  namespace: ns-${i % 50}\nspec:\n  model: resnet50\n  numWorkers: 2\n  gpusPerWorker: ${i === 2000 ? 13 : 1}\n  tolerations:\n    - key: nvidia.com/gpu\n      operator: Exists\n      effect: NoSchedule\n  hyperparameters:\n    learningRate: 0.001\n    batchSize: 32\n    epochs: 10\n  nodeSelector:\n    pool: a100\n---\n`;
  const file = join(tmp, 'big.yaml');
  writeFileSync(file, Array.from({ length: 2500 }, (_, i) => job(i)).join(''));
  const started = Date.now();
  const res = await cli(['-f', file, ...policies]);
  const ms = Date.now() - started;
  t.equal(res.stdout, lines(`${file}:40009: spec.gpusPerWorker: 13 exceeds the maximum 8`, '1 file, 2500 jobs: 1 invalid'));
  // Speed is a benchmark, not an assertion: about 2 s on a 2-core machine, start-up included.
  t.comment(`took ${ms} ms`);
});

t.test('bad command lines are usage errors (exit 2) on stderr', async (t) => {
  for (const [args, message] of [
    [[], /no manifests given/],
    [['-f', fx('seeds-v1.yaml'), '--bogus'], /Unknown option '--bogus'/],
    [['-f', fx('seeds-v1.yaml'), '-o', 'yaml'], /-o must be text or json, got "yaml"/],
    [['-f', fx('seeds-v1.yaml'), '--usage', 'lots'], /--usage wants \[NS:\]N/],
    [['-f', fx('seeds-v1.yaml'), '--namespace-labels', 'team'], /--namespace-labels wants \[NS:\]KEY=VALUE/],
  ] as Array<[string[], RegExp]>) {
    const res = await cli(args);
    t.equal(res.code, 2, args.join(' '));
    t.equal(res.stdout, '');
    t.match(res.stderr, message);
  }
  const help = await cli(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^usage: trainingjob validate -f FILE\|DIR\|- /);
});

t.test('the pre-commit hook of examples/jobs refuses a commit the webhook would refuse', async (t) => {
  const repo = join(tmp, 'jobs-repo');
  cpSync(join(repoRoot, 'examples', 'jobs'), repo, { recursive: true });
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'ml', GIT_AUTHOR_EMAIL: 'ml@example.com', GIT_COMMITTER_NAME: 'ml', GIT_COMMITTER_EMAIL: 'ml@example.com',
    TRAININGJOB: `${process.execPath} ${join(repoRoot, 'bin', 'trainingjob.js')}`,
    TRAININGJOB_POLICIES: join(repoRoot, 'policies', 'examples'),
  };
  const git = async (...args: string[]) => run('git', ['-C', repo, ...args], env);
  t.equal((await git('init', '-q')).code, 0);
  cpSync(join(repo, 'hooks', 'pre-commit'), join(repo, '.git', 'hooks', 'pre-commit'));
  t.equal((await git('add', '.')).code, 0);
  const ok = await git('commit', '-q', '-m', 'jobs');
  t.equal(ok.code, 0, 'the example jobs commit', { stdout: ok.stdout, stderr: ok.stderr });
  // git shows a hook's output on stderr
  t.match(ok.stderr, /^7 files, 7 jobs: all valid$/m);

  writeFileSync(join(repo, 'team-a', 'greedy.yaml'), 'apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata:\n  name: greedy\n  namespace: team-a\nspec:\n  model: resnet50\n  gpusPerWorker: 16\n');
  t.equal((await git('add', 'team-a/greedy.yaml')).code, 0);
  const refused = await git('commit', '-q', '-m', 'greedy');
  t.equal(refused.code, 1);
  t.equal(refused.stderr, lines(
    'team-a/greedy.yaml:8: spec.gpusPerWorker: 16 exceeds the maximum 8',
    '8 files, 8 jobs: 1 invalid',
    'pre-commit: TrainingJob manifests are not valid; fix them or commit with --no-verify',
  ));
  t.equal((await git('log', '--oneline')).stdout.split('\n').filter(Boolean).length, 1, 'nothing was committed');
});
