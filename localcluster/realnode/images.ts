// The real node's images, built here with no registry and imported into its containerd as docker-archive
// tarballs: a stand-in for node:24-bookworm-slim from Debian's packages and the project's own Node.js, our
// image from the unchanged Dockerfile, the tests' worker and the pod sandbox's pause image. Each is cached
// machine-wide by a hash of what went into it, like the binaries, and built once.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { acquireLock, cacheRoot, repoRoot, type Progress } from '../binaries.ts';
import { LocalClusterError, tailFile } from '../errors.ts';
import { buildahFor, type Buildah } from './images/buildah.ts';
import {
  aptSourceFiles, buildApp, buildBase, buildPause, buildTrainer, buildWorker, TRAINER_PACKAGES, COREPACK_VERSION, MMDEBSTRAP_OPTIONS, nodeDistribution, NPM_VERSION, sourceDir, YARN_VERSION,
  type BuildStep,
} from './images/builders.ts';
import { archiveImageId, archivePath, noteImageId, pruneArchives } from './images/archives.ts';
import { contextDigest, hashParts } from './images/context.ts';
import { requireTools } from './images/tools.ts';

export interface NodeImage {
  ref: string;
  /** docker-archive tarball, for `ctr -n k8s.io images import`. */
  archive: string;
}

export interface NodeImages {
  pause: NodeImage;
  app: NodeImage;
  worker: NodeImage;
  base: NodeImage;
  /** examples/trainer (PyTorch DDP on CPU); 1.2 GB, so imported into a node only when asked for. */
  trainer: NodeImage;
}

/** What the Dockerfile's FROM names; the stand-in carries that name in buildah's store. */
export const BASE_IMAGE = 'docker.io/library/node:24-bookworm-slim';
/** The pod sandbox image the node's containerd pins; no registry could supply registry.k8s.io/pause. */
export const PAUSE_IMAGE = 'trainingjob.local/pause:3.10';
/** Tagged with a hash of its content, so a node never runs a stale worker under the same name. */
export const WORKER_IMAGE_NAME = 'trainingjob.local/smoke-worker';
export const TRAINER_IMAGE_NAME = 'trainingjob.local/trainer';
const trainerDir = (root: string): string => join(root, 'examples', 'trainer');

export function imagesDir(): string {
  return join(dirname(cacheRoot()), 'images');
}

/** The sources' hashes, without the base image id the app's and worker's keys add. */
export function sourceKeys(root = repoRoot): { base: string; pause: string; worker: string; trainer: string; context: string } {
  const node = nodeDistribution(root);
  return {
    base: hashParts([
      'base', readFileSync(join(sourceDir, 'base-rootfs-hook.sh')), ...MMDEBSTRAP_OPTIONS, ...aptSourceFiles().map((f) => readFileSync(f)), node.version,
      `npm@${NPM_VERSION} corepack@${COREPACK_VERSION} yarn@${YARN_VERSION}`, process.arch,
    ]),
    pause: hashParts(['pause', readFileSync(join(sourceDir, 'pause.c'))]),
    worker: hashParts(['worker', ...readdirSync(join(sourceDir, 'worker')).sort().flatMap((f) => [f, readFileSync(join(sourceDir, 'worker', f))])]),
    trainer: hashParts(['trainer', readFileSync(join(trainerDir(root), 'train.py')), ...TRAINER_PACKAGES, ...MMDEBSTRAP_OPTIONS, ...aptSourceFiles().map((f) => readFileSync(f)), process.arch]),
    context: contextDigest(root),
  };
}

/** The app's and worker's keys: their sources and the id of the base image they are built FROM. */
export function dependentKeys(keys: { worker: string; context: string }, baseImageId: string): { app: string; worker: string } {
  return { app: hashParts(['app', baseImageId, keys.context]), worker: hashParts(['worker', baseImageId, keys.worker]) };
}

