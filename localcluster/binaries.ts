// Builds the control-plane binaries from the Go wrapper modules under tools/ into a
// machine-wide cache keyed by version, so every clone on this machine builds them once.
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { LocalClusterError, tailFile } from './errors.ts';

export const repoRoot = resolve(import.meta.dirname, '..');

export interface BinarySpec {
  /** Name of the produced executable. */
  name: string;
  /** Wrapper module folder under tools/. */
  module: string;
  /** Go package path of the main package to build. */
  pkg: string;
  /** Release the binary reports; part of the cache key. */
  version: string;
  ldflags?: string[];
  /** Go build tags; part of the cache key. */
  tags?: string[];
  /** Static, without cgo (containerd's own release builds are). */
  noCgo?: boolean;
  /**
   * Who needs it: the local cluster (`cluster up`, the demo and every test tier), the real node (`cluster up --node real`
   * and its test tier), the tests alone (built by the setup phase of `npm test` and CI, never for the demo), or one
   * benchmark (built only when named in `only`).
   */
  neededBy: 'cluster' | 'node' | 'tests' | 'bench';
}

const kubeVersion = 'v1.34.4';
// The apiserver reports these through /version, as a release build would.
const kubeLdflags = [
  `-X k8s.io/component-base/version.gitVersion=${kubeVersion}`,
  '-X k8s.io/component-base/version.gitMajor=1',
  '-X k8s.io/component-base/version.gitMinor=34',
  '-X k8s.io/component-base/version.gitTreeState=clean',
  '-X k8s.io/component-base/version.buildDate=2026-01-01T00:00:00Z',
  `-X k8s.io/client-go/pkg/version.gitVersion=${kubeVersion}`,
  '-X k8s.io/client-go/pkg/version.gitMajor=1',
  '-X k8s.io/client-go/pkg/version.gitMinor=34',
];

const containerdVersion = 'v2.2.9';

export const binarySpecs: readonly BinarySpec[] = [
  { name: 'etcd', module: 'etcd', pkg: '.', version: 'v3.5.24', neededBy: 'cluster' },
  { name: 'kube-apiserver', module: 'kubernetes', pkg: 'k8s.io/kubernetes/cmd/kube-apiserver', version: kubeVersion, ldflags: kubeLdflags, neededBy: 'cluster' },
  // The demo runs it to show what a user types.
  { name: 'kubectl', module: 'kubernetes', pkg: 'k8s.io/kubernetes/cmd/kubectl', version: kubeVersion, ldflags: kubeLdflags, neededBy: 'cluster' },
  { name: 'kube-controller-manager', module: 'kubernetes', pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager', version: kubeVersion, ldflags: kubeLdflags, neededBy: 'cluster' },
  { name: 'kube-scheduler', module: 'kubernetes', pkg: 'k8s.io/kubernetes/cmd/kube-scheduler', version: kubeVersion, ldflags: kubeLdflags, neededBy: 'cluster' },
  { name: 'kubelet', module: 'kubernetes-node', pkg: 'k8s.io/kubernetes/cmd/kubelet', version: kubeVersion, ldflags: kubeLdflags, neededBy: 'node' },
  { name: 'kube-proxy', module: 'kubernetes-node', pkg: 'k8s.io/kubernetes/cmd/kube-proxy', version: kubeVersion, ldflags: kubeLdflags, neededBy: 'node' },
  // containerd 2.x: Debian's 1.6 is below the floor containerd itself supports for current kubelets.
  ...(['containerd', 'containerd-shim-runc-v2', 'ctr'] as const).map((name): BinarySpec => ({
    name, module: 'containerd', pkg: `github.com/containerd/containerd/v2/cmd/${name}`, version: containerdVersion, neededBy: 'node',
    ldflags: [`-X github.com/containerd/containerd/v2/version.Version=${containerdVersion.slice(1)}`], tags: ['no_btrfs', 'no_devmapper', 'no_zfs'], noCgo: true,
  })),
  { name: 'coredns', module: 'coredns', pkg: '.', version: 'v1.15.0', neededBy: 'node' },
  { name: 'kwok', module: 'kwok', pkg: 'sigs.k8s.io/kwok/cmd/kwok', version: 'v0.7.0', neededBy: 'cluster' },
  // Argo CD's multi-call binary; named `argocd` it is the CLI, which the tests run on our Lua health checks and actions (argocd/).
  { name: 'argocd', module: 'argocd', pkg: 'github.com/argoproj/argo-cd/v3/cmd', version: 'v3.2.11', ldflags: ['-X github.com/argoproj/argo-cd/v3/common.version=3.2.11', '-X github.com/argoproj/argo-cd/v3/common.kubectlVersion=v0.34.0'], neededBy: 'tests' },
  // The kustomize Argo CD's repo-server runs on argocd/platform, in the real node's Argo CD image (localcluster/realnode/argocd-images.ts).
  { name: 'kustomize', module: 'kustomize', pkg: 'sigs.k8s.io/kustomize/kustomize/v5', version: 'v5.7.0', ldflags: ['-X sigs.k8s.io/kustomize/api/provenance.version=v5.7.0'], neededBy: 'tests', noCgo: true },
  // Open Policy Agent, for the side-by-side admission benchmark (bench/admission.bench.ts).
  { name: 'opa', module: 'opa', pkg: '.', version: 'v1.22.2', neededBy: 'bench' },
  // vegeta, the admission benchmark's open-loop load generator: a Go pacer that keeps the schedule whatever the server does.
  { name: 'vegeta', module: 'vegeta', pkg: 'github.com/tsenart/vegeta/v12', version: 'v12.13.0', neededBy: 'bench' },
  // Kueue's manager, for the side-by-side queue benchmark (bench/queue-admission.bench.ts).
  { name: 'kueue', module: 'kueue', pkg: 'sigs.k8s.io/kueue/cmd/kueue', version: 'v0.17.0', ldflags: ['-X sigs.k8s.io/kueue/pkg/version.GitVersion=v0.17.0'], neededBy: 'bench' },
];

export function cacheRoot(): string {
  const base = process.env.TRAININGJOB_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'trainingjob');
  return join(base, 'bin');
}

