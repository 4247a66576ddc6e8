// Real training on the real node: the numbers a user compares with Kubeflow's PyTorchJob on kind. Per round,
// `git push` of a 2-worker examples/trainer job → its first epoch (in rank 0's log, and in status), a rank
// SIGKILLed after two checkpoints → training resumed from its checkpoint, and checkpoint time as the trainer
// logs it. Anchor, in the same run: the same trainer image run bare, two processes chrooted into its root
// filesystem and meeting on loopback, restarted by hand from the last checkpoint: no Kubernetes at all.
import { pushHookAccepted } from './push-hook.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, runCommand } from '../localcluster/controlplane.ts';
import { repoRoot } from '../localcluster/binaries.ts';
import { cloneWorkingCopy, runGit } from '../localcluster/git-cli.ts';
import { portForward } from '../localcluster/port-forward.ts';
import { ensureNodeImages } from '../localcluster/realnode/images.ts';
import { applyPlatformOverlay } from '../localcluster/realnode/overlay-install.ts';
import { realNodeUnsupported } from '../localcluster/realnode/support.ts';
import { fmt, summarize } from './stats.ts';
import { until } from './until.ts';
import type { Suite } from './run.ts';

const rounds = Number(process.env.BENCH_TRAINING_ROUNDS ?? 3);
const EPOCHS = 8;
// Several seconds of real compute per epoch here (no padding), so checkpoint time is measured against real
// epochs and the controller's 15 s scrape sees the job Running.
const SAMPLES = 262144;
const namespace = 'train-bench';
const hookSecret = 'bench-hook-secret';
const log = (l: string): void => void process.stderr.write(`  ${l}\n`);

interface TrainerLine { at: number; event?: string; epoch?: number; seconds?: number; checkpoint?: string }
interface Round { toFirstEpoch: number; toStatusEpoch?: number; killToResumed: number; killToEpoch: number; checkpointSeconds: number[]; epochSeconds: number[] }

const parseLine = (at: number, text: string): TrainerLine | undefined => {
  if (!text.startsWith('{')) return undefined;
  try {
    return { at, ...(JSON.parse(text) as Omit<TrainerLine, 'at'>) };
  } catch {
    return undefined;
  }
};

/** Checkpoint write times, and the wall time between consecutive epochs of one run (checkpoint included). */
function cadence(lines: TrainerLine[]): { checkpointSeconds: number[]; epochSeconds: number[] } {
  const epochs = lines.filter((l) => l.event === 'epoch');
  return {
    checkpointSeconds: lines.filter((l) => l.event === 'checkpoint-saved' && l.seconds !== undefined).map((l) => l.seconds!),
    epochSeconds: epochs.slice(1).map((l, i) => (l.at - epochs[i]!.at) / 1000),
  };
}

// JSON is YAML too: the file git sync reads.
const jobFile = (name: string, image: string): string => `${JSON.stringify({
  apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name },
  spec: {
    framework: 'pytorch', model: 'mlp', dataset: 'synthetic', image, numWorkers: 2, gpusPerWorker: 1, networking: { backend: 'gloo' },
    resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
    checkpoint: { enabled: true, frequency: 1, storage: { type: 'pvc', size: '1Gi' } },
    hyperparameters: { learningRate: 0.05, batchSize: 128, epochs: EPOCHS, samples: SAMPLES },
  },
}, null, 2)}\n`;

