// Argo CD on the real node, installed as its docs say (core-install.yaml of the release we build, in namespace
// argocd) and then the platform as argocd/README.md says: a GitOps repository on the node's git server holding
// this project's manifests/ and argocd/ with the placeholder URLs pointed at it, argocd-cm patched, and the
// AppProject, platform Application and teams ApplicationSet applied.
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../binaries.ts';
import { LocalClusterError } from '../errors.ts';
import { seedBareRepo } from '../git-cli.ts';
import type { ControlPlane } from '../controlplane.ts';
import { argoCdInstallManifest, type ArgoCdImages } from './argocd-images.ts';
import type { RealNode } from './node.ts';

export const ARGOCD_NAMESPACE = 'argocd';
/** The repository URL argocd/*.yaml ship with, for users to replace with their copy's. */
export const PLATFORM_REPO_PLACEHOLDER = 'https://git.example.com/platform/trainingjob.git';
/** The jobs repository URL the team folders ship with. */
export const JOBS_REPO_PLACEHOLDER = 'https://git.example.com/ml/jobs.git';
export const ARGOCD_WORKLOADS = ['deployment/argocd-redis', 'deployment/argocd-repo-server', 'deployment/argocd-applicationset-controller', 'statefulset/argocd-application-controller'] as const;
/** What argocd/README.md tells users to apply, in that order. */
export const ARGOCD_APPLY_FILES = ['argocd/project.yaml', 'argocd/platform-application.yaml', 'argocd/teams-applicationset.yaml'] as const;

type Kubectl = Pick<ControlPlane, 'kubectl'>['kubectl'];

/**
 * core-install.yaml as this node can run it: the one change is `imagePullPolicy: Always` → IfNotPresent, since
 * the images are imported into the node (no registry can be reached), as any air-gapped install does.
 */
export function coreInstallForNode(manifest = argoCdInstallManifest()): string {
  return manifest.replace(/imagePullPolicy: Always/g, 'imagePullPolicy: IfNotPresent');
}

/** Imports the images, applies core-install.yaml in `argocd` and waits for every Argo CD workload to roll out. */
export async function installArgoCd(cp: { kubectl: Kubectl }, node: Pick<RealNode, 'importImage'>, images: ArgoCdImages, opts: { progress?: (line: string) => void; timeoutSeconds?: number } = {}): Promise<void> {
  const progress = opts.progress ?? (() => undefined);
  for (const image of [images.argocd, images.redis]) await node.importImage(image, progress);
  await must(cp.kubectl, ['create', 'namespace', ARGOCD_NAMESPACE], undefined, /AlreadyExists/);
  progress('kubectl apply -n argocd --server-side -f core-install.yaml');
  await must(cp.kubectl, ['apply', '-n', ARGOCD_NAMESPACE, '--server-side', '-f', '-'], coreInstallForNode());
  for (const w of ARGOCD_WORKLOADS) {
    progress(`waiting for ${w} to roll out`);
    const r = await cp.kubectl(['-n', ARGOCD_NAMESPACE, 'rollout', 'status', w, `--timeout=${opts.timeoutSeconds ?? 240}s`]);
    if (r.code !== 0) {
      const pods = await cp.kubectl(['-n', ARGOCD_NAMESPACE, 'get', 'pods', '-o', 'wide']);
      throw new LocalClusterError('StartTimeout', `Argo CD's ${w} did not roll out: ${r.stderr.trim()}\n${pods.stdout}`, { workload: w });
    }
  }
}

/**
 * A bare repository `<name>.git` in `gitRoot` holding manifests/ and argocd/ at this checkout, the placeholder
 * URLs replaced by `repoUrl` (this repository) and `jobsUrl` (the teams' jobs repository), on branch main.
 */
export function seedGitOpsRepo(gitRoot: string, name: string, urls: { repoUrl: string; jobsUrl: string }): Promise<string> {
  return seedBareRepo(gitRoot, name, 'platform and teams', (work) => {
    for (const d of ['manifests', 'argocd']) cpSync(join(repoRoot, d), join(work, d), { recursive: true });
    for (const file of filesUnder(work).filter((f) => /\.ya?ml$/.test(f))) {
      const text = readFileSync(file, 'utf8');
      const next = text.replaceAll(PLATFORM_REPO_PLACEHOLDER, urls.repoUrl).replaceAll(JOBS_REPO_PLACEHOLDER, urls.jobsUrl);
      if (next !== text) writeFileSync(file, next);
    }
  });
}

/** The README's two commands: argocd-cm patched with our Lua health and actions, then the project, platform and teams applied. */
export async function applyArgoCdApps(cp: { kubectl: Kubectl }, checkout: string, progress: (line: string) => void = () => undefined): Promise<void> {
  progress('kubectl -n argocd patch configmap argocd-cm --type merge --patch-file argocd/argocd-cm.yaml');
  await must(cp.kubectl, ['-n', ARGOCD_NAMESPACE, 'patch', 'configmap', 'argocd-cm', '--type', 'merge', '--patch-file', join(checkout, 'argocd', 'argocd-cm.yaml')]);
  progress(`kubectl apply -n argocd ${ARGOCD_APPLY_FILES.map((f) => `-f ${f}`).join(' ')}`);
  await must(cp.kubectl, ['apply', '-n', ARGOCD_NAMESPACE, ...ARGOCD_APPLY_FILES.flatMap((f) => ['-f', join(checkout, f)])]);
}

/** Asks Argo CD to compare an Application with Git now (what a push webhook does) rather than at its next poll. */
export async function requestRefresh(cp: { kubectl: Kubectl }, app: string, mode: 'normal' | 'hard' = 'normal'): Promise<void> {
  await must(cp.kubectl, ['-n', ARGOCD_NAMESPACE, 'annotate', '--overwrite', 'applications.argoproj.io', app, `argocd.argoproj.io/refresh=${mode}`]);
}

async function must(kubectl: Kubectl, args: string[], input?: string, tolerated?: RegExp): Promise<string> {
  const r = await kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0 && !(tolerated && tolerated.test(r.stderr))) throw new LocalClusterError('NodeSetupFailed', `kubectl ${args.join(' ')} failed: ${r.stderr.trim()}`, { args });
  return r.stdout;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const full = join(dir, f);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}
