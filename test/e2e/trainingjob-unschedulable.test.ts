// Workers the scheduler cannot place: the TrainingJob says why in the scheduler's own words (its
// Ready/Running message and a Warning Event), and starts once the cause is fixed — here a dataVolume
// naming a PVC that does not exist yet, then is created and binds to the pool as checkpoint PVCs do.
import { join } from 'node:path';
import t from 'tap';
import { repoRoot } from '../../localcluster/binaries.ts';
import { eventually, kubectlOrThrow } from '../harness/tap.ts';
import { controllerEnv } from '../harness/e2e.ts';
import type { TrainingJob } from '../../api/index.ts';

const { cp, core, custom } = await controllerEnv(t, { namespace: 'ml' });
const namespace = 'ml';
const claimName = 'feature-snapshots';

const tjApi = { group: 'ml.example.com', version: 'v1', namespace, plural: 'trainingjobs' };
const getJob = async (name: string) => (await custom.getNamespacedCustomObject({ ...tjApi, name })) as TrainingJob;
const condition = (j: TrainingJob | undefined, type: string) => j?.status?.conditions?.find((c) => c.type === type);

t.test('a missing dataVolume PVC: Initializing with the scheduler\'s reason and a Warning, Running once the PVC exists', async (t) => {
  await custom.createNamespacedCustomObject({
    ...tjApi,
    body: {
      apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: 'churn', namespace },
      spec: { model: 'churn-gbdt', dataset: 'churn', numWorkers: 2, gpusPerWorker: 1, dataVolume: { claimName, readOnly: true }, hyperparameters: { learningRate: 0.1, kwokRunTime: '120s' } },
    },
  });
  const held = await eventually(async () => {
    const j = await getJob('churn');
    return condition(j, 'Running')?.reason === 'WorkersUnschedulable' ? j : undefined;
  }, 60_000, 250);
  const running = condition(held, 'Running');
  t.comment(`Running condition: ${running?.reason}: ${running?.message}`);
  t.equal(held?.status?.state, 'Initializing', 'still Initializing', { status: held?.status });
  t.match(running, { status: 'False', reason: 'WorkersUnschedulable', message: new RegExp(`^0 of 2 workers running, Job churn-workers: worker \\d unschedulable: 0/\\d+ nodes are available: .*persistentvolumeclaim "${claimName}" not found`) });
  t.match(condition(held, 'Ready'), { status: 'False', reason: 'WorkersUnschedulable', message: running?.message ?? '' }, 'Ready says the same');

  const warning = await eventually(async () => {
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.kind=TrainingJob,involvedObject.name=churn' });
    return events.items.find((e) => e.reason === 'WorkersUnschedulable');
  }, 30_000);
  t.comment(`Event: ${warning?.type} ${warning?.reason} ×${warning?.count}: ${warning?.message}`);
  t.equal(warning?.type, 'Warning', 'a Warning event');
  t.match(warning?.message, `persistentvolumeclaim "${claimName}" not found`);

  // Bound the way checkpoint PVCs are here: the pool's PersistentVolumes, by kube-controller-manager's binder.
  await core.createNamespacedPersistentVolumeClaim({ namespace, body: { metadata: { name: claimName }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '10Gi' } } } } });
  const started = await eventually(async () => {
    const j = await getJob('churn');
    return j.status?.state === 'Running' ? j : undefined;
  }, 90_000, 250);
  t.equal(started?.status?.state, 'Running', 'Running once the PVC exists', { status: (await getJob('churn')).status });
  t.match(condition(started, 'Running'), { status: 'True', reason: 'WorkersRunning', message: '2 workers running' });
  t.equal((await core.readNamespacedPersistentVolumeClaim({ name: claimName, namespace })).status?.phase, 'Bound', 'the data PVC bound to a pool volume');
  const warnings = (await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.kind=TrainingJob,involvedObject.name=churn' })).items.filter((e) => e.type === 'Warning');
  t.same(warnings.map((e) => e.reason), ['WorkersUnschedulable'], 'one Warning event, for the one reason');
});

t.test('the demo\'s xgboost-churn example runs: team-a\'s onboarding provisions the PVC it reads', async (t) => {
  const kubectl = kubectlOrThrow(cp);
  const team = join(repoRoot, 'manifests', 'teams', 'team-a');
  await kubectl(['apply', '-f', join(team, 'namespace.yaml'), '-f', join(team, 'feature-store.yaml')]);
  await kubectl(['apply', '-f', join(repoRoot, 'examples', 'jobs', 'team-a', 'xgboost-churn.yaml')]);
  const api = { ...tjApi, namespace: 'team-a' };
  const started = await eventually(async () => {
    const j = (await custom.getNamespacedCustomObject({ ...api, name: 'xgboost-churn' })) as TrainingJob;
    return j.status?.state === 'Running' ? j : undefined;
  }, 90_000, 250);
  const last = (await custom.getNamespacedCustomObject({ ...api, name: 'xgboost-churn' })) as TrainingJob;
  t.equal(started?.status?.state, 'Running', 'Running', { status: last.status });
  t.match(started?.status?.workers, { active: 4 }, 'all four workers');
});