/** Cache folder of one binary: name, release and a hash of its wrapper module, so an edit rebuilds. */
export function binaryDir(spec: BinarySpec): string {
  const moduleDir = join(repoRoot, 'tools', spec.module);
  const hash = createHash('sha256');
  for (const f of readdirSync(moduleDir).sort()) hash.update(f).update(readFileSync(join(moduleDir, f)));
  hash.update(JSON.stringify(spec.ldflags ?? [])).update(goVersion());
  if (spec.tags?.length || spec.noCgo) hash.update(JSON.stringify({ tags: spec.tags ?? [], noCgo: spec.noCgo ?? false }));
  return join(cacheRoot(), `${spec.name}-${spec.version}-${hash.digest('hex').slice(0, 12)}`);
}

// Keyed by PATH, since a different PATH may find a different (or no) toolchain.
const goVersions = new Map<string, string>();
function goVersion(): string {
  const known = goVersions.get(process.env.PATH ?? '');
  if (known) return known;
  const r = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new LocalClusterError('GoMissing', 'the Go toolchain is needed to build the control-plane binaries, but `go` was not found on PATH (install Go ≥ 1.24, e.g. /usr/local/go/bin)', {});
  }
  const v = r.stdout.trim();
  goVersions.set(process.env.PATH ?? '', v);
  return v;
}

export type Progress = (line: string) => void;

/** What a plain build covers: the local cluster's binaries (`cluster up`, the demo), those plus the real node's, or all those plus the tests' own. */
export type BuildScope = 'cluster' | 'node' | 'tests';

export interface EnsureOptions {
  /** Build just these, whatever they are needed by; without it, what `scope` needs. */
  only?: readonly string[];
  /** Default 'cluster': the demo never waits for a binary only the tests run. */
  scope?: BuildScope;
  progress?: Progress;
}

const scopeCovers: Record<BuildScope, readonly BinarySpec['neededBy'][]> = {
  cluster: ['cluster'],
  node: ['cluster', 'node'],
  tests: ['cluster', 'node', 'tests'],
};

