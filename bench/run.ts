// `npm run bench [suite...]`: runs the named benchmark suites (all by default) and prints a
// Markdown section to paste into BENCHMARKS.md, headed with date, machine and command.
import { cpus, totalmem } from 'node:os';
import { controlPlaneSuite } from './controlplane.bench.ts';
import { coldBuildSuite } from './build.bench.ts';
import { admissionSuite } from './admission.bench.ts';
import { apiserverCreateSuite } from './apiserver-create.bench.ts';
import { controllerScaleSuite } from './controller-scale.bench.ts';
import { gitsyncSuite } from './gitsync.bench.ts';
import { conversionSuite } from './conversion.bench.ts';
import { leaderElectionSuite } from './leader-election.bench.ts';
import { validateSuite } from './validate.bench.ts';
import { badInputSuite } from './bad-input.bench.ts';
import { realNodeSuite } from './realnode.bench.ts';
import { trainingSuite } from './training.bench.ts';
import { sharingSuite } from './sharing.bench.ts';
import { argoCdSuite } from './argocd.bench.ts';
import { queueAdmissionSuite } from './queue-admission.bench.ts';

export interface Suite {
  name: string;
  /** Skipped unless named explicitly (e.g. it takes many minutes). */
  explicitOnly?: boolean;
  run(): Promise<string>;
}

const suites: Suite[] = [controlPlaneSuite, conversionSuite, admissionSuite, apiserverCreateSuite, controllerScaleSuite, gitsyncSuite, leaderElectionSuite, validateSuite, badInputSuite, sharingSuite, realNodeSuite, trainingSuite, argoCdSuite, queueAdmissionSuite, coldBuildSuite];
const asked = process.argv.slice(2);
const chosen = asked.length ? suites.filter((s) => asked.includes(s.name)) : suites.filter((s) => !s.explicitOnly);
if (asked.length && chosen.length !== asked.length) {
  process.stderr.write(`unknown suite; available: ${suites.map((s) => s.name).join(', ')}\n`);
  process.exit(2);
}
const header = [
  `## ${new Date().toISOString().slice(0, 10)} — \`npm run bench${asked.length ? ` -- ${asked.join(' ')}` : ''}\``,
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
  '',
];
process.stdout.write(header.join('\n'));
for (const s of suites.filter((x) => !chosen.includes(x) && x.explicitOnly && !asked.length)) {
  process.stdout.write(`(suite ${s.name} not run: it runs only when named, e.g. \`npm run bench -- ${s.name}\`)\n\n`);
}
for (const s of chosen) {
  process.stderr.write(`running ${s.name}\n`);
  process.stdout.write(`${await s.run()}\n`);
}
