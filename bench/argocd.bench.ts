// Argo CD rolling the platform out on the real node: per round a fresh cluster, Argo CD's core-install.yaml
// rolled out, then the README's steps → the platform Application Synced and Healthy; then a one-file commit to a
// team folder → that Application Synced at the commit, asked to refresh (what a push webhook does) and, once,
// left to Argo CD's own polling. Anchor, in the same run: `kubectl apply --server-side -k manifests/overlays/default`
// on a fresh cluster → both Deployments Available, the install without Argo CD.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../localcluster/controlplane.ts';
import { cloneWorkingCopy, seedBareRepo } from '../localcluster/git-cli.ts';
import { ensureArgoCdImages } from '../localcluster/realnode/argocd-images.ts';
import { applyArgoCdApps, ARGOCD_NAMESPACE, installArgoCd, requestRefresh, seedGitOpsRepo } from '../localcluster/realnode/argocd-install.ts';
import { applyPlatformOverlay } from '../localcluster/realnode/overlay-install.ts';
import { realNodeUnsupported } from '../localcluster/realnode/support.ts';
import { fmt, summarize } from './stats.ts';
import { until } from './until.ts';
import type { Suite } from './run.ts';

const rounds = Number(process.env.BENCH_ARGOCD_ROUNDS ?? 3);
// Polling syncs wait up to 3 minutes plus jitter.
const WAIT_MS = 420_000;
const log = (l: string): void => void process.stderr.write(`  ${l}\n`);

interface Round { install: number; toHealthy: number; commitRefresh: number; commitPoll?: number }

interface AppStatus { sync?: { status?: string; revision?: string }; health?: { status?: string }; operationState?: { phase?: string } }
const appStatus = async (cp: ControlPlane, name: string): Promise<AppStatus | undefined> => {
  const r = await cp.kubectl(['-n', ARGOCD_NAMESPACE, 'get', 'applications.argoproj.io', name, '-o', 'jsonpath={.status}']);
  return r.code === 0 && r.stdout ? (JSON.parse(r.stdout) as AppStatus) : undefined;
};

async function anchorRound(): Promise<number> {
  const cp = await startControlPlane({ realNode: { gpus: 4 }, startTimeoutMs: 180_000 });
  try {
    const started = Date.now();
    await applyPlatformOverlay(cp, {});
    return Date.now() - started;
  } finally {
    await cp.stop();
  }
}