/** The platform: the overlay's webhook and controller in pods, the job pushed to the node's git server. */
async function platformRounds(images: Awaited<ReturnType<typeof ensureNodeImages>>): Promise<Round[]> {
  const gitRoot = mkdtempSync(join(tmpdir(), 'train-bench-git-'));
  const bare = join(gitRoot, 'jobs.git');
  await runGit(['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  await runGit(['-C', bare, 'config', 'http.receivepack', 'true']);
  const cp = await startControlPlane({ realNode: { gpus: 4, gitRoot }, startTimeoutMs: 180_000 });
  const stops: (() => unknown)[] = [() => rmSync(gitRoot, { recursive: true, force: true })];
  try {
    const node = cp.realNode!;
    await node.importImage(images.trainer, log);
    await applyPlatformOverlay(cp, { progress: log });
    const kubectl = async (args: string[], input?: string): Promise<string> => {
      const r = await cp.kubectl(args, input === undefined ? {} : { input });
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const wc = await cloneWorkingCopy({ url: `${cp.realNode!.gitHostUrl}/jobs.git`, branch: 'main' });
    stops.push(() => wc.remove());
    const seed = await wc.commitAndPush({ 'jobs/README.md': 'bench\n' }, 'seed');
    await kubectl(['create', 'namespace', namespace]);
    // Onboarded as a team is (manifests/teams/team-a): the gitops ServiceAccount, and the controller's access to it and to jobs-git.
    const team = ['gitops.yaml', 'controller-access.yaml'].map((f) => readFileSync(join(repoRoot, 'manifests', 'teams', 'team-a', f), 'utf8').replaceAll('namespace: team-a', `namespace: ${namespace}`)).join('\n---\n');
    await kubectl(['apply', '-f', '-'], team);
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'jobs-git', namespace }, stringData: { hookSecret } },
      { apiVersion: 'ml.example.com/v1', kind: 'JobRepository', metadata: { name: 'jobs', namespace }, spec: { url: `${node.gitUrl}/jobs.git`, ref: { branch: 'main' }, path: 'jobs', interval: '1h', prune: true, secretRef: { name: 'jobs-git' }, serviceAccountName: 'gitops' } },
    ] }));
    // The push receiver knows a repository once the controller has synced it.
    await until('the first sync', async () => (JSON.parse(await kubectl(['-n', namespace, 'get', 'jobrepository', 'jobs', '-o', 'json'])) as { status?: { lastAppliedRevision?: string } }).status?.lastAppliedRevision === seed ? true : undefined, 120_000, 500).catch(async (err: unknown) => {
      const repo = await cp.kubectl(['-n', namespace, 'get', 'jobrepository', 'jobs', '-o', 'yaml']);
      const logs = await cp.kubectl(['-n', 'trainingjob-system', 'logs', 'deployment/controller-manager', '--tail', '30']);
      throw new Error(`${String(err)}\n${repo.stdout}${repo.stderr}\n${logs.stdout}${logs.stderr}`);
    });
    const hooks = await portForward(cp.binaries.kubectl!, { ...process.env, KUBECONFIG: cp.kubeconfigPath }, { namespace: 'trainingjob-system', resource: 'svc/controller-manager-hooks', port: 9292 });
    stops.push(() => hooks.stop());

    const rank0Lines = async (name: string, generation: number): Promise<TrainerLine[]> => {
      const pods = JSON.parse(await kubectl(['-n', namespace, 'get', 'pods', '-l', `ml.example.com/trainingjob=${name},batch.kubernetes.io/job-completion-index=0,ml.example.com/restart=${generation}`, '-o', 'json'])) as { items: { metadata: { name: string } }[] };
      const pod = pods.items[0];
      if (!pod) return [];
      const r = await cp.kubectl(['-n', namespace, 'logs', '--timestamps', pod.metadata.name]);
      return r.stdout.split('\n').flatMap((l) => {
        const space = l.indexOf(' ');
        const line = parseLine(Date.parse(l.slice(0, space)), l.slice(space + 1));
        return line ? [line] : [];
      });
    };
    const status = async (name: string) => (JSON.parse(await kubectl(['-n', namespace, 'get', 'trainingjob', name, '-o', 'json'])) as { status?: { state?: string; currentEpoch?: number; restarts?: number } }).status;

    const out: Round[] = [];
    for (let i = 0; i < rounds; i++) {
      const name = `train-${i}`;
      wc.write({ [`jobs/${name}.yaml`]: jobFile(name, images.trainer.ref), ...(i > 0 ? { [`jobs/train-${i - 1}.yaml`]: null } : {}) });
      await wc.commit(`train ${name}`);
      const pushed = Date.now();
      await wc.push();
      await pushHookAccepted(hooks.url, namespace, 'jobs', hookSecret);
      const statusEpoch = until(`${name} epoch in status`, async () => ((await status(name).catch(() => undefined))?.currentEpoch ?? 0) >= 1 ? Date.now() : undefined);
      statusEpoch.catch(() => {}); // awaited below, after the log's first epoch
      const first = await until(`${name} first epoch`, async () => (await rank0Lines(name, 0)).find((l) => l.event === 'epoch')).catch(async (err: unknown) => {
        const seen = await cp.kubectl(['-n', namespace, 'get', 'jobrepository,trainingjobs,jobs,pods,events', '-o', 'wide']);
        const repo = await cp.kubectl(['-n', namespace, 'get', 'jobrepository', 'jobs', '-o', 'jsonpath={.status}']);
        throw new Error(`${String(err)}\n${seen.stdout}${seen.stderr}\n${repo.stdout}`);
      });
      const statusAt = await statusEpoch;
      await until(`${name} second checkpoint`, async () => ((await rank0Lines(name, 0)).some((l) => l.event === 'checkpoint-saved' && (l.epoch ?? 0) >= 2) ? true : undefined));
      const victim = JSON.parse(await kubectl(['-n', namespace, 'get', 'pods', '-l', `ml.example.com/trainingjob=${name},batch.kubernetes.io/job-completion-index=1`, '-o', 'json'])) as { items: { status: { containerStatuses?: { containerID?: string }[] } }[] };
      const container = victim.items[0]?.status.containerStatuses?.[0]?.containerID?.replace('containerd://', '');
      if (!container) throw new Error(`${name}: rank 1 has no container`);
      const beforeKill = await rank0Lines(name, 0);
      const killedAt = Date.now();
      const killed = await runCommand(cp.binaries.ctr!, ['--address', node.containerdSocket, '--namespace', 'k8s.io', 'tasks', 'kill', '--signal', 'SIGKILL', container], process.env);
      if (killed.code !== 0) throw new Error(`ctr tasks kill: ${killed.stderr}`);
      const resumed = await until(`${name} resumed`, async () => (await rank0Lines(name, 1)).find((l) => l.event === 'resumed'));
      const after = await until(`${name} epoch after the resume`, async () => (await rank0Lines(name, 1)).find((l) => l.event === 'epoch'));
      const done = await until(`${name} completed`, async () => {
        const s = await status(name);
        return s?.state === 'Completed' || s?.state === 'Failed' ? s : undefined;
      }, 300_000, 1000);
      if (done.state !== 'Completed' || done.restarts !== 1) throw new Error(`${name}: ${done.state} with ${done.restarts} restarts`);
      const c = cadence(beforeKill);
      out.push({ toFirstEpoch: first.at - pushed, toStatusEpoch: statusAt - pushed, killToResumed: resumed.at - killedAt, killToEpoch: after.at - killedAt, ...c });
      log(`platform round ${i}: push → first epoch ${fmt(first.at - pushed)} (status ${fmt(statusAt - pushed)}), kill → resumed ${fmt(resumed.at - killedAt)} (epoch ${resumed.epoch})`);
    }
    return out;
  } finally {
    for (const s of stops.reverse()) await s();
    await cp.stop();
  }

}

