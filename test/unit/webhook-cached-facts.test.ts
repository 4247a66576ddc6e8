// Policies, namespaces and ResourceQuotas are reused for the TTL (concurrent misses share one read),
// re-read in the background past half the TTL so no review waits; job lists are never cached here;
// a failed read is not kept.
import t from 'tap';
import { cachedFacts } from '../../webhook/cached-facts.ts';
import type { ClusterFacts } from '../../webhook/cluster-facts.ts';

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

function countingFacts(): { facts: ClusterFacts; reads: string[]; quota: { fail: boolean; hard: string } } {
  const reads: string[] = [];
  const quota = { fail: false, hard: '8' };
  const facts: ClusterFacts = {
    namespace: async (name) => (reads.push(`ns/${name}`), { name, labels: {} }),
    policies: async () => (reads.push('policies'), []),
    jobs: async (ns) => (reads.push(`jobs/${ns}`), { items: [], resourceVersion: '1' }),
    resourceQuotas: async (ns) => {
      reads.push(`rq/${ns}`);
      if (quota.fail) throw new Error('apiserver down');
      return [{ name: 'gpus', hard: { 'requests.nvidia.com/gpu': quota.hard }, used: {} }];
    },
    priorityClasses: async () => (reads.push('priorityclasses'), [{ name: 'high', value: 1000 }]),
    namespaces: async () => (reads.push('namespaces'), []),
    nodes: async () => [],
  };
  return { facts, reads, quota };
}

t.test('reads within the TTL are shared; after it, read again; failures are not cached', async (t) => {
  const { facts, reads, quota } = countingFacts();
  let clock = 0;
  const c = cachedFacts(facts, 2000, { now: () => clock });
  await Promise.all([c.resourceQuotas('a'), c.resourceQuotas('a'), c.policies(), c.policies(), c.namespace('a'), c.jobs('a'), c.jobs('a')]);
  t.same(reads.sort(), ['jobs/a', 'jobs/a', 'ns/a', 'policies', 'rq/a'], 'one read each, but jobs every time');
  reads.length = 0;
  await c.resourceQuotas('b');
  clock = 999;
  await c.resourceQuotas('a');
  t.same(reads, ['rq/b'], 'per namespace, and reused within the TTL');
  clock = 2000;
  quota.fail = true;
  await t.rejects(c.resourceQuotas('a'), /apiserver down/);
  quota.fail = false;
  await c.resourceQuotas('a');
  t.same(reads, ['rq/b', 'rq/a', 'rq/a'], 'expired: read again; the failure was not kept');
});

t.test('past half the TTL the cached value is served while a background read refreshes it', async (t) => {
  const { facts, reads, quota } = countingFacts();
  let clock = 0;
  const c = cachedFacts(facts, 2000, { now: () => clock });
  await c.resourceQuotas('a');
  quota.hard = '16';
  clock = 1000;
  const [first, second] = await Promise.all([c.resourceQuotas('a'), c.resourceQuotas('a')]);
  t.equal(first[0]?.hard['requests.nvidia.com/gpu'], '8', 'the cached value, without waiting');
  t.equal(second[0]?.hard['requests.nvidia.com/gpu'], '8');
  await settle();
  t.same(reads, ['rq/a', 'rq/a'], 'one background read for both');
  clock = 1900;
  t.equal((await c.resourceQuotas('a'))[0]?.hard['requests.nvidia.com/gpu'], '16', 'the refreshed value replaced the old one');
  t.same(reads, ['rq/a', 'rq/a'], 'no read: the refreshed entry is 900 ms old, counted from when its read started');
});

t.test('a failed background read keeps the cached value until it expires', async (t) => {
  const { facts, reads, quota } = countingFacts();
  let clock = 0;
  const c = cachedFacts(facts, 2000, { now: () => clock });
  await c.resourceQuotas('a');
  quota.fail = true;
  clock = 1500;
  t.equal((await c.resourceQuotas('a'))[0]?.hard['requests.nvidia.com/gpu'], '8');
  await settle();
  t.same(reads, ['rq/a', 'rq/a'], 'the background read was tried');
  clock = 2000;
  await t.rejects(c.resourceQuotas('a'), /apiserver down/, 'expired: the review reads and sees the error');
});