async function argoRound(images: Awaited<ReturnType<typeof ensureArgoCdImages>>, poll: boolean): Promise<Round> {
  const gitRoot = mkdtempSync(join(tmpdir(), 'argocd-bench-git-'));
  const cp = await startControlPlane({ realNode: { gpus: 4, gitRoot }, startTimeoutMs: 180_000 });
  try {
    const node = cp.realNode!;
    const installStarted = Date.now();
    await installArgoCd(cp, node, images, { progress: log });
    const install = Date.now() - installStarted;
    await seedGitOpsRepo(gitRoot, 'platform', { repoUrl: `${node.gitUrl}/platform.git`, jobsUrl: `${node.gitUrl}/jobs.git` });
    await seedBareRepo(gitRoot, 'jobs', 'empty', () => undefined);
    const wc = await cloneWorkingCopy({ url: `${node.gitHostUrl}/platform.git`, branch: 'main' });
    try {
      const started = Date.now();
      await applyArgoCdApps(cp, wc.dir);
      await until('platform Synced and Healthy', async () => {
        const s = await appStatus(cp, 'trainingjob-platform');
        return s?.sync?.status === 'Synced' && s.health?.status === 'Healthy' && s.operationState?.phase === 'Succeeded' ? true : undefined;
      }, WAIT_MS);
      const toHealthy = Date.now() - started;
      await until('team-b Application Synced', async () => ((await appStatus(cp, 'trainingjob-team-b'))?.sync?.status === 'Synced' ? true : undefined), WAIT_MS);
      // One file in a team folder: a ConfigMap named in its kustomization.
      const commit = async (n: number): Promise<string> => {
        wc.write({ [`manifests/teams/team-b/bench-${n}.yaml`]: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench-${n}\n  namespace: team-b\ndata:\n  round: "${n}"\n` });
        const kustomization = `${(await wc.git('show', 'HEAD:manifests/teams/team-b/kustomization.yaml')).trimEnd()}\n  - bench-${n}.yaml\n`;
        wc.write({ 'manifests/teams/team-b/kustomization.yaml': kustomization });
        await wc.commit(`bench ${n}`);
        await wc.push();
        return wc.head();
      };
      const syncedAt = (oid: string): Promise<boolean> => until(`team-b synced at ${oid.slice(0, 7)}`, async () => {
        const s = await appStatus(cp, 'trainingjob-team-b');
        return s?.sync?.status === 'Synced' && s.sync.revision === oid && s.operationState?.phase === 'Succeeded' ? true : undefined;
      }, WAIT_MS);
      let t0 = Date.now();
      const refreshed = await commit(1);
      await requestRefresh(cp, 'trainingjob-team-b');
      await syncedAt(refreshed);
      const commitRefresh = Date.now() - t0;
      let commitPoll: number | undefined;
      if (poll) {
        t0 = Date.now();
        await syncedAt(await commit(2));
        commitPoll = Date.now() - t0;
      }
      return { install, toHealthy, commitRefresh, ...(commitPoll === undefined ? {} : { commitPoll }) };
    } finally {
      wc.remove();
    }
  } finally {
    await cp.stop();
    rmSync(gitRoot, { recursive: true, force: true });
  }
}

export const argoCdSuite: Suite = {
  name: 'argocd',
  explicitOnly: true,
  async run() {
    const unsupported = realNodeUnsupported();
    if (unsupported) return `## argocd: Argo CD on the real node\n\nNot run: ${unsupported}\n`;
    const images = await ensureArgoCdImages({ networkBuilds: false, progress: log });
    const anchor: number[] = [];
    const argo: Round[] = [];
    for (let i = 0; i < rounds; i++) {
      anchor.push(await anchorRound());
      log(`anchor round ${i}: kubectl apply -k → Available ${fmt(anchor.at(-1)!)}`);
      argo.push(await argoRound(images, i === 0));
      const r = argo.at(-1)!;
      log(`argocd round ${i}: install ${fmt(r.install)}, → Healthy ${fmt(r.toHealthy)}, commit → synced (refresh) ${fmt(r.commitRefresh)}${r.commitPoll === undefined ? '' : `, (polling) ${fmt(r.commitPoll)}`}`);
    }
    const row = (label: string, samples: number[]): string => {
      const s = summarize(samples);
      return `| ${label} | ${s.n} | ${fmt(s.min)} | ${fmt(s.median)} | ${fmt(s.max)} |`;
    };
    const ratio = summarize(argo.map((r) => r.toHealthy)).median / summarize(anchor).median;
    return [
      '## argocd: Argo CD on the real node',
      '',
      `Rounds: ${rounds}, interleaved, each on a fresh real-node cluster.`,
      '',
      '| measure | n | min | median | max |',
      '|---|---|---|---|---|',
      row('anchor: `kubectl apply --server-side -k` → both Deployments Available', anchor),
      row('Argo CD core-install.yaml → every workload rolled out', argo.map((r) => r.install)),
      row('README steps → platform Application Synced and Healthy', argo.map((r) => r.toHealthy)),
      row('commit to a team folder → Synced (refresh annotation, as a push hook)', argo.map((r) => r.commitRefresh)),
      row('commit to a team folder → Synced (Argo CD polling, default 3 min)', argo.flatMap((r) => (r.commitPoll === undefined ? [] : [r.commitPoll]))),
      '',
      `Platform through Argo CD vs kubectl apply (median): ${ratio.toFixed(2)}×.`,
      '',
    ].join('\n');
  },
};
