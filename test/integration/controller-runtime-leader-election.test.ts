// Leader election on a real Lease: one leader among managers, a graceful handover at once, a
// partitioned leader replaced within leaseDuration + retryPeriod, and a 409 never makes two leaders.
import t from 'tap';
import { pino } from 'pino';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { controlPlaneFor, eventually } from '../harness/tap.ts';
import { startTcpProxy, viaServer } from '../harness/tcp-proxy.ts';
import { createManager, LeadershipLostError, watchOf, type Manager } from '../../controller/runtime/manager.ts';
import { startLeaderElection, microTime, type Lease, type LeaderElection } from '../../controller/runtime/leader-election.ts';
import { requestJson, statusCode } from '../../kube/json-request.ts';
import { systemClock, type Clock } from '../../clock/clock.ts';

const cp = await controlPlaneFor(t);
const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const core = cp.kubeConfig().makeApiClient(CoreV1Api);
const NS = 'kube-system';

const leasePath = (name: string): string => `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/${name}`;
const readLease = (name: string): Promise<Lease> => requestJson<Lease>(cp.kubeConfig(), { path: leasePath(name) });

/** Samples who leads every 10 ms; counts moments when more than one does. */
function watchLeaders(isLeader: Array<() => boolean>): { overlaps: () => number; stop: () => void } {
  let overlaps = 0;
  const timer = setInterval(() => {
    if (isLeader.filter((f) => f()).length > 1) overlaps++;
  }, 10);
  return { overlaps: () => overlaps, stop: () => clearInterval(timer) };
}


interface Replica { mgr: Manager; ctrl: AbortController; running: Promise<void>; reconciles: string[] }

function replica(name: string, lease: string, kubeConfig: KubeConfig, timings: { leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number } = {}): Replica {
  const mgr = createManager({ kubeConfig, logger: logger.child({ replica: name }), leaderElection: { namespace: NS, name: lease, identity: name, ...timings } });
  const reconciles: string[] = [];
  const cms = mgr.informer({ version: 'v1', plural: 'configmaps', namespace: 'default' });
  mgr.addController({ name: 'probe', watches: [watchOf(cms)], reconcile: async (key) => void reconciles.push(key) });
  const ctrl = new AbortController();
  const running = mgr.start(ctrl.signal);
  running.catch(() => undefined);
  return { mgr, ctrl, running, reconciles };
}

t.test('two managers: one leads and only its workers run; a graceful stop hands over at once', async (t) => {
  const a = replica('replica-a', 'graceful', cp.kubeConfig());
  t.ok(await eventually(async () => (a.mgr.isLeader() ? true : undefined), 15_000, 20), 'first replica leads');
  const b = replica('replica-b', 'graceful', cp.kubeConfig());
  const sampler = watchLeaders([() => a.mgr.isLeader(), () => b.mgr.isLeader()]);
  t.teardown(() => sampler.stop());
  await eventually(async () => (b.mgr.hasSynced() ? true : undefined), 15_000, 20);
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'probe-1' } } });
  t.ok(await eventually(async () => (a.reconciles.includes('default/probe-1') ? true : undefined), 10_000, 20), 'the leader reconciles');
  await new Promise((r) => setTimeout(r, 2500));
  t.equal(b.mgr.isLeader(), false, 'the standby does not lead');
  t.same(b.reconciles, [], 'the standby never reconciled');
  t.equal((await readLease('graceful')).spec?.holderIdentity, 'replica-a', 'the lease names the leader');

  const stoppedAt = Date.now();
  a.ctrl.abort();
  await a.running;
  const released = Date.now();
  const holder = (await readLease('graceful')).spec?.holderIdentity;
  t.ok(holder === '' || holder === 'replica-b', `the lease was released on stop (holder now ${JSON.stringify(holder)})`);
  // Within 5 s of a 15 s lease: taken because it was released, not because it expired.
  t.ok(await eventually(async () => (b.mgr.isLeader() ? true : undefined), 5000, 5), 'the standby leads well before the lease could expire');
  const handover = Date.now() - released;
  t.comment(`graceful: leader stopped in ${released - stoppedAt} ms; standby leading ${handover} ms after release`);
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'probe-2' } } });
  t.ok(await eventually(async () => (b.reconciles.includes('default/probe-2') ? true : undefined), 10_000, 20), 'the new leader reconciles');
  const lease = await readLease('graceful');
  t.equal(lease.spec?.holderIdentity, 'replica-b');
  t.equal(lease.spec?.leaseTransitions, 1, 'leaseTransitions counts the takeover');
  t.equal(sampler.overlaps(), 0, 'never two leaders at once');
  b.ctrl.abort();
  await b.running;
});

