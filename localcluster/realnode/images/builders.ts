// How each node image is made: the base from Debian packages (the machine's apt sources) plus the project's own
// Node.js, our app from the unchanged Dockerfile, the tests' worker, and a static pause binary FROM scratch.
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LocalClusterError } from '../../errors.ts';
import { runLogged, type Buildah } from './buildah.ts';

export const sourceDir = import.meta.dirname;
// What the official node:24 image carries besides Node itself.
export const NPM_VERSION = '11.6.2';
export const COREPACK_VERSION = '0.34.0';
export const YARN_VERSION = '1.22.22';

// debian:bookworm-slim's own dpkg excludes (what node:*-slim is built on): no docs, man pages or locales, then or later.
const SLIM_DPKG_OPTIONS = [
  'path-exclude=/usr/share/doc/*', 'path-include=/usr/share/doc/*/copyright', 'path-exclude=/usr/share/man/*', 'path-exclude=/usr/share/groff/*',
  'path-exclude=/usr/share/info/*', 'path-exclude=/usr/share/lintian/*', 'path-exclude=/usr/share/linda/*', 'path-exclude=/usr/share/locale/*',
  'path-include=/usr/share/locale/locale.alias',
];
export const MMDEBSTRAP_OPTIONS = ['--variant=minbase', '--mode=root', '--format=tar', ...SLIM_DPKG_OPTIONS.map((o) => `--dpkgopt=${o}`)];

export interface BuildStep {
  buildah: Buildah;
  log: string;
  /** The images cache folder: scratch space lives here, next to buildah's store. */
  dir: string;
  ref: string;
}

/** The Node.js the project runs on (the `node` npm package's platform package), laid out as an official distribution. */
export function nodeDistribution(repoRoot: string): { dir: string; version: string } {
  const pkgJson = join(repoRoot, 'node_modules', 'node', 'package.json');
  if (!existsSync(pkgJson)) throw new LocalClusterError('ImageBuildFailed', `the node npm package is missing (${pkgJson}); run scripts/ensure-deps.sh`, {});
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  const platformPkg = `node-${process.platform}-${process.arch}`;
  const candidates: string[] = [];
  try {
    candidates.push(dirname(createRequire(pkgJson).resolve(`${platformPkg}/package.json`)));
  } catch {
    // Not resolvable from the node package: look where npm hoists or nests it.
  }
  candidates.push(join(repoRoot, 'node_modules', 'node', 'node_modules', platformPkg), join(repoRoot, 'node_modules', platformPkg));
  const dir = candidates.find((d) => existsSync(join(d, 'bin', 'node')));
  if (!dir) throw new LocalClusterError('ImageBuildFailed', `no ${platformPkg}/bin/node under ${repoRoot}/node_modules (the node package installs it); run scripts/ensure-deps.sh`, {});
  return { dir, version };
}

/** The machine's apt sources: the Debian mirrors it can reach, however it reaches them. */
export function aptSourceFiles(): string[] {
  const d = '/etc/apt/sources.list.d';
  const files = existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.sources') || f.endsWith('.list')).sort().map((f) => join(d, f)) : [];
  if (existsSync('/etc/apt/sources.list') && statSync('/etc/apt/sources.list').size > 0) files.push('/etc/apt/sources.list');
  return files;
}

