// Counts every test of the run from tap's saved results (each file's top-level test points)
// plus the named checks given as arguments ("typecheck=pass"), and prints "N passed, N failed".
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Parser, type Result } from 'tap-parser';

const resultsDir = '.tap/test-results';

function tapFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? tapFiles(p) : p.endsWith('.tap') ? [p] : [];
  });
}

interface FileCount {
  passed: number;
  failed: number;
  skipped: number;
  failures: string[];
}

function countFile(path: string): FileCount {
  const c: FileCount = { passed: 0, failed: 0, skipped: 0, failures: [] };
  const parser = new Parser();
  parser.on('assert', (r: Result) => {
    if (r.skip || r.todo) c.skipped++;
    else if (r.ok) c.passed++;
    else {
      c.failed++;
      c.failures.push(r.name);
    }
  });
  let finalOk = true;
  parser.on('complete', (final: { ok: boolean }) => {
    finalOk = final.ok;
  });
  parser.end(readFileSync(path, 'utf8'));
  // A file that crashed or bailed out before reporting a failing point still counts as one failure.
  if (!finalOk && c.failed === 0) {
    c.failed = 1;
    c.failures.push('(test file did not complete)');
  }
  return c;
}

let passed = 0;
let failed = 0;
let skipped = 0;
const failures: string[] = [];
for (const arg of process.argv.slice(2)) {
  const [name, verdict] = arg.split('=');
  if (verdict === 'pass') passed++;
  else {
    failed++;
    failures.push(`${name}`);
  }
}
const files = tapFiles(resultsDir);
for (const f of files) {
  const c = countFile(f);
  passed += c.passed;
  failed += c.failed;
  skipped += c.skipped;
  const file = relative(resultsDir, f).replace(/\.tap$/, '');
  for (const name of c.failures) failures.push(`${file}: ${name}`);
}
if (files.length === 0) {
  failed++;
  failures.push('no test results were produced');
}
if (failures.length) process.stdout.write(`failed:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exitCode = failed ? 1 : 0;
