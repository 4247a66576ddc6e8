// The real node beside kwok, in one run: cluster start → node Ready, and `git push` → every worker pod
// Running (median of 5), the same job through the same controller on both tiers. On the real node the
// pods are real containers (our worker image) that kubelet starts; on kwok they are simulated.
//
// Both tiers run the controller in this process (the same code and settings) against the cluster's
// API: on the real node through the loopback bridge, with the webhook installed as users install it
// (the overlay; its own controller scaled to 0); on kwok with the webhook in this process. The bench
// plays the git host: right after `git push` returns it POSTs a signed hook to the push receiver.
import { pushHookAccepted } from './push-hook.ts';
import { pino } from 'pino';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, V1 } from '../api/index.ts';
import { startController } from '../controller/start.ts';
import { startControlPlane, type ControlPlane } from '../localcluster/controlplane.ts';
import { installPlatform } from '../localcluster/platform.ts';
import { startGitServer } from '../localcluster/git-server.ts';
import { cloneWorkingCopy } from '../localcluster/git-cli.ts';
import { ensureNodeImages } from '../localcluster/realnode/images.ts';
import { applyPlatformOverlay } from '../localcluster/realnode/overlay-install.ts';
import { realNodeUnsupported } from '../localcluster/realnode/support.ts';
import { fmt, summarize } from './stats.ts';
import type { Suite } from './run.ts';

const rounds = Number(process.env.BENCH_REALNODE_ROUNDS ?? 5);
const startRounds = Number(process.env.BENCH_REALNODE_STARTS ?? 3);
const namespace = 'push-bench';
const hookSecret = 'bench-hook-secret';
const log = (l: string): void => void process.stderr.write(`  ${l}\n`);

type Tier = 'real' | 'kwok';

async function startTier(tier: Tier): Promise<ControlPlane> {
  return tier === 'real' ? startControlPlane({ realNode: { gpus: 8 }, startTimeoutMs: 180_000 }) : startControlPlane({ workloads: { nodes: 1, gpusPerNode: 8 } });
}

const jobFile = (name: string, image: string): string =>
  `apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata:\n  name: ${name}\nspec:\n  model: bench\n  dataset: none\n  image: ${image}\n  args: ["--hold=3600"]\n  numWorkers: 2\n  gpusPerWorker: 1\n  checkpoint:\n    enabled: false\n  hyperparameters:\n    learningRate: 0.01\n    epochs: 1\n`;

