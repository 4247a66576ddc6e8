// A test run leaves nothing behind: not after a failing test, not after its process is killed.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pidAlive, repoRoot } from '../../localcluster/binaries.ts';
import { reapStaleRuns } from '../../localcluster/runs.ts';
import { startControlPlane } from '../../localcluster/controlplane.ts';
import { eventually } from '../harness/tap.ts';

interface RunInfo {
  pids: number[];
  dir: string;
}

const fixture = join(repoRoot, 'test', 'fixtures', 'control-plane-owner.ts');

function runFixture(mode: 'fail' | 'hang', onRun?: (info: RunInfo, kill: () => void) => void): Promise<{ code: number | null; out: string; info?: RunInfo }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fixture, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let info: RunInfo | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /# RUN (\{.*\})/.exec(out);
      if (m && !info) {
        info = JSON.parse(m[1]!) as RunInfo;
        onRun?.(info, () => child.kill('SIGKILL'));
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out, info }));
  });
}

t.test('stop() leaves no process and no folder', async (t) => {
  const cp = await startControlPlane();
  const pids = cp.processes.map((p) => p.pid);
  t.equal(pids.length, 2, 'etcd and kube-apiserver');
  t.ok(pids.every(pidAlive));
  await cp.stop();
  t.same(pids.filter(pidAlive), [], 'every pid is gone');
  t.notOk(existsSync(cp.dir), 'temp folder removed');
});

t.test('a failing test still tears its control plane down', async (t) => {
  const res = await runFixture('fail');
  t.not(res.code, 0, 'the fixture test failed');
  t.match(res.out, /not ok \d+ - deliberate failure/);
  t.match(res.out, /control-plane logs:/, 'the failing test printed the process logs');
  t.ok(res.info, 'fixture reported its pids');
  t.same(res.info!.pids.filter(pidAlive), [], 'every pid is gone');
  t.notOk(existsSync(res.info!.dir), 'temp folder removed');
});

t.test('processes of a killed test run are reaped by the next harness start', async (t) => {
  const res = await runFixture('hang', (_info, kill) => kill());
  t.equal(res.code, null, 'the fixture was killed');
  const info = res.info!;
  t.ok(info.pids.some(pidAlive), 'its control plane was orphaned');
  const reaped = reapStaleRuns();
  t.ok(reaped >= 1, 'the stale run was found');
  const left = await eventually(async () => (info.pids.some(pidAlive) ? undefined : []), 10_000);
  t.same(left, [], 'every orphaned pid is gone');
  t.notOk(existsSync(info.dir), 'temp folder removed');
});
