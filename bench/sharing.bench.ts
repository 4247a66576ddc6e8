// GPU sharing on a trace-driven day (bench/sharing-sim.ts): 16 nodes × 8 GPUs, 4 teams of quota 32, the same
// seeded trace decided by the product's queue core, with static quotas (the anchor) and with the teams in
// two cohorts; then how fast the queue decides with 1,000 jobs pending in one namespace.
import { QUEUED_ANNOTATION, type TrainingJob, type TrainingPolicy } from '../api/index.ts';
import { nextToStart, queuePlace, startPlan, type QueueFacts } from '../controller/queue/queue-place.ts';
import { CLASSES, dayTrace, simulate, type Outcome, type Scenario } from './sharing-sim.ts';
import { summarize } from './stats.ts';
import type { Suite } from './run.ts';

const seeds = (process.env.BENCH_SHARING_SEEDS ?? '1,2,3').split(',').map(Number);
const load = Number(process.env.BENCH_SHARING_LOAD ?? 1.1);
const teams = ['team-1', 'team-2', 'team-3', 'team-4'];
const base: Scenario = { nodes: 16, gpusPerNode: 8, teams, quota: 32 };
const cohorts: Scenario = { ...base, cohorts: { 'team-1': 'research', 'team-2': 'research', 'team-3': 'product', 'team-4': 'product' } };
const backfill: Scenario = { ...cohorts, backfillSeconds: 1800 };
// What the cohort boundary costs: the four teams lending to one another.
const pooled: Scenario = { ...base, cohorts: Object.fromEntries(teams.map((t) => [t, 'all'])), backfillSeconds: 1800 };
const min = (s: number): string => `${(s / 60).toFixed(1)} min`;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

function row(what: string, o: Outcome, anchor?: Outcome): string {
  const w = (p: 'high' | 'low') => `${min(mean(o.waits[p]))} / ${min(summarize(o.waits[p]).p95)}`;
  const util = `${(o.utilisation * 100).toFixed(1)}%${anchor ? ` (${(o.utilisation / anchor.utilisation).toFixed(2)}×)` : ''}`;
  const preempted = Object.entries(o.preemptions).map(([k, v]) => `${v} ${k}`).join(', ') || '0';
  return `| ${what} | ${util} | ${w('high')} | ${w('low')} | ${min(o.maxWait)} | ${preempted} | ${o.lostGpuHours.toFixed(1)} | ${o.unfinished} | ${Math.round(o.decisions / (o.decisionMs / 1000)).toLocaleString('en-US')} |`;
}

/** Queue decisions with `pending` jobs queued in one namespace: each reconcile of a queued job computes its place, the head also its start plan. */
function decisionRate(pending: number): { placesPerSecond: number; headsPerSecond: number } {
  const policy: TrainingPolicy = { metadata: { name: 'team' }, spec: { gpuQuota: 32, overQuota: 'Queue', preemption: { withinNamespace: 'LowerPriority' } } };
  const jobs: TrainingJob[] = [];
  for (let i = 0; i < 8; i++) jobs.push({ metadata: { name: `run-${i}`, namespace: 'team', creationTimestamp: new Date(1000 * i).toISOString() }, spec: { image: 'x', numWorkers: 2, gpusPerWorker: 2, priorityClassName: 'low' }, status: { state: 'Running' } });
  for (let i = 0; i < pending; i++) jobs.push({ metadata: { name: `q-${i}`, namespace: 'team', creationTimestamp: new Date(10_000 + 1000 * i).toISOString(), annotations: { [QUEUED_ANNOTATION]: 'over quota' } }, spec: { image: 'x', numWorkers: 4, gpusPerWorker: 2, suspend: true, priorityClassName: i % 5 ? 'low' : 'high' }, status: { state: 'Queued' } });
  const facts: QueueFacts = { jobs, policies: [policy], classes: CLASSES };
  const queued = jobs.filter((j) => j.spec.suspend);
  const now = Date.now();
  let t0 = performance.now();
  for (const j of queued) queuePlace(j, facts, now);
  const places = queued.length / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  const rounds = 200;
  for (let r = 0; r < rounds; r++) startPlan(nextToStart(facts, now)!, facts, now);
  return { placesPerSecond: places, headsPerSecond: rounds / ((performance.now() - t0) / 1000) };
}

