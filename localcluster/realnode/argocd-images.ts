// Argo CD's images for the real node, built here with no registry and tagged with the names its own
// core-install.yaml references: the argocd image (Debian bookworm with what upstream's Dockerfile installs,
// the argocd binary we build from its module, and the kustomize it pins) and redis from Debian's package.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ensureBinaries, type Progress } from '../binaries.ts';
import { goModuleDir, upstreamModules } from '../go-module.ts';
import { ensureImage, imagesDir, restoreBase, type NodeImage } from './images.ts';
import { archiveImageId, archivePath } from './images/archives.ts';
import { aptSourceFiles, MMDEBSTRAP_OPTIONS, shellWord, sourceDir, type BuildStep } from './images/builders.ts';
import { runLogged } from './images/buildah.ts';
import { hashParts } from './images/context.ts';
import { requireTools } from './images/tools.ts';

/** What upstream's Dockerfile apt-installs (git git-lfs tini gpg tzdata; not connect-proxy or helm, which nothing here uses; gpg-agent, which Ubuntu's gpg pulls in and the repo-server's keyring needs), plus ssh for ssh repositories and redis-server for the redis image. */
export const ARGOCD_PACKAGES = ['git', 'git-lfs', 'tini', 'gpg', 'gpg-agent', 'tzdata', 'openssh-client', 'ca-certificates', 'redis-server'];

export interface ArgoCdImages {
  argocd: NodeImage;
  redis: NodeImage;
}

/** The image references of an Argo CD install manifest (the images it runs), in order of first use. */
export function manifestImages(manifest: string): string[] {
  return [...new Set([...manifest.matchAll(/^\s*image:\s*(\S+)\s*$/gm)].map((m) => m[1]!))];
}

/** Argo CD's core install as shipped in its module (the release the argocd binary is built from). */
export function argoCdInstallManifest(module = goModuleDir(upstreamModules.argoCd)): string {
  return readFileSync(join(module, 'manifests', 'core-install.yaml'), 'utf8');
}

/** Builds (once per machine) the two images core-install.yaml runs; `networkBuilds: false` refuses to download packages. */
export async function ensureArgoCdImages(opts: { progress?: Progress; networkBuilds?: boolean } = {}): Promise<ArgoCdImages> {
  const progress = opts.progress ?? ((l: string) => process.stderr.write(`${l}\n`));
  const network = opts.networkBuilds ?? true;
  // The setup phase may fetch the module (the argocd build usually has); tests read the module cache only.
  const module = goModuleDir(upstreamModules.argoCd, { download: network });
  const refs = manifestImages(argoCdInstallManifest(module));
  const argocdRef = refs.find((r) => r.includes('/argoproj/argocd:'));
  const redisRef = refs.find((r) => r.includes('/redis:'));
  if (!argocdRef || !redisRef || refs.length !== 2) throw new Error(`core-install.yaml runs ${refs.join(', ')}; expected one argocd and one redis image`);
  const bins = await ensureBinaries({ only: ['argocd', 'kustomize'], progress });
  const hook = join(sourceDir, 'argocd-rootfs-hook.sh');
  // This file holds the build steps (buildah config included): an edit to them rebuilds both images.
  const recipe = readFileSync(import.meta.filename);
  const key = hashParts(['argocd', argocdRef, recipe, readFileSync(hook), ...ARGOCD_PACKAGES, ...MMDEBSTRAP_OPTIONS, ...aptSourceFiles().map((f) => readFileSync(f)), bins.argocd!, bins.kustomize!, process.arch]);
  if (!existsSync(archivePath(imagesDir(), 'argocd', key))) requireTools({ base: true, pause: false });
  const argocd = await ensureImage({ name: 'argocd', ref: argocdRef, key, network: true, allowNetwork: network, progress }, (s) => buildArgoCd(s, { module, hook, argocd: bins.argocd!, kustomize: bins.kustomize! }));
  const argocdId = archiveImageId(argocd.archive);
  const redis = await ensureImage({ name: 'redis', ref: redisRef, key: hashParts(['redis', redisRef, recipe, argocdId]), network: false, allowNetwork: network, progress }, async (s) => {
    await restoreBase(s.buildah, argocd, argocdId);
    await buildRedis(s, argocd.ref);
  });
  return { argocd, redis };
}

async function buildArgoCd(s: BuildStep, from: { module: string; hook: string; argocd: string; kustomize: string }): Promise<void> {
  const work = join(s.dir, `argocd-work-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const rootfs = join(work, 'rootfs.tar');
    const hook = `${shellWord(from.hook)} "$1" ${shellWord(from.module)}`;
    await runLogged('mmdebstrap', [...MMDEBSTRAP_OPTIONS, `--include=${ARGOCD_PACKAGES.join(',')}`, `--customize-hook=${hook}`, 'bookworm', rootfs, ...aptSourceFiles()], s.log, work, 'mmdebstrap');
    // The debug symbols are two thirds of the binary and no pod reads them.
    const argocd = join(work, 'argocd');
    const stripped = spawnSync('strip', ['--strip-debug', '-o', argocd, from.argocd], { encoding: 'utf8' });
    if (stripped.status !== 0) copyFileSync(from.argocd, argocd);
    const c = (await s.buildah.run(['from', 'scratch'])).trim();
    try {
      await s.buildah.run(['add', c, rootfs, '/']);
      await s.buildah.run(['copy', '--chmod', '0755', c, argocd, '/usr/local/bin/argocd']);
      await s.buildah.run(['copy', '--chmod', '0755', c, from.kustomize, '/usr/local/bin/kustomize']);
      await s.buildah.run([
        'config', '--env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '--env', 'USER=argocd', '--env', 'ARGOCD_USER_ID=999',
        '--user', '999', '--workingdir', '/home/argocd', '--entrypoint', '["/usr/bin/tini", "--"]', '--cmd', '', c,
      ]);
      await s.buildah.run(['commit', '-q', c, s.ref]);
    } finally {
      await s.buildah.run(['rm', c]).catch(() => undefined);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** redis-server from the same Debian root: the manifest passes only flags, which the official image's entrypoint hands to redis-server. */
async function buildRedis(s: BuildStep, from: string): Promise<void> {
  const c = (await s.buildah.run(['from', '--pull-never', from])).trim();
  try {
    await s.buildah.run(['config', '--user', '999', '--workingdir', '/tmp', '--entrypoint', '["/usr/bin/redis-server"]', '--cmd', '', '--port', '6379', c]);
    await s.buildah.run(['commit', '-q', c, s.ref]);
  } finally {
    await s.buildah.run(['rm', c]).catch(() => undefined);
  }
}
