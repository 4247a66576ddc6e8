// Source trees of pinned Go modules (CRDs, rule files and such that upstream projects ship in their
// modules), fetched through the Go module proxy with checksums verified, like the binaries we build.
// Only the setup phase downloads (scripts/ensure-deps.sh); tests read the module cache, offline.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LocalClusterError } from './errors.ts';

/** Upstream modules whose files the tests read; one version each, pinned here. */
export const upstreamModules = {
  certManager: { path: 'github.com/cert-manager/cert-manager', version: 'v1.19.1' },
  prometheusOperator: { path: 'github.com/prometheus-operator/prometheus-operator', version: 'v0.85.0' },
  // Argo CD's own CRDs (manifests/crds/), the same release as the argocd CLI in binarySpecs.
  argoCd: { path: 'github.com/argoproj/argo-cd/v3', version: 'v3.2.11' },
} as const;

const dirs = new Map<string, string>();

/** Absolute path of the module's extracted source (read-only), from the module cache; `download` may fetch it. */
export function goModuleDir(mod: { path: string; version: string }, opts: { download?: boolean } = {}): string {
  const key = `${mod.path}@${mod.version}`;
  const known = dirs.get(key);
  if (known) return known;
  const env = {
    ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/local/go/bin`, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local',
    // Tests must not need a registry: without `download`, a module missing from the cache is an error, not a fetch.
    ...(opts.download ? {} : { GOPROXY: 'off' }),
  };
  const r = spawnSync('go', ['mod', 'download', '-json', key], { encoding: 'utf8', env, cwd: '/' });
  let dir: string | undefined;
  try {
    dir = (JSON.parse(r.stdout) as { Dir?: string; Error?: string }).Dir;
  } catch {
    dir = undefined;
  }
  if (r.error || r.status !== 0 || !dir || !existsSync(dir)) {
    const hint = opts.download ? '' : ' (tests read the module cache only: run scripts/ensure-deps.sh, which downloads it)';
    throw new LocalClusterError('ModuleDownloadFailed', `go mod download ${key} failed (exit ${r.status})${hint}: ${(r.stderr || r.stdout || String(r.error)).trim().slice(0, 800)}`, { module: key });
  }
  dirs.set(key, dir);
  return dir;
}

/** A file inside a pinned module, e.g. `moduleFile(upstreamModules.certManager, 'deploy/crds/cert-manager.io_certificates.yaml')`. */
export function moduleFile(mod: { path: string; version: string }, relative: string): string {
  const file = join(goModuleDir(mod), relative);
  if (!existsSync(file)) throw new LocalClusterError('ModuleFileMissing', `${relative} is not in ${mod.path}@${mod.version}`, { file });
  return file;
}

/** The setup phase's download of every module the tests read. */
export function downloadUpstreamModules(progress: (line: string) => void): void {
  for (const mod of Object.values(upstreamModules)) {
    try {
      goModuleDir(mod);
    } catch {
      progress(`downloading Go module ${mod.path}@${mod.version}`);
      goModuleDir(mod, { download: true });
    }
  }
}