/** The image's layers unpacked into a folder, with /dev and /proc mounted for the chrooted trainer. */
async function unpackImage(archive: string): Promise<{ root: string; remove(): Promise<void> }> {
  const root = mkdtempSync(join(tmpdir(), 'train-bench-rootfs-'));
  chmodSync(root, 0o755); // the image's / as the image has it: the trainer's user must traverse it
  const must = async (cmd: string, args: string[]): Promise<string> => {
    const r = await runCommand(cmd, args, process.env);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const manifest = JSON.parse(await must('tar', ['-xOf', archive, 'manifest.json'])) as { Layers: string[] }[];
  for (const layer of manifest[0]!.Layers) await must('sh', ['-c', 'tar -xOf "$1" "$2" | tar -x -C "$3"', 'sh', archive, layer, root]);
  const image = {
    root,
    async remove() {
      for (const m of ['proc', 'dev']) await runCommand('umount', ['--lazy', join(root, m)], process.env);
      // Never delete through a mount still in place: below it is the host's /dev.
      const still = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(`${root}/`));
      if (still.length > 0) throw new Error(`left ${root} in place: still mounted there: ${still.join(', ')}`);
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await must('mount', ['--bind', '/dev', join(root, 'dev')]);
    await must('mount', ['-t', 'proc', 'proc', join(root, 'proc')]);
  } catch (err) {
    await image.remove();
    throw err;
  }
  return image;
}

/** Two ranks of the trainer, chrooted into the image as its user, rendezvousing on loopback. */
function startBare(root: string, checkpoints: string, port: number, resumeFrom?: string): { ranks: ChildProcess[]; lines: TrainerLine[]; exited: Promise<unknown> } {
  const lines: TrainerLine[] = [];
  const ranks = [0, 1].map((rank) => {
    const env = {
      PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', PYTHONUNBUFFERED: '1', RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port),
      GLOO_SOCKET_IFNAME: 'lo', METRICS_PORT: String(port + 1), CHECKPOINT_DIR: checkpoints, CHECKPOINT_FREQUENCY: '1', TERMINATION_MESSAGE_PATH: `/tmp/termination-${rank}`,
      HYPERPARAM_EPOCHS: String(EPOCHS), HYPERPARAM_SAMPLES: String(SAMPLES), HYPERPARAM_LEARNING_RATE: '0.05', HYPERPARAM_BATCH_SIZE: '128', ...(resumeFrom ? { RESUME_FROM_CHECKPOINT: resumeFrom } : {}),
    };
    // The trainer's PATH is the image's; chroot itself is the host's.
    const child = spawn('/usr/sbin/chroot', ['--userspec=65532:65532', root, 'python3', '/opt/trainer/train.py'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.on('error', (err) => lines.push({ at: Date.now(), event: 'spawn-failed', checkpoint: err.message }));
    let buffered = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      if (rank === 0) for (const p of parts) { const l = parseLine(Date.now(), p); if (l) lines.push(l); }
    });
    child.stderr!.resume();
    return child;
  });
  return { ranks, lines, exited: Promise.all(ranks.map((c) => new Promise((r) => c.on('close', r)))) };
}

/** The anchor: the trainer with nothing around it; the restart is immediate, by hand, from the newest checkpoint. */
async function bareRounds(archive: string): Promise<Round[]> {
  const image = await unpackImage(archive);
  const runs: ReturnType<typeof startBare>[] = [];
  const track = (r: ReturnType<typeof startBare>) => (runs.push(r), r);
  try {
    const out: Round[] = [];
    for (let i = 0; i < rounds; i++) {
      const checkpoints = `/tmp/checkpoints-${i}`;
      mkdirSync(join(image.root, checkpoints), { recursive: true });
      chmodSync(join(image.root, checkpoints), 0o777);
      const started = Date.now();
      const run = track(startBare(image.root, checkpoints, 29500 + 10 * i));
      const first = await until('bare first epoch', async () => run.lines.find((l) => l.event === 'epoch'));
      await until('bare second checkpoint', async () => (run.lines.some((l) => l.event === 'checkpoint-saved' && (l.epoch ?? 0) >= 2) ? true : undefined));
      const beforeKill = [...run.lines];
      const killedAt = Date.now();
      run.ranks[1]!.kill('SIGKILL');
      await run.exited;
      const newest = [...run.lines].reverse().find((l) => l.event === 'checkpoint-saved') as TrainerLine & { path?: string };
      const again = track(startBare(image.root, checkpoints, 29505 + 10 * i, newest.path));
      const resumed = await until('bare resumed', async () => again.lines.find((l) => l.event === 'resumed'));
      const after = await until('bare epoch after the resume', async () => again.lines.find((l) => l.event === 'epoch'));
      await again.exited;
      out.push({ toFirstEpoch: first.at - started, killToResumed: resumed.at - killedAt, killToEpoch: after.at - killedAt, ...cadence(beforeKill) });
      log(`bare round ${i}: start → first epoch ${fmt(first.at - started)}, kill → resumed ${fmt(resumed.at - killedAt)} (epoch ${resumed.epoch})`);
    }
    return out;
  } finally {
    // A failed round leaves trainers running inside the image: stop them before unmounting.
    for (const r of runs) for (const c of r.ranks) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(runs.map((r) => r.exited));
    await image.remove();
  }
}

export const trainingSuite: Suite = {
  name: 'training',
  explicitOnly: true,
  async run() {
    const why = realNodeUnsupported();
    if (why) return `### training\n\nNot run: ${why}.\n`;
    const images = await ensureNodeImages({ progress: log });
    const bare = await bareRounds(images.trainer.archive);
    const platform = await platformRounds(images);
    const row = (measure: string, p: number[], b: number[]) => {
      const ps = summarize(p);
      const bs = summarize(b);
      return `| ${measure} | ${fmt(ps.min)} | ${fmt(ps.median)} | ${fmt(ps.max)} | ${fmt(bs.median)} | ${(ps.median / bs.median).toFixed(2)}× |`;
    };
    const seconds = (xs: number[]) => xs.map((x) => x * 1000);
    const pc = summarize(seconds(platform.flatMap((r) => r.checkpointSeconds)));
    const pe = summarize(seconds(platform.flatMap((r) => r.epochSeconds)));
    const bc = summarize(seconds(bare.flatMap((r) => r.checkpointSeconds)));
    const be = summarize(seconds(bare.flatMap((r) => r.epochSeconds)));
    return [
      `### Real training on the real node vs the same trainer bare (${rounds} rounds each; 2 ranks, ${EPOCHS} epochs, a checkpoint every epoch)`,
      '',
      '| measure | platform min | median | max | bare median | platform / bare |',
      '|---|---|---|---|---|---|',
      row('git push (bare: process start) → first epoch in rank 0\'s log', platform.map((r) => r.toFirstEpoch), bare.map((r) => r.toFirstEpoch)),
      row('SIGKILL of rank 1 → rank 0 resumed from its checkpoint', platform.map((r) => r.killToResumed), bare.map((r) => r.killToResumed)),
      row('SIGKILL of rank 1 → next epoch trained', platform.map((r) => r.killToEpoch), bare.map((r) => r.killToEpoch)),
      row('checkpoint write (the trainer\'s own timing)', seconds(platform.flatMap((r) => r.checkpointSeconds)), seconds(bare.flatMap((r) => r.checkpointSeconds))),
      row('epoch, wall time between epoch lines (checkpoint included)', seconds(platform.flatMap((r) => r.epochSeconds)), seconds(bare.flatMap((r) => r.epochSeconds))),
      '',
      `git push → first epoch in \`status.currentEpoch\` (the controller scrapes rank 0 every 15 s while Running): median ${fmt(summarize(platform.map((r) => r.toStatusEpoch!)).median)}.`,
      `Checkpoint overhead per epoch (median write / median epoch): platform ${((pc.median / pe.median) * 100).toFixed(1)}%, bare ${((bc.median / be.median) * 100).toFixed(1)}%.`,
      '',
    ].join('\n');
  },
};
