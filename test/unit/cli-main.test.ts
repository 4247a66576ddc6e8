// The dispatcher as a user meets it: a mistyped option is a usage error (exit 2, no stack), --help works on every action.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../localcluster/binaries.ts';

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

t.test('an unknown option is a usage error without a stack trace', async (t) => {
  for (const args of [['cluster', 'build', '--bogus'], ['logs', 'job', '--bogus'], ['webhook', '--bogus']]) {
    const r = cli(...args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, new RegExp(`^trainingjob ${args[0]}: Unknown option '--bogus'`));
    t.notMatch(r.stderr, /\n\s+at /, 'no stack');
  }
});

t.test('--help after a cluster action prints the help, exit 0', async (t) => {
  for (const action of ['build', 'up', 'down']) {
    const r = cli('cluster', action, '--help');
    t.equal(r.code, 0, action);
    t.match(r.stdout, /^usage: trainingjob cluster /);
  }
  const unknown = cli('cluster', 'bogus', '--help');
  t.equal(unknown.code, 2, 'an unknown action stays a usage error');
  t.match(unknown.stderr, /unknown action "bogus"/);
});