t.test('a leader cut off from the apiserver stops leading; the standby takes over within leaseDuration + retryPeriod', async (t) => {
  const apiPort = Number(new URL(cp.server).port);
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: apiPort });
  t.teardown(() => proxy.close());
  const a = replica('cut-a', 'partition', viaServer(cp.kubeConfig(), `https://127.0.0.1:${proxy.port}`));
  t.ok(await eventually(async () => (a.mgr.isLeader() ? true : undefined), 15_000, 20), 'replica behind the proxy leads');
  const b = replica('cut-b', 'partition', cp.kubeConfig());
  await eventually(async () => (b.mgr.hasSynced() ? true : undefined), 15_000, 20);
  const sampler = watchLeaders([() => a.mgr.isLeader(), () => b.mgr.isLeader()]);
  t.teardown(() => sampler.stop());
  await new Promise((r) => setTimeout(r, 2500));
  t.equal(b.mgr.isLeader(), false, 'the standby waits');

  const cutAt = Date.now();
  await proxy.close();
  await t.rejects(a.running, LeadershipLostError, 'start() rejects: the process must exit');
  const aGaveUp = Date.now() - cutAt;
  t.ok(await eventually(async () => (b.mgr.isLeader() ? true : undefined), 25_000, 10), 'standby leads');
  const takeover = Date.now() - cutAt;
  t.comment(`partition: old leader stopped after ${aGaveUp} ms (renewDeadline 10000); standby leading after ${takeover} ms (leaseDuration 15000 + retry 2000)`);
  t.ok(aGaveUp <= 10_000 + 2_500, 'the cut-off leader gives up within renewDeadline (+ one retry)');
  t.ok(takeover <= 15_000 + 2_000 * 1.2 + 1_000, `takeover within leaseDuration + retryPeriod (${takeover} ms)`);
  t.ok(takeover > aGaveUp, 'the old leader had stopped before the new one started');
  t.equal(sampler.overlaps(), 0, 'never two leaders at once');
  b.ctrl.abort();
  await b.running;
});

t.test('a 409 on renew: a foreign write to our lease keeps us leading; a takeover stops us, and never two leaders', async (t) => {
  const timings = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };
  const events: string[] = [];
  const elector = (identity: string, clock: Clock = systemClock): LeaderElection =>
    startLeaderElection({
      kubeConfig: cp.kubeConfig(), namespace: NS, name: 'conflict', identity, ...timings, logger, clock,
      onStartedLeading: () => events.push(`${identity} started`),
      onStoppedLeading: () => events.push(`${identity} stopped`),
    });
  const a = elector('el-a');
  t.ok(await eventually(async () => (a.isLeader() ? true : undefined), 10_000, 20), 'a leads');
  // b's clock counts the retries it schedules, so "b does not lead" is known to follow attempts.
  let bRetries = 0;
  const b = elector('el-b', { ...systemClock, setTimer: (fn, ms) => (bRetries++, systemClock.setTimer(fn, ms)) });
  const sampler = watchLeaders([() => a.isLeader(), () => b.isLeader()]);
  t.teardown(() => sampler.stop());

  // Someone else touches the lease (bumps resourceVersion) but leaves us the holder: our cached renew gets 409.
  const touched = await readLease('conflict');
  await requestJson(cp.kubeConfig(), { method: 'PUT', path: leasePath('conflict'), body: { ...touched, metadata: { ...touched.metadata, annotations: { touched: 'yes' } } } });
  // a's next renewal meets the 409; "still leading" means something only once it has renewed since.
  const touchedAt = new Date(String(touched.spec?.renewTime)).getTime();
  t.ok(await eventually(async () => {
    const l = await readLease('conflict');
    return l.spec?.holderIdentity === 'el-a' && new Date(String(l.spec?.renewTime)).getTime() > touchedAt ? true : undefined;
  }, 10_000, 50), 'a renewed the lease after the conflicting write');
  t.ok(a.isLeader(), 'still leading after a 409 from a harmless write');
  t.same(events, ['el-a started'], 'no leadership flap');

  // An intruder takes the lease and keeps renewing it: a's renew gets 409 and a must stop; b must wait.
  // The intruder races a's renewals like any client would: on a 409 it reads again and retries.
  const intrude = async (): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      const cur = await readLease('conflict');
      const now = Date.now();
      try {
        await requestJson(cp.kubeConfig(), {
          method: 'PUT', path: leasePath('conflict'),
          body: { ...cur, spec: { ...cur.spec, holderIdentity: 'intruder', renewTime: microTime(now), acquireTime: microTime(now), leaseDurationSeconds: 4, leaseTransitions: (cur.spec?.leaseTransitions ?? 0) + 1 } },
        });
        return;
      } catch (err) {
        if (statusCode(err) !== 409 || attempt >= 20) throw err;
      }
    }
  };
  await intrude();
  t.ok(await eventually(async () => (a.isLeader() ? undefined : true), 3000, 10), 'a stops leading once the lease belongs to someone else');
  t.equal(await a.done, 'lost', 'the election ends as lost, so the caller exits');
  const renewer = setInterval(() => void intrude().catch(() => undefined), 500);
  const retriesBefore = bRetries;
  await new Promise((r) => setTimeout(r, 5000));
  t.ok(bRetries - retriesBefore >= 3, `b kept trying meanwhile (${bRetries - retriesBefore} retries scheduled)`);
  t.equal(b.isLeader(), false, 'b does not take a lease that is being renewed');
  clearInterval(renewer);
  const stoppedRenewing = Date.now();
  t.ok(await eventually(async () => (b.isLeader() ? true : undefined), 10_000, 10), 'b takes over once the intruder stops renewing');
  t.comment(`b leading ${Date.now() - stoppedRenewing} ms after the intruder's last renewal (leaseDuration 4000)`);
  t.equal(sampler.overlaps(), 0, 'never two leaders at once');
  t.equal((await readLease('conflict')).spec?.holderIdentity, 'el-b', 'the lease names b');
  await a.stop();
  await b.stop();
  t.equal((await readLease('conflict')).spec?.holderIdentity, '', 'stop releases the lease');
});
