// `trainingjob validate` as a person or a CI step runs it: a process per call, over one 50,000-line file of
// 2,500 jobs and over a folder of 500 one-job files. The anchor, in the same run: the same CLI printing
// `--help`, which pays the start-up (Node, module loading) and nothing else.
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Suite } from './run.ts';
import { summarize } from './stats.ts';

const rounds = Number(process.env.BENCH_VALIDATE_ROUNDS ?? 5);
const run = promisify(execFile);
const ms = (x: number): string => `${Math.round(x)} ms`;

const job = (i: number, gpus = 1): string =>
  `apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata:\n  name: job-${i}\n  namespace: ns-${i % 50}\nspec:\n  model: resnet50\n  numWorkers: 2\n  gpusPerWorker: ${gpus}\n  tolerations:\n    - key: nvidia.com/gpu\n      operator: Exists\n      effect: NoSchedule\n  hyperparameters:\n    learningRate: 0.001\n    batchSize: 32\n    epochs: 10\n  nodeSelector:\n    pool: a100\n`;

async function timed(args: string[]): Promise<number> {
  const t0 = performance.now();
  // validate exits 1 when it finds an invalid job: that is its answer here, not a failure.
  await run(process.execPath, ['bin/trainingjob.js', ...args], { maxBuffer: 64 * 2 ** 20 }).catch((err: { code?: number }) => {
    if (err.code !== 1) throw err;
  });
  return performance.now() - t0;
}

export const validateSuite: Suite = {
  name: 'validate',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'tj-bench-validate-'));
    try {
      const big = join(dir, 'big.yaml');
      // One bad job in the middle, so the whole file is judged and one line is named.
      writeFileSync(big, Array.from({ length: 2500 }, (_, i) => job(i, i === 2000 ? 13 : 1)).join('---\n'));
      const folder = join(dir, 'jobs');
      mkdirSync(folder);
      for (let i = 0; i < 500; i++) writeFileSync(join(folder, `job-${i}.yaml`), job(i));
      const policy = ['--policy', 'policies/examples'];
      const rows = { help: [] as number[], big: [] as number[], folder: [] as number[] };
      await timed(['--help']); // warm the page cache
      // Interleaved, so drift in machine load hits every row alike.
      for (let r = 0; r < rounds; r++) {
        rows.help.push(await timed(['--help']));
        rows.big.push(await timed(['validate', '-f', big, ...policy]));
        rows.folder.push(await timed(['validate', '-f', folder, ...policy]));
        process.stderr.write(`  round ${r + 1}/${rounds}\n`);
      }
      const help = summarize(rows.help);
      const line = (what: string, xs: number[], jobs: number): string => {
        const s = summarize(xs);
        const work = Math.max(0, s.median - help.median);
        return `| ${what} | ${ms(s.min)} | **${ms(s.median)}** | ${ms(s.max)} | ${(s.median / help.median).toFixed(1)}× | ${jobs ? `${Math.round((jobs / work) * 1000).toLocaleString('en-US')} jobs/s` : '—'} |`;
      };
      return [
        '### `trainingjob validate`, a process per call',
        '',
        `${rounds} interleaved rounds; the example TrainingPolicies (\`--policy policies/examples\`). Jobs/s counts the time beyond start-up (median minus the \`--help\` median).`,
        '',
        '| call | min | median | max | vs start-up | jobs/s beyond start-up |',
        '|---|---|---|---|---|---|',
        line('`trainingjob --help` (anchor: start-up only)', rows.help, 0),
        line('one file, 2,500 jobs, 50,000 lines (one invalid)', rows.big, 2500),
        line('a folder of 500 one-job files', rows.folder, 500),
        '',
      ].join('\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
