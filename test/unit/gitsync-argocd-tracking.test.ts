// Git-synced jobs join the Argo CD Application managing their JobRepository: the tracking id names the job itself and
// that Application; Argo CD must neither count them as drift nor prune or delete them; an id not naming the
// repository itself is ignored, as Argo CD ignores it; a job whose annotations lag the repository's is re-applied.
import t from 'tap';
import { argoCdAnnotations, argoCdApplicationOf, argoCdTrackingStale, withArgoCdAnnotations } from '../../controller/gitsync/argocd-tracking.ts';
import { manifestsOfFile } from '../../controller/gitsync/manifests.ts';

const tracked = { namespace: 'team-a', name: 'jobs', annotations: { 'argocd.argoproj.io/tracking-id': 'trainingjob-team-a:ml.example.com/JobRepository:team-a/jobs' } };

t.test('a repository tracked by an Application puts its jobs into that Application, never drifting, pruned or deleted by Argo CD', async (t) => {
  t.equal(argoCdApplicationOf(tracked), 'trainingjob-team-a');
  t.same(argoCdAnnotations(tracked, 'resnet'), {
    'argocd.argoproj.io/tracking-id': 'trainingjob-team-a:ml.example.com/TrainingJob:team-a/resnet',
    'argocd.argoproj.io/compare-options': 'IgnoreExtraneous',
    'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
  });
  // Applications in other namespaces are named "<namespace>_<name>"; an installation id must match too.
  const elsewhere = { ...tracked, annotations: { 'argocd.argoproj.io/tracking-id': 'apps_team-a:ml.example.com/JobRepository:team-a/jobs', 'argocd.argoproj.io/installation-id': 'prod' } };
  t.match(argoCdAnnotations(elsewhere, 'resnet'), { 'argocd.argoproj.io/tracking-id': 'apps_team-a:ml.example.com/TrainingJob:team-a/resnet', 'argocd.argoproj.io/installation-id': 'prod' });
});

t.test('no Application, or an id copied from another object, adds nothing', async (t) => {
  t.same(argoCdAnnotations({ namespace: 'team-a', name: 'jobs' }, 'resnet'), {});
  for (const id of ['trainingjob-team-a:ml.example.com/JobRepository:team-a/other', 'trainingjob-team-a:apps/Deployment:team-a/jobs', ':ml.example.com/JobRepository:team-a/jobs', 'a:b:ml.example.com/JobRepository:team-a/jobs']) {
    t.equal(argoCdApplicationOf({ ...tracked, annotations: { 'argocd.argoproj.io/tracking-id': id } }), undefined, id);
  }
});

t.test('applied jobs carry the annotations, above a manifest\'s own', async (t) => {
  const [entry] = manifestsOfFile({
    file: 'team-a/resnet.yaml', revision: 'a'.repeat(40), repository: tracked,
    text: 'apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata:\n  name: resnet\n  annotations:\n    argocd.argoproj.io/sync-options: Prune=true\n    note: keep\nspec: {}\n',
  });
  const annotations = entry && 'object' in entry ? (entry.object.metadata as { annotations?: Record<string, string> }).annotations : undefined;
  t.match(annotations, { note: 'keep', 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false', 'argocd.argoproj.io/tracking-id': 'trainingjob-team-a:ml.example.com/TrainingJob:team-a/resnet' });
});

t.test('a live job lagging its repository\'s Application is stale; an untracked repository checks nothing', async (t) => {
  const current = argoCdAnnotations(tracked, 'resnet');
  t.equal(argoCdTrackingStale(tracked, { name: 'resnet', annotations: { ...current, note: 'x' } }), false, 'up to date');
  t.equal(argoCdTrackingStale(tracked, { name: 'resnet', annotations: { note: 'x' } }), true, 'applied before Argo CD adopted the repository');
  t.equal(argoCdTrackingStale(tracked, { name: 'resnet', annotations: { ...current, 'argocd.argoproj.io/tracking-id': 'old-app:ml.example.com/TrainingJob:team-a/resnet' } }), true, 'moved to another Application');
  t.equal(argoCdTrackingStale({ namespace: 'team-a', name: 'jobs' }, { name: 'resnet', annotations: current }), false, 'untracked');
  t.equal(argoCdTrackingStale(tracked, { name: 'resnet', annotations: { ...current, 'argocd.argoproj.io/installation-id': 'other' } }), true, 'an installation id its repository does not have');
});

t.test('a manifest\'s own installation id never hides a tracked job from its Application', async (t) => {
  const own = { 'argocd.argoproj.io/installation-id': 'elsewhere', note: 'keep' };
  t.same(Object.keys(withArgoCdAnnotations(own, tracked, 'resnet')).sort(), ['argocd.argoproj.io/compare-options', 'argocd.argoproj.io/sync-options', 'argocd.argoproj.io/tracking-id', 'note']);
  t.same(withArgoCdAnnotations(own, { namespace: 'team-a', name: 'jobs' }, 'resnet'), own, 'untracked: the manifest\'s own');
});
