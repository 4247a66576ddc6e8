// The manifest reader: documents as plain objects, the line of every field path, YAML errors with positions,
// alias bombs refused.
import t from 'tap';
import { fieldSegments, readManifests } from '../../api/manifest-documents.ts';

const twoJobs = `# a comment before the first document
apiVersion: ml.example.com/v1
kind: TrainingJob
metadata:
  name: first
  labels:
    team: vision
spec:
  model: resnet50
  gpusPerWorker: 12
  resources:
    limits:
      nvidia.com/gpu: 2
      cpu: "4"
  tolerations:
    - key: nvidia.com/gpu
      operator: Exists
    - key: spot
      effect: NoSchedule
  command:
    - python
    - train.py
  args: [--epochs, "10"]
---
---
# only a comment
---
apiVersion: ml.example.com/v1
kind: TrainingJob
metadata: {name: second}
spec:
  model: bert
`;

t.test('fieldSegments reads kubectl-style paths', async (t) => {
  t.strictSame(fieldSegments('spec.gpusPerWorker'), ['spec', 'gpusPerWorker']);
  t.strictSame(fieldSegments('spec.resources.limits[nvidia.com/gpu]'), ['spec', 'resources', 'limits', 'nvidia.com/gpu']);
  t.strictSame(fieldSegments('spec.tolerations[0].effect'), ['spec', 'tolerations', '0', 'effect']);
  t.strictSame(fieldSegments('metadata.labels[ml.example.com/team]'), ['metadata', 'labels', 'ml.example.com/team']);
  t.strictSame(fieldSegments('<root>'), []);
});

t.test('multi-document: each document with its index, first line and object; empty ones skipped', async (t) => {
  const { documents, problems } = readManifests(twoJobs, 'jobs.yaml');
  t.strictSame(problems, []);
  t.strictSame(documents.map((d) => [d.file, d.index, d.line]), [['jobs.yaml', 0, 2], ['jobs.yaml', 3, 28]]);
  t.strictSame(documents[1]?.object, { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: 'second' }, spec: { model: 'bert' } });
  t.equal(documents[1]?.lineOf('metadata.name'), 30, 'a key inside a flow map');
  t.equal(documents[1]?.lineOf('spec.model'), 32);
});

t.test('the line of nested fields and list items', async (t) => {
  const doc = readManifests(twoJobs, 'jobs.yaml').documents[0]!;
  t.equal(doc.lineOf('spec.gpusPerWorker'), 10);
  t.equal(doc.lineOf('metadata.labels.team'), 7);
  t.equal(doc.lineOf('spec.resources.limits[nvidia.com/gpu]'), 13, 'a map key with dots and a slash');
  t.equal(doc.lineOf('spec.resources.limits.cpu'), 14);
  t.equal(doc.lineOf('spec.tolerations[0]'), 16, 'a list item is where its entry starts');
  t.equal(doc.lineOf('spec.tolerations[1].effect'), 19);
  t.equal(doc.lineOf('spec.command[1]'), 22, 'a scalar item of a block list');
  t.equal(doc.lineOf('spec.args[1]'), 23, 'a scalar item of a flow list');
  t.equal(doc.lineOf(['spec', 'tolerations', '1', 'key']), 18, 'segments work as well as a path');
});

t.test('a field the file lacks gives its nearest ancestor; the root gives the document', async (t) => {
  const doc = readManifests(twoJobs, 'jobs.yaml').documents[0]!;
  t.equal(doc.lineOf('spec.image'), 8, 'defaulted later, so the line of spec');
  t.equal(doc.lineOf('metadata.namespace'), 4);
  t.equal(doc.lineOf('spec.tolerations[5].effect'), 15, 'past the end of the list');
  t.equal(doc.lineOf('spec.model.name'), 9, 'below a scalar');
  t.equal(doc.lineOf('<root>'), 2);
  t.equal(doc.lineOf('status.state'), 2);
});

t.test('a syntax error is reported with line and column; the other documents are still read', async (t) => {
  const text = 'apiVersion: v1\nkind: A\n---\nspec:\n  model: resnet50\n  hyperparameters: {learningRate: 0.1\n  numWorkers: 2\n---\nkind: C\n';
  const { documents, problems } = readManifests(text, 'broken.yaml');
  t.strictSame(documents.map((d) => (d.object as { kind: string }).kind), ['A', 'C']);
  t.equal(problems.length, 1);
  t.match(problems[0], { file: 'broken.yaml', line: 7, col: 3, code: 'BAD_INDENT', message: /Flow map in block collection/ });
});

t.test('a duplicate key is an error at the second key', async (t) => {
  const { documents, problems } = readManifests('spec:\n  model: a\n  model: b\n', 'dup.yaml');
  t.strictSame(documents, []);
  t.match(problems, [{ line: 3, col: 3, code: 'DUPLICATE_KEY' }]);
});

t.test('alias bombs are refused at the first alias; a few aliases are fine', async (t) => {
  const levels = ['lol'];
  let text = 'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
  for (let i = 1; i <= 8; i++) {
    text += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]\n`;
    levels.push(`a${i}`);
  }
  const bomb = readManifests(text, 'bomb.yaml');
  t.strictSame(bomb.documents, []);
  t.match(bomb.problems, [{ file: 'bomb.yaml', line: 2, col: 10, code: 'ALIAS_LIMIT', message: 'aliases expand past the limit of 100; refusing what looks like an alias bomb ("billion laughs")' }]);
  t.match(readManifests(text, 'bomb.yaml', { maxAliasCount: 5 }).problems, [{ message: /limit of 5/ }]);

  const sane = readManifests('defaults: &d {cpu: "2"}\nrequests: *d\nlimits: *d\n', 'ok.yaml');
  t.strictSame(sane.problems, []);
  t.strictSame(sane.documents[0]?.object, { defaults: { cpu: '2' }, requests: { cpu: '2' }, limits: { cpu: '2' } });
});

t.test('an empty file has no documents and no problems', async (t) => {
  t.strictSame(readManifests('', 'empty.yaml'), { file: 'empty.yaml', documents: [], problems: [] });
  t.strictSame(readManifests('# nothing\n', 'c.yaml').documents, []);
});

t.test('a 50k-line file is read and every field located in linear time', async (t) => {
  const job = (i: number): string => `apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata:\n  name: job-${i}\nspec:\n  model: m\n  numWorkers: 2\n  gpusPerWorker: 1\n  tolerations:\n    - key: nvidia.com/gpu\n      effect: NoSchedule\n---\n`;
  const text = Array.from({ length: 50_000 / 12 }, (_, i) => job(i)).join('');
  const started = performance.now();
  const { documents } = readManifests(text, 'big.yaml');
  let last = 0;
  for (const d of documents) last = d.lineOf('spec.tolerations[0].effect');
  const ms = performance.now() - started;
  t.equal(documents.length, 4166);
  t.equal(last, 4165 * 12 + 11);
  // Quadratic line lookups would take minutes here; linear work takes well under a second.
  t.ok(ms < 5000, `took ${Math.round(ms)} ms`);
});