/** Push → all 2 worker pods Running, `rounds` times; each round's job is deleted before the next. */
async function pushToRunning(tier: Tier, image: string): Promise<number[]> {
  const cp = await startTier(tier);
  const stops: (() => unknown)[] = [];
  try {
    const kc = cp.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    if (tier === 'real') {
      await applyPlatformOverlay(cp, { progress: log });
      // One controller for both tiers: this process's. The in-cluster one steps aside.
      const scaled = await cp.kubectl(['-n', 'trainingjob-system', 'scale', 'deployment/controller-manager', '--replicas=0']);
      if (scaled.code !== 0) throw new Error(scaled.stderr);
      const gone = await cp.kubectl(['-n', 'trainingjob-system', 'wait', '--for=delete', 'pod', '-l', 'app.kubernetes.io/component=controller', '--timeout=120s']);
      if (gone.code !== 0 && !/no matching resources/.test(gone.stderr)) throw new Error(gone.stderr);
    } else {
      const platform = await installPlatform({ kubeConfig: kc });
      stops.push(() => platform.stop());
    }
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'hook' }, stringData: { hookSecret } } });
    let refusedDials = 0;
    const controller = await startController({
      kubeConfig: kc, logger: pino({ level: 'silent' }), metricsAddress: '127.0.0.1:0', healthAddress: '127.0.0.1:0', hooksAddress: '127.0.0.1:0', progressIntervalMs: 5000,
      // Rank 0's metrics live at a pod IP, which only the node's namespace can reach: refused here, never sent.
      onNonLoopbackDial: () => void refusedDials++,
    });
    stops.push(() => controller.stop());
    const server = await startGitServer();
    stops.push(() => server.stop());
    server.createRepo('jobs');
    const wc = await cloneWorkingCopy({ url: server.url('jobs') });
    stops.push(() => wc.remove());
    await wc.commitAndPush({ 'jobs/README.md': 'bench\n' }, 'seed');
    await custom.createNamespacedCustomObject({
      group: GROUP, version: V1, namespace, plural: 'jobrepositories',
      body: { apiVersion: `${GROUP}/${V1}`, kind: 'JobRepository', metadata: { name: 'jobs', namespace }, spec: { url: server.url('jobs'), ref: { branch: 'main' }, path: 'jobs', interval: '1h', prune: true, secretRef: { name: 'hook' } } },
    });
    const samples: number[] = [];
    for (let i = 0; i <= rounds; i++) {
      const name = `bench-${i}`;
      // The previous round's file goes (prune deletes its job), so each round starts from 2 free GPUs.
      wc.write({ [`jobs/${name}.yaml`]: jobFile(name, image), ...(i > 0 ? { [`jobs/bench-${i - 1}.yaml`]: null } : {}) });
      await wc.commit(`run ${name}`);
      const t0 = performance.now();
      await wc.push();
      await pushHookAccepted(controller.hooksUrl, namespace, 'jobs', hookSecret);
      const deadline = Date.now() + 180_000;
      for (;;) {
        const pods = await core.listNamespacedPod({ namespace, labelSelector: `ml.example.com/trainingjob=${name}` });
        if (pods.items.length === 2 && pods.items.every((p) => p.status?.phase === 'Running')) break;
        if (Date.now() > deadline) throw new Error(`${tier}: ${name} pods not Running within 180 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
      // Round 0 warms caches (image layers, informers) and is not counted.
      if (i > 0) samples.push(performance.now() - t0);
      log(`${tier} round ${i}: ${fmt(performance.now() - t0)}`);
    }
    log(`${tier}: ${refusedDials} metrics dials to pod IPs refused by the loopback guard`);
    return samples;
  } finally {
    for (const s of stops.reverse()) await s();
    await cp.stop();
  }
}

async function timeStart(tier: Tier): Promise<number> {
  const t0 = performance.now();
  const cp = await startTier(tier);
  const ms = performance.now() - t0;
  await cp.stop();
  return ms;
}

export const realNodeSuite: Suite = {
  name: 'realnode',
  explicitOnly: true,
  async run() {
    const why = realNodeUnsupported();
    if (why) return `### realnode\n\nNot run: ${why}.\n`;
    const images = await ensureNodeImages({ progress: log });
    const real: number[] = [];
    const kwok: number[] = [];
    for (let i = 0; i < startRounds; i++) {
      real.push(await timeStart('real'));
      kwok.push(await timeStart('kwok'));
      log(`start round ${i + 1}: real ${fmt(real.at(-1)!)}, kwok ${fmt(kwok.at(-1)!)}`);
    }
    const pushReal = summarize(await pushToRunning('real', images.worker.ref));
    const pushKwok = summarize(await pushToRunning('kwok', images.worker.ref));
    const r = summarize(real);
    const k = summarize(kwok);
    return [
      `### Real node vs kwok (${startRounds} starts interleaved; ${rounds} pushes per tier after one warm-up)`,
      '',
      '| measure | tier | min | median | max |',
      '|---|---|---|---|---|',
      `| start → node Ready (GPUs allocatable) | real node | ${fmt(r.min)} | ${fmt(r.median)} | ${fmt(r.max)} |`,
      `| | kwok (1 node) | ${fmt(k.min)} | ${fmt(k.median)} | ${fmt(k.max)} |`,
      `| git push → 2 worker pods Running | real node | ${fmt(pushReal.min)} | ${fmt(pushReal.median)} | ${fmt(pushReal.max)} |`,
      `| | kwok | ${fmt(pushKwok.min)} | ${fmt(pushKwok.median)} | ${fmt(pushKwok.max)} |`,
      '',
      `Real / kwok (median): start ${(r.median / k.median).toFixed(2)}×, push → Running ${(pushReal.median / pushKwok.median).toFixed(2)}×.`,
      '',
    ].join('\n');
  },
};
