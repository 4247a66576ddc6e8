// Policies, namespaces and ResourceQuotas are reused for the TTL (concurrent misses share one read);
// job lists are never cached here; a failed read is not kept.
import t from 'tap';
import { cachedFacts } from '../../webhook/cached-facts.ts';
import type { ClusterFacts } from '../../webhook/cluster-facts.ts';

t.test('reads within the TTL are shared; after it, read again; failures are not cached', async (t) => {
  const reads: string[] = [];
  let failQuota = false;
  const facts: ClusterFacts = {
    namespace: async (name) => (reads.push(`ns/${name}`), { name, labels: {} }),
    policies: async () => (reads.push('policies'), []),
    jobs: async (ns) => (reads.push(`jobs/${ns}`), { items: [], resourceVersion: '1' }),
    resourceQuotas: async (ns) => {
      reads.push(`rq/${ns}`);
      if (failQuota) throw new Error('apiserver down');
      return [{ name: 'gpus', hard: { 'requests.nvidia.com/gpu': '8' }, used: {} }];
    },
  };
  let clock = 0;
  const c = cachedFacts(facts, 2000, () => clock);
  await Promise.all([c.resourceQuotas('a'), c.resourceQuotas('a'), c.policies(), c.policies(), c.namespace('a'), c.jobs('a'), c.jobs('a')]);
  t.same(reads.sort(), ['jobs/a', 'jobs/a', 'ns/a', 'policies', 'rq/a'], 'one read each, but jobs every time');
  reads.length = 0;
  await c.resourceQuotas('b');
  clock = 1999;
  await c.resourceQuotas('a');
  t.same(reads, ['rq/b'], 'per namespace, and reused within the TTL');
  clock = 2000;
  failQuota = true;
  await t.rejects(c.resourceQuotas('a'), /apiserver down/);
  failQuota = false;
  await c.resourceQuotas('a');
  t.same(reads, ['rq/b', 'rq/a', 'rq/a'], 'expired: read again; the failure was not kept');
});
