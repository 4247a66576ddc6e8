// The webhook under hostile input: heap growth and time per review over thousands of fuzzed AdmissionReviews
// (bench/fuzzed-reviews.ts, the bad-input test's own), against the same number of valid reviews in the same
// run as the anchor. In-process (fastify's inject); facts (cached 2 s, as the server does) and ledger from a real apiserver.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { systemClock } from '../clock/clock.ts';
import { createKubeClient } from '../kube/index.ts';
import { installPlatform } from '../localcluster/platform.ts';
import { startControlPlane } from '../localcluster/controlplane.ts';
import { buildApp, routes } from '../webhook/app.ts';
import { cachedFacts } from '../webhook/cached-facts.ts';
import { kubeClusterFacts } from '../webhook/cluster-facts.ts';
import { keyedLock } from '../webhook/keyed-lock.ts';
import { configMapLedgerStore } from '../webhook/ledger-store.ts';
import { fuzzedReviews, type FuzzedReview } from './fuzzed-reviews.ts';
import type { Suite } from './run.ts';

const count = Number(process.env.BENCH_BAD_INPUT_N ?? 2500);
const rounds = Number(process.env.BENCH_BAD_INPUT_ROUNDS ?? 3);
const warmup = 500;

function validReviews(n: number): FuzzedReview[] {
  return Array.from({ length: n }, (_, i) => ({
    url: routes.validateTrainingJob,
    uid: `valid-${i}`,
    body: JSON.stringify({
      apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
      request: { uid: `valid-${i}`, kind: { group: 'ml.example.com', version: 'v1', kind: 'TrainingJob' }, operation: 'CREATE', namespace: 'default', object: { apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: `job-${i}`, namespace: 'default' }, spec: { model: 'bert', numWorkers: 2, gpusPerWorker: 1 } } },
    }),
  }));
}

export const badInputSuite: Suite = {
  name: 'bad-input',
  async run() {
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    const cp = await startControlPlane({ progress: (m) => process.stderr.write(`  ${m}\n`) });
    const platform = await installPlatform({ kubeConfig: cp.kubeConfig(), examplePolicies: true });
    const client = createKubeClient({ kubeConfig: cp.kubeConfig() });
    const app = buildApp({ deps: { facts: cachedFacts(kubeClusterFacts(client), 2000, systemClock), ledger: configMapLedgerStore(client, 'trainingjob-system'), clock: systemClock, lock: keyedLock() } });
    try {
      const fuzzed = fuzzedReviews(warmup + count);
      const valid = validReviews(warmup + count);
      const send = async (reviews: FuzzedReview[]): Promise<{ heapMb: number; usPerReview: number; errors: number }> => {
        gc();
        const before = process.memoryUsage().heapUsed;
        const t0 = performance.now();
        let errors = 0;
        for (const r of reviews) {
          const res = await app.inject({ method: 'POST', url: r.url, payload: r.body, headers: { 'content-type': 'application/json' } });
          if (res.statusCode >= 500) errors++;
        }
        const usPerReview = ((performance.now() - t0) / reviews.length) * 1000;
        gc();
        return { heapMb: (process.memoryUsage().heapUsed - before) / 2 ** 20, usPerReview, errors };
      };
      // Warm-up: JIT, caches, connection pools.
      await send(fuzzed.slice(0, warmup));
      await send(valid.slice(0, warmup));
      const rows: Array<{ round: number; bad: Awaited<ReturnType<typeof send>>; good: Awaited<ReturnType<typeof send>> }> = [];
      for (let r = 0; r < rounds; r++) {
        const bad = await send(fuzzed.slice(warmup));
        const good = await send(valid.slice(warmup));
        rows.push({ round: r + 1, bad, good });
        process.stderr.write(`  round ${r + 1}/${rounds}\n`);
      }
      return [
        '### The webhook under fuzzed input (in-process)',
        '',
        `${count.toLocaleString('en-US')} fuzzed reviews (the bad-input test's, seed 20261123: hostile objects in and out of an AdmissionReview envelope, over the mutate, validate, policy and convert routes) against ${count.toLocaleString('en-US')} valid creates, after ${warmup} of each as warm-up; heap measured after a full GC before and after each batch.`,
        '',
        '| round | fuzzed: heap growth | fuzzed: per review | fuzzed: 5xx | valid (anchor): heap growth | valid: per review | fuzzed vs valid, per review |',
        '|---|---|---|---|---|---|---|',
        ...rows.map(({ round, bad, good }) => `| ${round} | ${bad.heapMb.toFixed(1)} MB | ${bad.usPerReview.toFixed(0)} µs | ${bad.errors} | ${good.heapMb.toFixed(1)} MB | ${good.usPerReview.toFixed(0)} µs | ${(bad.usPerReview / good.usPerReview).toFixed(2)}× |`),
        '',
      ].join('\n');
    } finally {
      await app.close();
      await platform.stop();
      await cp.stop();
    }
  },
};
