// Cold build of every control-plane binary: empty binary cache and empty Go build cache
// (the module cache is kept: downloads depend on the network, not on this project).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binariesFor, binaryDir, ensureBinaries } from '../localcluster/binaries.ts';
import type { Suite } from './run.ts';

export const coldBuildSuite: Suite = {
  name: 'build',
  explicitOnly: true,
  async run() {
    const tmp = mkdtempSync(join(tmpdir(), 'tj-bench-build-'));
    const saved = { TRAININGJOB_CACHE_DIR: process.env.TRAININGJOB_CACHE_DIR, GOCACHE: process.env.GOCACHE };
    process.env.TRAININGJOB_CACHE_DIR = join(tmp, 'cache');
    process.env.GOCACHE = join(tmp, 'gocache');
    const rows: string[] = [];
    try {
      const t0 = performance.now();
      await ensureBinaries({ scope: 'tests', progress: (l) => process.stderr.write(`${l}\n`) });
      const total = (performance.now() - t0) / 1000;
      for (const spec of binariesFor('tests')) {
        const info = JSON.parse(readFileSync(join(binaryDir(spec), 'BUILD_INFO'), 'utf8')) as { seconds: number };
        rows.push(`| ${spec.name} ${spec.version} | ${info.seconds} s |`);
      }
      rows.push(`| **all, in this order** | **${Math.round(total)} s** |`);
    } finally {
      Object.assign(process.env, saved);
      if (saved.GOCACHE === undefined) delete process.env.GOCACHE;
      if (saved.TRAININGJOB_CACHE_DIR === undefined) delete process.env.TRAININGJOB_CACHE_DIR;
      rmSync(tmp, { recursive: true, force: true });
    }
    return [
      '### Cold build of the control-plane binaries (empty Go build cache, modules already downloaded)',
      '',
      'Built one after another; later Kubernetes binaries reuse packages compiled for the apiserver.',
      '',
      '| binary | build time |',
      '|---|---|',
      ...rows,
      '',
    ].join('\n');
  },
};
