// The host tools the image builds run, checked before any build so a missing one is named with its Debian package.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LocalClusterError } from '../../errors.ts';

const ALL_PACKAGES = 'mmdebstrap buildah gcc libc6-dev';

/** Fails when a tool the needed builds run is missing: buildah for all, mmdebstrap and npm for the base, gcc with libc.a for pause. */
export function requireTools(need: { base: boolean; pause: boolean }): void {
  const tools: Record<string, string> = { buildah: 'buildah', ...(need.base ? { mmdebstrap: 'mmdebstrap', npm: 'npm' } : {}), ...(need.pause ? { gcc: 'gcc' } : {}) };
  const missing = Object.keys(tools).filter((t) => !onPath(t));
  // gcc -static links libc.a, which only libc6-dev ships; gcc prints the bare name when it has none.
  if (need.pause && onPath('gcc') && !existsSync(spawnSync('gcc', ['-print-file-name=libc.a'], { encoding: 'utf8' }).stdout?.trim() ?? '')) {
    missing.push('libc.a');
    tools['libc.a'] = 'libc6-dev';
  }
  if (missing.length) {
    const packages = missing.map((t) => tools[t]).join(' ');
    throw new LocalClusterError('ImageBuildFailed', `building the real node's images needs ${missing.join(', ')}: apt-get install ${packages} (scripts/ensure-deps.sh installs ${ALL_PACKAGES})`, { missing });
  }
  if (need.base && process.getuid?.() !== 0) {
    throw new LocalClusterError('ImageBuildFailed', 'building the node:24-bookworm-slim stand-in needs root (mmdebstrap --mode=root, as the real node itself does)', {});
  }
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => {
    try {
      accessSync(join(d || '.', cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
