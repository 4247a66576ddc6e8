// Classifying the documents of one manifest file: TrainingJobs accepted and labelled with their source; other kinds,
// other namespaces, YAML errors and alias bombs refused with file and line; the other documents still accepted.
import t from 'tap';
import { manifestsOfFile, type ManifestEntry } from '../../controller/gitsync/manifests.ts';
import { REPOSITORY_LABEL, SOURCE_PATH_ANNOTATION, SOURCE_REPOSITORY_ANNOTATION, SOURCE_REVISION_ANNOTATION, repositoryLabelValue, repositoryOfJob } from '../../controller/gitsync/source-metadata.ts';

const repository = { namespace: 'team-a', name: 'jobs' };
const revision = 'a'.repeat(40);
const of = (text: string, file = 'jobs/file.yaml') => manifestsOfFile({ file, text, repository, revision });
const messages = (entries: ManifestEntry[]) => entries.filter((e) => 'message' in e).map((e) => ({ line: e.line, message: (e as { message: string }).message }));
const objects = (entries: ManifestEntry[]) => entries.flatMap((e) => ('object' in e ? [e.object] : []));

t.test('TrainingJobs of both versions are accepted, forced into the namespace and labelled', async (t) => {
  const entries = of(`apiVersion: ml.example.com/v1
kind: TrainingJob
metadata:
  name: resnet
  labels:
    team: vision
  annotations:
    note: keep
spec:
  model: resnet50
---
apiVersion: ml.example.com/v1alpha1
kind: TrainingJob
metadata:
  name: legacy
  namespace: team-a
spec:
  framework: pytorch
`);
  t.same(messages(entries), []);
  t.same(entries.map((e) => e.line), [1, 12]);
  const [v1, alpha] = objects(entries);
  t.same(v1?.metadata, {
    name: 'resnet',
    namespace: 'team-a',
    labels: { team: 'vision', [REPOSITORY_LABEL]: 'team-a.jobs', 'app.kubernetes.io/managed-by': 'trainingjob-gitops' },
    annotations: { note: 'keep', [SOURCE_REPOSITORY_ANNOTATION]: 'jobs', [SOURCE_PATH_ANNOTATION]: 'jobs/file.yaml', [SOURCE_REVISION_ANNOTATION]: revision },
  });
  t.same(v1?.spec, { model: 'resnet50' });
  t.equal((alpha?.metadata as { namespace: string }).namespace, 'team-a');
});

t.test('other kinds and namespaces are per-document errors naming the line', async (t) => {
  const entries = of(`apiVersion: ml.example.com/v1
kind: TrainingJob
metadata:
  name: good
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: smuggled
---
apiVersion: ml.example.com/v1
kind: TrainingJob
metadata:
  name: elsewhere
  namespace: team-b
---
apiVersion: ml.example.com/v2
kind: TrainingJob
metadata:
  name: future
---
apiVersion: ml.example.com/v1
kind: TrainingJob
metadata:
  labels: {}
---
- a list
---
metadata:
  name: no-kind
`);
  t.same(messages(entries), [
    { line: 7, message: 'kind ConfigMap is not allowed: a JobRepository may only create TrainingJobs' },
    { line: 15, message: 'metadata.namespace team-b is not allowed: this JobRepository may only create TrainingJobs in namespace team-a' },
    { line: 17, message: 'apiVersion ml.example.com/v2 is not served for TrainingJob: use ml.example.com/v1 or ml.example.com/v1alpha1' },
    { line: 24, message: 'metadata.name is required: git-managed jobs are applied by name' },
    { line: 27, message: 'document is not a Kubernetes object (expected a mapping with apiVersion and kind)' },
    { line: 29, message: 'kind (missing) is not allowed: a JobRepository may only create TrainingJobs' },
  ]);
  t.same(objects(entries).map((o) => (o.metadata as { name: string }).name), ['good'], 'the good job still goes through');
  t.ok(entries.every((e) => e.file === 'jobs/file.yaml'));
});

t.test('YAML errors keep their line; the valid documents still come out', async (t) => {
  const entries = of(`apiVersion: ml.example.com/v1
kind: TrainingJob
metadata:
  name: fine
---
apiVersion: ml.example.com/v1
kind: TrainingJob
metadata:
  name: broken
   bad: indent
`);
  const errs = messages(entries);
  t.equal(errs.length >= 1, true);
  t.equal(errs[0]?.line, 9, "the line yaml points at, inside the second document");
  t.same(objects(entries).map((o) => (o.metadata as { name: string }).name), ['fine']);
});

t.test('alias bombs and oversized text are refused without expanding them', async (t) => {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 10; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  const started = Date.now();
  const entries = of(`apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata:\n  name: bomb\nspec:\n  hyperparameters:\n    ${bomb.join('\n    ')}\n`);
  t.ok(Date.now() - started < 2000, 'fast');
  t.equal(objects(entries).length, 0);
  t.match(messages(entries)[0]?.message, /alias bomb/);

  const big = manifestsOfFile({ file: 'big.yaml', text: `# ${'x'.repeat(2000)}\n`, repository, revision, maxBytes: 1000 });
  t.same(messages(big), [{ line: 1, message: 'file is 2003 bytes; manifest files are limited to 1000' }]);
  t.same(of(''), [], 'an empty file has no documents');
});

t.test('the input object is not modified', async (t) => {
  const text = 'apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata:\n  name: x\n';
  const a = objects(of(text))[0];
  const b = objects(of(text, 'other.yaml'))[0];
  t.not(a, b);
  t.equal((b?.metadata as { annotations: Record<string, string> }).annotations[SOURCE_PATH_ANNOTATION], 'other.yaml');
});

t.test('the repository label fits 63 characters; the annotation keeps the full name', async (t) => {
  const label = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
  t.equal(repositoryLabelValue({ namespace: 'team-a', name: 'jobs' }), 'team-a.jobs', 'short: as is');
  const long = { namespace: 'team-' + 'a'.repeat(50), name: 'nightly-retraining-jobs-of-the-recommendation-models-' + 'x'.repeat(100) };
  const v = repositoryLabelValue(long);
  t.ok(v.length <= 63 && label.test(v), `long: a valid label value (${v})`);
  t.equal(repositoryLabelValue(long), v, 'stable');
  t.not(repositoryLabelValue({ ...long, name: `${long.name}y` }), v, 'another name, another value');
  t.not(repositoryLabelValue({ namespace: 'team-a', name: `${'b'.repeat(70)}.x` }), repositoryLabelValue({ namespace: 'team-a', name: `${'b'.repeat(70)}-x` }), 'names that share a prefix differ');
  t.equal(repositoryOfJob({ metadata: { namespace: long.namespace, labels: { [REPOSITORY_LABEL]: v }, annotations: { [SOURCE_REPOSITORY_ANNOTATION]: long.name } } }), long.name, 'the full name from the annotation');
  t.equal(repositoryOfJob({ metadata: { namespace: 'team-a', labels: { [REPOSITORY_LABEL]: 'team-a.jobs.v2' } } }), 'jobs.v2', 'a job applied before the annotation: from the label');
  t.equal(repositoryOfJob({ metadata: { namespace: 'team-a', labels: {} } }), undefined, 'not from git');
});
