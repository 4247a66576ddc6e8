// `trainingjob cluster up/status/down` as a user runs it: eval-able exports, idempotent, clean stop.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive, repoRoot } from '../../localcluster/binaries.ts';
import { runCommand } from '../../localcluster/controlplane.ts';
import { readClusterState } from '../../cli/cluster.ts';

const dir = join(mkdtempSync(join(tmpdir(), 'tj-cluster-cli-')), 'cluster');
const env = { ...process.env, TRAININGJOB_CLUSTER_DIR: dir };
const cli = (...args: string[]) => runCommand(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), ...args], env);
t.teardown(async () => {
  await cli('cluster', 'down');
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

function exportsOf(stdout: string): Record<string, string> {
  return Object.fromEntries([...stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}

t.test('up starts the cluster in the background and prints shell exports', async (t) => {
  const res = await cli('cluster', 'up', '--nodes', '1', '--gpus-per-node', '4');
  t.equal(res.code, 0, 'exit code 0', { output: res.stderr });
  const ex = exportsOf(res.stdout);
  t.equal(ex.KUBECONFIG, join(dir, 'kubeconfig'));
  t.match(ex.PATH, new RegExp(`^${join(dir, 'bin')}:\\$PATH$`));
  t.match(res.stderr, /starting kube-apiserver/, 'progress is shown');
  t.match(res.stderr, /local cluster ready at https:\/\/127\.0\.0\.1:\d+/);
  // The exported PATH gives the built kubectl, and the kubeconfig reaches the cluster.
  const nodes = await runCommand('sh', ['-c', `${res.stdout}\nkubectl get nodes -o jsonpath='{.items[*].status.allocatable.nvidia\\.com/gpu}'`], env);
  t.equal(nodes.code, 0, 'exit code 0', { output: nodes.stderr });
  t.equal(nodes.stdout, '4');
});

t.test('up again is idempotent and status reports ready', async (t) => {
  const before = readClusterState(dir);
  const res = await cli('cluster', 'up');
  t.equal(res.code, 0, 'exit code 0', { output: res.stderr });
  t.match(res.stderr, /already running/);
  t.equal(readClusterState(dir)?.supervisorPid, before?.supervisorPid, 'same supervisor');
  const st = await cli('cluster', 'status');
  t.equal(st.code, 0, 'exit code 0', { output: st.stdout });
  t.match(st.stdout, /local cluster: ready/);
  t.match(st.stdout, /kube-scheduler\s+pid \d+ running/);
});

t.test('down stops every process and status then says not running', async (t) => {
  const state = readClusterState(dir);
  const pids = [state!.supervisorPid, ...Object.keys(state!.pids ?? {}).map(Number)];
  t.ok(pids.length >= 6, 'supervisor and five components');
  const res = await cli('cluster', 'down');
  t.equal(res.code, 0, 'exit code 0', { output: res.stderr });
  t.same(pids.filter(pidAlive), [], 'every pid is gone');
  const st = await cli('cluster', 'status');
  t.equal(st.code, 1);
  t.match(st.stdout, /not running/);
});

t.test('bad flags are a usage error', async (t) => {
  const res = await cli('cluster', 'up', '--nodes', 'many');
  t.equal(res.code, 2);
  t.match(res.stderr, /--nodes must be a whole number/);
});