/** The binaries a scope needs: the cluster's, the real node's for 'node', and for 'tests' the tests' own too; a benchmark's only when named. */
export function binariesFor(scope: BuildScope): readonly BinarySpec[] {
  return binarySpecs.filter((s) => scopeCovers[scope].includes(s.neededBy));
}

/** Returns name → absolute path, building whatever the cache lacks (one at a time, with progress). */
export async function ensureBinaries(opts: EnsureOptions = {}): Promise<Record<string, string>> {
  const progress = opts.progress ?? ((l: string) => process.stderr.write(`${l}\n`));
  const out: Record<string, string> = {};
  const specs = opts.only ? binarySpecs.filter((s) => opts.only!.includes(s.name)) : binariesFor(opts.scope ?? 'cluster');
  for (const spec of specs) out[spec.name] = await ensureBinary(spec, progress);
  return out;
}

async function ensureBinary(spec: BinarySpec, progress: Progress): Promise<string> {
  const dir = binaryDir(spec);
  const bin = join(dir, spec.name);
  if (existsSync(bin)) return bin;
  mkdirSync(cacheRoot(), { recursive: true });
  const lock = `${dir}.lock`;
  await acquireLock(lock, spec.name, progress);
  try {
    if (existsSync(bin)) return bin; // another process built it while we waited
    await goBuild(spec, dir, progress);
    return bin;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

async function goBuild(spec: BinarySpec, dir: string, progress: Progress): Promise<void> {
  const moduleDir = join(repoRoot, 'tools', spec.module);
  const staging = `${dir}.partial-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  const logPath = `${dir}.build.log`;
  const args = ['build', '-trimpath', '-o', join(staging, spec.name)];
  if (spec.ldflags?.length) args.push(`-ldflags=${spec.ldflags.join(' ')}`);
  if (spec.tags?.length) args.push(`-tags=${spec.tags.join(',')}`);
  args.push(spec.pkg);
  const started = Date.now();
  progress(`building ${spec.name} ${spec.version} from Go modules (first time on this machine; may take several minutes) — log: ${logPath}`);
  const log = createWriteStream(logPath);
  // The Go on PATH builds, or the build fails saying which version the module needs: no toolchain download.
  const child = spawn('go', args, { cwd: moduleDir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GOTOOLCHAIN: 'local', ...(spec.noCgo ? { CGO_ENABLED: '0' } : {}) } });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const ticker = setInterval(() => progress(`  … still building ${spec.name}: ${Math.round((Date.now() - started) / 1000)}s`), 30_000);
  const code = await new Promise<number | null>((res, rej) => {
    child.on('error', rej);
    child.on('close', res);
  }).finally(() => clearInterval(ticker));
  await new Promise<void>((res) => log.end(res));
  if (code !== 0) {
    rmSync(staging, { recursive: true, force: true });
    const tail = tailFile(logPath, 15);
    const cause = /dial tcp|proxy|GOPROXY|module lookup disabled|no such host|reading .*: 4\d\d|verifying .*: /.test(tail) ? 'a Go module download failed' : 'go build failed';
    throw new LocalClusterError('BuildFailed', `${cause} for ${spec.name} ${spec.version} (exit ${code}); log: ${logPath}\n${tail}`, { binary: spec.name, log: logPath });
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  writeFileSync(join(staging, 'BUILD_INFO'), JSON.stringify({ name: spec.name, version: spec.version, seconds, go: goVersion(), builtAt: new Date().toISOString() }) + '\n');
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  progress(`built ${spec.name} ${spec.version} in ${seconds}s`);
}

// mkdir is atomic, so it serves as a cross-process lock; a lock whose owner died is taken over.
export async function acquireLock(lock: string, name: string, progress: Progress): Promise<void> {
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number(readFileSafe(join(lock, 'pid')));
    if (owner && !pidAlive(owner)) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (!announced) progress(`waiting for another process (pid ${owner || '?'}) that is building ${name}`);
    announced = true;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function readFileSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
