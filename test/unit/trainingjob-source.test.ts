// status.source comes from git sync's label and annotations; jobs not from git keep whatever they have.
import t from 'tap';
import { sourceOf, withSource } from '../../controller/trainingjob/source.ts';
import type { TrainingJob } from '../../api/index.ts';

const synced: TrainingJob = {
  apiVersion: 'ml.example.com/v1', kind: 'TrainingJob',
  metadata: { name: 'bert', namespace: 'team-a', labels: { 'ml.example.com/repository': 'team-a.jobs.v2' }, annotations: { 'ml.example.com/source-path': 'jobs/nlp/bert.yaml', 'ml.example.com/source-revision': 'abc123' } },
  spec: { model: 'bert' },
} as TrainingJob;

t.same(sourceOf(synced), { repository: 'jobs.v2', path: 'jobs/nlp/bert.yaml', revision: 'abc123' }, 'a repository name with dots: only the namespace is cut off');
t.equal(sourceOf({ ...synced, metadata: { name: 'x' } } as TrainingJob), undefined, 'not from git');
t.same(withSource({ state: 'Running' }, synced), { state: 'Running', source: { repository: 'jobs.v2', path: 'jobs/nlp/bert.yaml', revision: 'abc123' } });
t.same(withSource({ state: 'Running', source: { repository: 'old' } }, { ...synced, metadata: { name: 'x' } } as TrainingJob), { state: 'Running', source: { repository: 'old' } }, 'a job no longer labelled keeps its last source');
