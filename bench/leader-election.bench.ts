// Leader election on a real Lease with the controller's default timings: how long a graceful stop leaves the
// controllers without a leader (stop → the standby leads), and a crash (the leader stops renewing without
// releasing) → the standby leads. The anchor, measured in the same run, is one Lease read: no handover can be
// quicker than the standby seeing the release.
import { pino } from 'pino';
import { createManager, type Manager } from '../controller/runtime/manager.ts';
import { DEFAULT_LEASE_DURATION_MS, DEFAULT_RETRY_PERIOD_MS, microTime } from '../controller/runtime/leader-election.ts';
import { createKubeClient } from '../kube/index.ts';
import { startControlPlane } from '../localcluster/controlplane.ts';
import type { Suite } from './run.ts';
import { summarize } from './stats.ts';

const rounds = Number(process.env.BENCH_LEADER_ROUNDS ?? 10);
const crashRounds = Number(process.env.BENCH_LEADER_CRASH_ROUNDS ?? 3);
const NS = 'kube-system';
const logger = pino({ level: 'silent' });
const ms = (x: number): string => `${x.toFixed(x < 10 ? 1 : 0)} ms`;

async function until(cond: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return performance.now() - t0;
}

interface Replica { mgr: Manager; stop: () => Promise<void> }

function replica(kubeConfig: Parameters<typeof createManager>[0]['kubeConfig'], lease: string, identity: string): Replica {
  const mgr = createManager({ kubeConfig, logger, leaderElection: { namespace: NS, name: lease, identity } });
  // A controller with an informer, as the real manager has: its caches must sync before it stands by.
  mgr.addController({ name: 'probe', watches: [{ informer: mgr.informer({ version: 'v1', plural: 'configmaps', namespace: 'default' }) }], reconcile: async () => undefined });
  const ctrl = new AbortController();
  const running = mgr.start(ctrl.signal).catch(() => undefined);
  return { mgr, stop: async () => { ctrl.abort(); await running; } };
}

export const leaderElectionSuite: Suite = {
  name: 'leader-election',
  async run() {
    const cp = await startControlPlane({ progress: (m) => process.stderr.write(`  ${m}\n`) });
    try {
      const kubeConfig = cp.kubeConfig();
      const client = createKubeClient({ kubeConfig });
      const graceful: number[] = [];
      const reads: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const lease = `bench-graceful-${r}`;
        const a = replica(kubeConfig, lease, 'a');
        await until(() => a.mgr.isLeader(), 30_000);
        const b = replica(kubeConfig, lease, 'b');
        await until(() => b.mgr.hasSynced(), 30_000);
        // The anchor, interleaved with the measure: one Lease read by the same client kind.
        const t0 = performance.now();
        await client.get({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: NS, name: lease });
        reads.push(performance.now() - t0);
        const stopped = performance.now();
        const aStopped = a.stop();
        await until(() => b.mgr.isLeader(), 30_000);
        graceful.push(performance.now() - stopped);
        await aStopped;
        await b.stop();
        process.stderr.write(`  graceful round ${r + 1}/${rounds}: ${ms(graceful.at(-1)!)}\n`);
      }
      const crash: number[] = [];
      for (let r = 0; r < crashRounds; r++) {
        const lease = `bench-crash-${r}`;
        // The Lease a killed leader leaves behind: held, just renewed, and never renewed again.
        const crashed = performance.now();
        await client.create({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: NS }, {
          metadata: { name: lease, namespace: NS },
          spec: { holderIdentity: 'crashed', leaseDurationSeconds: DEFAULT_LEASE_DURATION_MS / 1000, acquireTime: microTime(Date.now()), renewTime: microTime(Date.now()), leaseTransitions: 0 },
        });
        const b = replica(kubeConfig, lease, 'b');
        await until(() => b.mgr.isLeader(), 60_000);
        crash.push(performance.now() - crashed);
        await b.stop();
        process.stderr.write(`  crash round ${r + 1}/${crashRounds}: ${ms(crash.at(-1)!)}\n`);
      }
      const g = summarize(graceful);
      const a = summarize(reads);
      const c = summarize(crash);
      return [
        '### Leader election on a real Lease (default timings)',
        '',
        `Two managers (each with a ConfigMap informer and controller) per round on etcd + kube-apiserver; lease ${DEFAULT_LEASE_DURATION_MS / 1000} s, retry ${DEFAULT_RETRY_PERIOD_MS / 1000} s, the standby watching the Lease. ${rounds} graceful rounds (the leader's manager is stopped: it releases the Lease), ${crashRounds} crash rounds (a Lease held by a leader that never renews again, as a killed process leaves it; timed from its write).`,
        '',
        '| measure | rounds | min | median | p95 | max | median vs one Lease read |',
        '|---|---|---|---|---|---|---|',
        `| graceful stop → standby leads | ${g.n} | ${ms(g.min)} | **${ms(g.median)}** | ${ms(g.p95)} | ${ms(g.max)} | ${(g.median / a.median).toFixed(1)}× |`,
        `| crash → standby leads (bounded by the lease, ${DEFAULT_LEASE_DURATION_MS / 1000} s, + a retry) | ${c.n} | ${ms(c.min)} | **${ms(c.median)}** | ${ms(c.p95)} | ${ms(c.max)} | — |`,
        `| one Lease read (anchor) | ${a.n} | ${ms(a.min)} | ${ms(a.median)} | ${ms(a.p95)} | ${ms(a.max)} | 1.0× |`,
        '',
      ].join('\n');
    } finally {
      await cp.stop();
    }
  },
};
