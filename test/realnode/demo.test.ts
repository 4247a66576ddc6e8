// `npm run demo` as a person runs it, on the real node (its default on Linux as root): every step's output
// comes from the platform running in pods, then `cluster down` leaves no process or namespace behind.
import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive, repoRoot } from '../../localcluster/binaries.ts';
import { runCommand } from '../../localcluster/controlplane.ts';
import { readClusterState } from '../../cli/cluster.ts';
import { realNodeUnsupported } from '../../localcluster/realnode/support.ts';

const unsupported = realNodeUnsupported();
if (unsupported) {
  t.test('the demo on the real node', { skip: `skipped: ${unsupported}` }, async () => {});
} else {
  const dir = join(mkdtempSync(join(tmpdir(), 'tj-demo-')), 'cluster');
  // Setup built every binary and image; here a miss is an error, never a download.
  const env = { ...process.env, TRAININGJOB_CLUSTER_DIR: dir, TRAININGJOB_OFFLINE: '1', GOPROXY: 'off' };
  const cli = (...args: string[]) => runCommand(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), ...args], env);
  t.teardown(async () => {
    await cli('cluster', 'down');
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  t.test('the demo walks through every step on the real node', async (t) => {
    const res = await cli('demo');
    const out = res.stdout;
    t.equal(res.code, 0, 'exit code 0', { stderr: res.stderr.slice(-4000), stdout: out.slice(-4000) });
    t.match(out, /node trainingjob-node: 16 GPUs allocatable, containerd:\/\/2\./, 'one real node, 16 GPUs advertised');
    t.match(out, /deployment\.apps\/webhook\s+2\/2/, 'the webhook runs as two pods');
    t.match(out, /deployment\.apps\/controller-manager\s+1\/1/, 'the controller runs as a pod');
    t.match(out, /trainingjob\.local\/smoke-worker:\w+\n\s+\{"limits":\{"cpu":"500m"/, 'the in-cluster webhook filled in the node\'s worker image and resources');
    t.match(out, /denied the request: 5 problems: spec\.numWorkers: 40 exceeds the maximum 32/, 'an invalid job is refused with every problem');
    t.match(out, /namespace team-a GPU quota 16: 16 in use, this job asks 8 \(4 workers × 2 GPUs\)/, 'over quota is refused with the numbers');
    t.match(out, /"RANK":"0".*"ok":true/, 'kubectl logs shows the worker resolved every peer through CoreDNS');
    t.match(out, /bert-\w+\s+Completed\s+100%/, 'the job completed on real pods');
    t.match(out, /jobrepository\.ml\.example\.com\/jobs\s+http:\/\/10\.244\.255\.1:8929\/jobs\.git\s+\w{40}\s+True/, 'the in-cluster controller synced from the node\'s git server');
    t.match(out, /POST http:\/\/127\.0\.0\.1:\d+\/hooks\/team-a\/jobs \(X-Hub-Signature-256\)\s+→\s+202/, 'the push hook reached the controller pod through kubectl port-forward');
    t.match(out, /File:\s+team-a\/llm-sweep-a\.yaml\n\s+Line:\s+1\n\s+Message:\s+admission webhook "trainingjob\.ml\.example\.com" denied the request: namespace team-a GPU quota 16/, 'the sync status names the refused file and line');
    t.match(out, /mlp-ddp\s+Running\s+\d+%\s+epoch [3-9]\/10\s+loss 0\.\d+/, 'real training: status shows the epoch and the loss scraped from rank 0');
    t.match(out, /Restarting\s+trainingjob\/mlp-ddp\s+worker 1 \(pod [^)]+\) exited 137/, 'the SIGKILLed worker restarted the job');
    t.match(out, /mlp-ddp\s+Completed\s+100%/, 'and it trained to Completed');
    t.match(out, /"event": "resumed", "rank": 0, "checkpoint": "\/checkpoints\/epoch-\d+\.pt"/, 'the restarted rank 0 resumed from its checkpoint');
  });

  t.test('the synced jobs run as real pods; cluster down removes every process and the namespace', async (t) => {
    const state = readClusterState(dir);
    t.equal(state?.node, 'real');
    const kubectl = (args: string[]) => runCommand(join(dir, 'bin', 'kubectl'), args, { ...env, KUBECONFIG: join(dir, 'kubeconfig') });
    const pods = await kubectl(['get', 'pods', '-n', 'team-a', '-l', 'ml.example.com/trainingjob=llm-pretrain', '-o', 'jsonpath={range .items[*]}{.spec.nodeName} {.status.phase}{"\\n"}{end}']);
    t.equal(pods.code, 0, 'kubectl get pods', { stderr: pods.stderr });
    t.same(pods.stdout.trim().split('\n').map((l) => l.split(' ')[0]), Array(4).fill('trainingjob-node'), 'the admitted LLM job\'s 4 workers are on the real node');
    const pids = [state!.supervisorPid, ...Object.keys(state!.pids ?? {}).map(Number)];
    const netns = namedNetnsOf(Object.entries(state!.pids ?? {}).find(([, name]) => name === 'kubelet')?.[0]);
    t.ok(netns, `kubelet runs in a named network namespace (${netns})`);
    const down = await cli('cluster', 'down');
    t.equal(down.code, 0, 'cluster down', { stderr: down.stderr });
    t.same(pids.filter(pidAlive), [], 'every pid is gone');
    t.notOk(existsSync(`/run/netns/${netns}`), 'the node\'s network namespace is gone');
  });
}

/** The /run/netns name of the network namespace a process runs in. */
function namedNetnsOf(pid: string | undefined): string | undefined {
  if (!pid) return undefined;
  const inode = statSync(`/proc/${pid}/ns/net`).ino;
  return readdirSync('/run/netns').find((n) => statSync(`/run/netns/${n}`).ino === inode);
}
