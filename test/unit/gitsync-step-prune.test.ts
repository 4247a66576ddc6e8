// The prune step of a git sync against fake API and cache objects: deletes what left, waits when blocked, and on a
// refused delete reports PruneFailed with the jobs kept; the status write then sends only what changed.
import t from 'tap';
import { ApiException } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import type { InventoryEntry, JobRepository, TrainingJob } from '../../api/index.ts';
import type { InvolvedObject } from '../../controller/events.ts';
import { pruneStep } from '../../controller/gitsync/step-prune.ts';
import { writeStatus } from '../../controller/gitsync/sync-status.ts';
import { createGitSyncMetrics } from '../../controller/metrics.ts';
import type { Informer, KubeClient, KubeObject, ObjectRef } from '../../kube/index.ts';
import { systemClock } from '../../clock/clock.ts';

const revision = 'c0ffee0000000000000000000000000000000000';
const repo: JobRepository = { metadata: { namespace: 'team-a', name: 'jobs', uid: 'u1', generation: 2 }, spec: { url: 'http://127.0.0.1/jobs.git' } };
const inv = (names: string[]): InventoryEntry[] => names.map((name) => ({ name, file: `${name}.yaml` }));
const ours = (name: string) => ({ metadata: { name, namespace: 'team-a', labels: { 'ml.example.com/repository': 'team-a.jobs' } }, spec: {} }) as unknown as TrainingJob & KubeObject;

function fakes(refuse: Record<string, ApiException<unknown>> = {}) {
  const deleted: string[] = [];
  const recorded: string[] = [];
  const patches: unknown[] = [];
  // Each delete is recorded with the identity it was sent as: the controller's own, or the one as() gave.
  const deletes: Array<{ ref: ObjectRef; as: string }> = [];
  const clientAs = (user: string): KubeClient =>
    ({
      async delete(ref: ObjectRef) {
        deletes.push({ ref, as: user });
        if (refuse[ref.name]) throw refuse[ref.name];
        deleted.push(ref.name);
      },
      async patchStatus(_ref: ObjectRef, body: unknown) {
        patches.push(body);
      },
      as: (next: string) => clientAs(next),
    }) as unknown as KubeClient;
  const client = clientAs('controller');
  const jobs = { get: (_ns: string | undefined, name: string) => ours(name), list: () => [] } as unknown as Informer<TrainingJob & KubeObject>;
  const recorder = { record: async (_o: InvolvedObject, type: string, reason: string, message: string) => void recorded.push(`${type} ${reason}: ${message}`) };
  return { deleted, deletes, recorded, patches, client, jobs, events: recorder, metrics: createGitSyncMetrics(new Registry()) };
}

t.test('jobs that left are deleted; the inventory is the new one', async (t) => {
  const f = fakes();
  const pruned = await pruneStep({ repo, revision, previous: inv(['a', 'b', 'c']), next: inv(['a', 'b']), client: f.client, jobs: f.jobs, metrics: f.metrics, events: f.events });
  t.same(pruned, { inventory: inv(['a', 'b']), deleted: ['c'] });
  t.same(f.deleted, ['c']);
  t.same(f.deletes, [{ ref: { group: 'ml.example.com', version: 'v1', namespace: 'team-a', plural: 'trainingjobs', name: 'c' }, as: 'controller' }], 'the TrainingJob in the repository\'s namespace, as the controller itself without spec.serviceAccountName');
});

t.test("with spec.serviceAccountName, a prune deletes as that ServiceAccount", async (t) => {
  const f = fakes();
  const withSa: JobRepository = { ...repo, spec: { ...repo.spec, serviceAccountName: 'gitops' } };
  await pruneStep({ repo: withSa, revision, previous: inv(['a', 'b', 'c']), next: inv(['a', 'b']), client: f.client, jobs: f.jobs, metrics: f.metrics, events: f.events });
  t.same(f.deleted, ['c']);
  t.same(f.deletes.map((d) => d.as), ['system:serviceaccount:team-a:gitops'], 'sent through the impersonating client');
});

t.test('a mass prune waits: PruneBlocked, nothing deleted, the jobs stay listed', async (t) => {
  const f = fakes();
  const pruned = await pruneStep({ repo, revision, previous: inv(['a', 'b', 'c', 'd']), next: inv(['a']), client: f.client, jobs: f.jobs, metrics: f.metrics, events: f.events });
  t.match(pruned.blocked, { status: 'False', reason: 'PruneBlocked', message: /would delete 3 of 4 jobs/ });
  t.same(pruned.inventory, inv(['a', 'b', 'c', 'd']));
  t.same(f.deleted, []);
  t.match(f.recorded, [/^Warning PruneBlocked: revision c0ffee000000 would delete 3 of 4 jobs/]);
});

t.test('a refused delete: PruneFailed naming the job and the API message, the jobs kept, the error returned', async (t) => {
  const refused = new ApiException(403, 'Forbidden', { message: 'trainingjobs.ml.example.com "c" is forbidden' }, {});
  const f = fakes({ c: refused });
  const pruned = await pruneStep({ repo, revision, previous: inv(['a', 'b', 'c', 'd']), next: inv(['a', 'b', 'd']), client: f.client, jobs: f.jobs, metrics: f.metrics, events: f.events });
  t.same(pruned.failed?.ready, { status: 'False', reason: 'PruneFailed', message: 'c: trainingjobs.ml.example.com "c" is forbidden' });
  t.equal(pruned.failed?.error, refused, 'the error the reconcile rethrows after its status write');
  t.same(pruned.inventory, inv(['a', 'b', 'c', 'd']), 'c stays in the inventory, so the next sync deletes it again');
  t.same(f.recorded, ['Warning PruneFailed: c: trainingjobs.ml.example.com "c" is forbidden']);

  const gone = fakes({ c: new ApiException(404, 'Not Found', {}, {}) });
  const quiet = await pruneStep({ repo, revision, previous: inv(['a', 'b', 'c', 'd']), next: inv(['a', 'b', 'd']), client: gone.client, jobs: gone.jobs, metrics: gone.metrics, events: gone.events });
  t.same(quiet, { inventory: inv(['a', 'b', 'd']), deleted: [] }, 'already gone (404) is not a failure');
});

t.test('the status write sends only what changed, and remembers what it wrote', async (t) => {
  const f = fakes();
  const written = new Map<string, NonNullable<JobRepository['status']>>();
  const before: JobRepository = { ...repo, status: { lastFetchedRevision: 'old', lastAppliedRevision: 'old', inventory: ['a a.yaml'], errors: [] } };
  await writeStatus({ client: f.client, clock: systemClock, written }, before, { ready: { status: 'False', reason: 'PruneFailed', message: 'c: no' }, fields: { lastFetchedRevision: revision, lastAppliedRevision: 'old' } });
  t.match(f.patches, [{ status: { lastFetchedRevision: revision, conditions: [{ type: 'Ready', status: 'False', reason: 'PruneFailed', message: 'c: no', observedGeneration: 2 }] } }]);
  t.notOk('inventory' in (f.patches[0] as { status: object }).status, 'an unchanged field is not sent');
  t.equal(written.get('u1')?.lastFetchedRevision, revision);
  await writeStatus({ client: f.client, clock: systemClock, written }, { ...before, status: written.get('u1')! }, { ready: { status: 'False', reason: 'PruneFailed', message: 'c: no' }, fields: { lastFetchedRevision: revision } });
  t.equal(f.patches.length, 1, 'the same status again is not written');
});