/** Returns the four images' archives, building (once per machine) whatever the cache lacks; the base comes first. */
export async function ensureNodeImages(opts: { progress?: Progress; networkBuilds?: boolean } = {}): Promise<NodeImages> {
  const progress = opts.progress ?? ((l: string) => process.stderr.write(`${l}\n`));
  // Clusters started by tests and benchmarks never build what needs a registry: the setup phase does.
  const network = opts.networkBuilds ?? true;
  const keys = sourceKeys();
  const appRef = `ghcr.io/example/trainingjob:${(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version}`;
  const cached = (name: string, key: string): boolean => existsSync(archivePath(imagesDir(), name, key));
  const cachedBase = cached('base', keys.base);
  // A new base gets a new id, so without a cached base the app and worker are rebuilt too.
  const cachedDependents = cachedBase && Object.entries(dependentKeys(keys, archiveImageId(archivePath(imagesDir(), 'base', keys.base)))).every(([n, k]) => cached(n, k));
  const cachedPause = cached('pause', keys.pause);
  const cachedTrainer = cached('trainer', keys.trainer);
  if (!cachedBase || !cachedDependents || !cachedPause || !cachedTrainer) requireTools({ base: !cachedBase || !cachedTrainer, pause: !cachedPause });

  const base = await ensureImage({ name: 'base', ref: BASE_IMAGE, key: keys.base, network: true, allowNetwork: network, progress }, (s) => buildBase(s, nodeDistribution(repoRoot)));
  const baseId = archiveImageId(base.archive);
  const dependent = dependentKeys(keys, baseId);
  const app = await ensureImage({ name: 'app', ref: appRef, key: dependent.app, network: true, allowNetwork: network, progress }, async (s) => {
    await restoreBase(s.buildah, base, baseId);
    await buildApp(s, repoRoot);
  });
  const workerRef = `${WORKER_IMAGE_NAME}:${dependent.worker.slice(0, 12)}`;
  const worker = await ensureImage({ name: 'worker', ref: workerRef, key: dependent.worker, network: false, allowNetwork: network, progress }, async (s) => {
    await restoreBase(s.buildah, base, baseId);
    await buildWorker(s);
  });
  const pause = await ensureImage({ name: 'pause', ref: PAUSE_IMAGE, key: keys.pause, network: false, allowNetwork: network, progress }, buildPause);
  const trainer = await ensureImage({ name: 'trainer', ref: `${TRAINER_IMAGE_NAME}:${keys.trainer.slice(0, 12)}`, key: keys.trainer, network: true, allowNetwork: network, progress }, (s) => buildTrainer(s, trainerDir(repoRoot)));
  return { pause, app, worker, base, trainer };
}

/** The setup phase's entry point: builds what is missing while registries are reachable, then lists the archives. */
export async function prepareNodeImages(progress: Progress = (l) => process.stderr.write(`${l}\n`)): Promise<NodeImages> {
  const images = await ensureNodeImages({ progress });
  for (const [name, i] of Object.entries(images)) progress(`node image ${name}: ${i.ref} (${megabytes(i.archive)} MB) ${i.archive}`);
  return images;
}

export interface ImageSpec {
  /** The archive's name in the cache (one per image). */
  name: string;
  ref: string;
  key: string;
  /** Downloads packages while building: only the setup phase can build it. */
  network: boolean;
  /** False: an image that needs the network and is missing is an error, never a download. */
  allowNetwork: boolean;
  progress: Progress;
}

export async function ensureImage(spec: ImageSpec, build: (s: BuildStep) => Promise<void>): Promise<NodeImage> {
  const { ref, progress } = spec;
  const archive = archivePath(imagesDir(), spec.name, spec.key);
  if (existsSync(archive)) return { ref, archive };
  if (spec.network && !spec.allowNetwork) {
    throw new LocalClusterError('ImageBuildFailed', `image ${ref} is not built for this source tree yet, and building it downloads packages; build it while package registries are reachable: npx trainingjob cluster build --for node (scripts/ensure-deps.sh does)`, { image: ref });
  }
  mkdirSync(imagesDir(), { recursive: true });
  const lock = `${archive}.lock`;
  await acquireLock(lock, `image ${ref}`, progress);
  const partial = `${archive}.partial-${process.pid}`;
  try {
    if (existsSync(archive)) return { ref, archive }; // another process built it while we waited
    const log = `${archive}.build.log`;
    rmSync(log, { force: true });
    progress(`building image ${ref} (first time on this machine; may take a minute or two) — log: ${log}`);
    const started = Date.now();
    const ticker = setInterval(() => progress(`  … still building ${ref}: ${Math.round((Date.now() - started) / 1000)}s`), 30_000);
    const step: BuildStep = { buildah: buildahFor(imagesDir(), log), log, dir: imagesDir(), ref };
    try {
      await build(step);
      await step.buildah.run(['push', '-q', ref, `docker-archive:${partial}:${ref}`]);
      noteImageId(partial, archive);
      renameSync(partial, archive);
    } catch (err) {
      if (err instanceof LocalClusterError) throw err;
      const hint = spec.network ? '\n(this build downloads packages from npm and Debian mirrors: scripts/ensure-deps.sh builds it while they are reachable)' : '';
      throw new LocalClusterError('ImageBuildFailed', `building image ${ref} failed: ${(err as Error).message}; log: ${log}${hint}\n${tailFile(log, 20)}`, { image: ref, log });
    } finally {
      clearInterval(ticker);
    }
    progress(`built image ${ref} in ${Math.round((Date.now() - started) / 1000)}s (${megabytes(archive)} MB)`);
    pruneArchives(imagesDir(), spec.name, archive);
    return { ref, archive };
  } finally {
    rmSync(partial, { force: true });
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Puts a cached image back under its name when buildah's store lost it or names another build: the archive is the truth. */
export async function restoreBase(buildah: Buildah, base: NodeImage, id: string): Promise<void> {
  if (buildah.imageId(base.ref) === id) return;
  await buildah.run(['pull', '-q', `docker-archive:${base.archive}`]);
  const now = buildah.imageId(base.ref);
  if (now !== id) throw new Error(`${base.ref} from ${base.archive} has id ${now ?? 'none'} in buildah's store, not ${id}`);
}

const megabytes = (file: string): number => Math.round(statSync(file).size / 1e6);