export async function buildBase(s: BuildStep, node: { dir: string; version: string }): Promise<void> {
  const work = join(s.dir, `base-work-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    await runLogged('npm', ['pack', `npm@${NPM_VERSION}`, `corepack@${COREPACK_VERSION}`, `yarn@${YARN_VERSION}`, '--pack-destination', work, '--silent'], s.log, work, 'npm pack');
    const tgz = (name: string, v: string): string => join(work, `${name}-${v}.tgz`);
    const hookArgs = [node.dir, tgz('npm', NPM_VERSION), tgz('corepack', COREPACK_VERSION), tgz('yarn', YARN_VERSION), YARN_VERSION];
    // mmdebstrap runs the hook with sh -c, the root filesystem as $1.
    const hook = `${shellWord(join(sourceDir, 'base-rootfs-hook.sh'))} "$1" ${hookArgs.map(shellWord).join(' ')}`;
    const rootfs = join(work, 'rootfs.tar');
    await runLogged('mmdebstrap', [...MMDEBSTRAP_OPTIONS, `--customize-hook=${hook}`, 'bookworm', rootfs, ...aptSourceFiles()], s.log, work, 'mmdebstrap');
    const c = (await s.buildah.run(['from', 'scratch'])).trim();
    try {
      await s.buildah.run(['add', c, rootfs, '/']);
      await s.buildah.run([
        'config', '--env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '--env', `NODE_VERSION=${node.version}`,
        '--env', `YARN_VERSION=${YARN_VERSION}`, '--entrypoint', '["docker-entrypoint.sh"]', '--cmd', 'node', c,
      ]);
      await s.buildah.run(['commit', '-q', c, s.ref]);
    } finally {
      await s.buildah.run(['rm', c]).catch(() => undefined);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export async function buildApp(s: BuildStep, repoRoot: string): Promise<void> {
  const mounts: string[] = [];
  // npm's registry is reached through a TLS-intercepting proxy only the host trusts (NODE_EXTRA_CA_CERTS): these
  // mounts exist during RUN steps only, so npm ci trusts it while the Dockerfile and the image stay unchanged.
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  if (ca && existsSync(ca)) {
    const npmrc = join(s.dir, 'build-npmrc');
    writeFileSync(npmrc, 'cafile=/run/host-ca.crt\n');
    mounts.push('-v', `${ca}:/run/host-ca.crt:ro`, '-v', `${npmrc}:/usr/local/etc/npmrc:ro`);
  }
  // --force-rm: a failed build (offline, say) leaves no container mounted in the store.
  await s.buildah.run(['bud', '--pull-never', '--network', 'host', '--layers', '--force-rm', '-q', ...mounts, '-f', join(repoRoot, 'Dockerfile'), '-t', s.ref, repoRoot]);
}

export async function buildWorker(s: BuildStep): Promise<void> {
  const context = join(sourceDir, 'worker');
  await s.buildah.run(['bud', '--pull-never', '--network', 'none', '--layers', '--force-rm', '-q', '-f', join(context, 'Containerfile'), '-t', s.ref, context]);
}

/** Debian's packages the reference trainer (examples/trainer) runs on: PyTorch with gloo on CPU, and its metrics. */
export const TRAINER_PACKAGES = ['python3-torch', 'python3-prometheus-client'];

/** examples/trainer as an image: Debian bookworm with TRAINER_PACKAGES (what its README's Containerfile installs) and train.py. */
export async function buildTrainer(s: BuildStep, trainerDir: string): Promise<void> {
  const work = join(s.dir, `trainer-work-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const rootfs = join(work, 'rootfs.tar');
    await runLogged('mmdebstrap', [...MMDEBSTRAP_OPTIONS, `--include=${TRAINER_PACKAGES.join(',')}`, 'bookworm', rootfs, ...aptSourceFiles()], s.log, work, 'mmdebstrap');
    const c = (await s.buildah.run(['from', 'scratch'])).trim();
    try {
      await s.buildah.run(['add', c, rootfs, '/']);
      await s.buildah.run(['copy', c, join(trainerDir, 'train.py'), '/opt/trainer/train.py']);
      // HOME: torch and Python may write caches; workers run as a UID with no home in the image.
      await s.buildah.run(['config', '--env', 'PYTHONUNBUFFERED=1', '--env', 'HOME=/tmp', '--user', '65532:65532', '--entrypoint', '["python3", "/opt/trainer/train.py"]', c]);
      await s.buildah.run(['commit', '-q', c, s.ref]);
    } finally {
      await s.buildah.run(['rm', c]).catch(() => undefined);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export async function buildPause(s: BuildStep): Promise<void> {
  const work = join(s.dir, `pause-work-${process.pid}`);
  mkdirSync(work, { recursive: true });
  try {
    await runLogged('gcc', ['-static', '-O2', '-s', '-o', join(work, 'pause'), join(sourceDir, 'pause.c')], s.log, work, 'gcc');
    const c = (await s.buildah.run(['from', 'scratch'])).trim();
    try {
      await s.buildah.run(['copy', c, join(work, 'pause'), '/pause']);
      await s.buildah.run(['config', '--entrypoint', '["/pause"]', c]);
      await s.buildah.run(['commit', '-q', c, s.ref]);
    } finally {
      await s.buildah.run(['rm', c]).catch(() => undefined);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** One word for sh -c, whatever it holds. */
export const shellWord = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