export const sharingSuite: Suite = {
  name: 'sharing',
  async run() {
    const rows: string[] = [];
    const ratios: number[] = [];
    const lost: number[] = [];
    const filled: number[] = [];
    const pooledRatios: number[] = [];
    for (const seed of seeds) {
      const trace = dayTrace(base, load, seed);
      process.stderr.write(`  seed ${seed}: ${trace.length} jobs\n`);
      const anchor = simulate(base, trace);
      const shared = simulate(cohorts, trace);
      const blind = simulate(cohorts, trace, { checkpointBlind: true });
      const backfilled = simulate(backfill, trace);
      const one = simulate(pooled, trace);
      pooledRatios.push(one.utilisation / anchor.utilisation);
      ratios.push(shared.utilisation / anchor.utilisation);
      filled.push(backfilled.utilisation / anchor.utilisation);
      lost.push(shared.lostGpuHours / blind.lostGpuHours);
      rows.push(
        row(`seed ${seed}, ${trace.length.toLocaleString('en-US')} jobs: static quotas`, anchor),
        row(`seed ${seed}: two cohorts`, shared, anchor),
        row(`seed ${seed}: two cohorts, checkpoint-blind victims`, blind, anchor),
        row(`seed ${seed}: two cohorts, \`backfillSeconds: 1800\``, backfilled, anchor),
        row(`seed ${seed}: one cohort of all four teams, \`backfillSeconds: 1800\``, one, anchor),
      );
    }
    // Warm the JIT, then measure.
    decisionRate(100);
    const d = decisionRate(1000);
    return [
      '### GPU sharing: a simulated day, decided by the queue core',
      '',
      `16 nodes × 8 GPUs; 4 teams with \`gpuQuota: 32\`, \`overQuota: Queue\` and \`preemption.withinNamespace: LowerPriority\`; offered load ${load}× the cluster over the day, each team's arrivals on a daily cycle (the two teams of a cohort out of phase); jobs of 1–4 workers × 1–8 GPUs, 10 min median training (lognormal, 1 min – 6 h), checkpoints every 5–30 min, 20% high priority. The same seeded trace is decided five times by the product's own functions (\`capacityViolations\` and \`queueAheadMessage\` as the webhook admits, \`startingJob\` (\`nextToStart\`/\`startPlan\`) as the leader starts, only where every worker fits a node, \`chooseVictims\`, \`reclaimVictims\`) on a simulated clock: **static quotas** (the anchor) and the teams in **two cohorts** (\`research\`: team-1, team-2; \`product\`: team-3, team-4; no borrowing or lending limit), once more with **checkpoint-blind victims**: the leader never learns checkpoint times, so victims go by priority and then the most recently started, Kueue's order; and once more with **backfill** (\`backfillSeconds: 1800\`, \`startingJob\`): while a first in line cannot start (quota, cohort or nodes) and cannot preempt its way in, the first job behind it that fits starts first, for up to 30 minutes of its wait; and a fifth time with the four teams in **one cohort**, with backfill, to show what the boundary between the two cohorts costs. Utilisation is over the day; waits are until the first start, for jobs arriving during the day; a preempted job loses the work since its last checkpoint.`,
      '',
      '| run | GPU utilisation | wait high: mean / p95 | wait low: mean / p95 | longest wait | preemptions | GPU-h lost | unfinished | decisions/s |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Cohorts over static quotas: utilisation ${ratios.map((r) => `${r.toFixed(2)}×`).join(', ')} (seeds ${seeds.join(', ')}). GPU-hours lost to preemption, checkpoint-aware over checkpoint-blind victim choice: ${lost.map((x) => `${x.toFixed(2)}×`).join(', ')}. Cohorts with backfill over static quotas: ${filled.map((r) => `${r.toFixed(2)}×`).join(', ')}; one cohort with backfill: ${pooledRatios.map((r) => `${r.toFixed(2)}×`).join(', ')}.`,
      '',
      `Queue decisions with 1,000 jobs pending in one namespace: ${Math.round(d.placesPerSecond).toLocaleString('en-US')} queue places/s (\`queuePlace\`, what each queued job's reconcile computes) and ${Math.round(d.headsPerSecond).toLocaleString('en-US')} start decisions/s (\`nextToStart\` + \`startPlan\`).`,
      '',
    ].join('\n');
  },
};
