// Warm start of the local control plane (binaries already cached): start → ready, side by side
// for the API-only tier and the full tier with controller-manager, scheduler and kwok nodes.
import { startControlPlane } from '../localcluster/controlplane.ts';
import { fmt, summarize } from './stats.ts';
import type { Suite } from './run.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);

async function timeStart(workloads: boolean): Promise<number> {
  const t0 = performance.now();
  const cp = await startControlPlane({ workloads });
  const ms = performance.now() - t0;
  await cp.stop();
  return ms;
}

export const controlPlaneSuite: Suite = {
  name: 'controlplane',
  async run() {
    await timeStart(false); // warm the page cache so round 1 is not an outlier
    const api: number[] = [];
    const full: number[] = [];
    // Interleaved, so drift on a noisy machine hits both tiers alike.
    for (let i = 0; i < rounds; i++) {
      api.push(await timeStart(false));
      full.push(await timeStart(true));
    }
    const a = summarize(api);
    const f = summarize(full);
    return [
      `### Warm control-plane start → ready (${rounds} rounds, interleaved)`,
      '',
      '| tier | min | median | p95 | max |',
      '|---|---|---|---|---|',
      `| etcd + kube-apiserver (/readyz 200) | ${fmt(a.min)} | ${fmt(a.median)} | ${fmt(a.p95)} | ${fmt(a.max)} |`,
      `| + controller-manager, scheduler, kwok, 2 GPU nodes Ready | ${fmt(f.min)} | ${fmt(f.median)} | ${fmt(f.p95)} | ${fmt(f.max)} |`,
      '',
      `Full tier / API tier (median): ${(f.median / a.median).toFixed(2)}×.`,
      '',
    ].join('\n');
  },
};
