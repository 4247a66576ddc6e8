// The harness's failure modes give one clear message naming the cause and the log, never a hang.
import t from 'tap';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertPortFree } from '../../localcluster/ports.ts';
import { startProcess, waitUntil } from '../../localcluster/process.ts';
import { ensureBinaries } from '../../localcluster/binaries.ts';
import { LocalClusterError } from '../../localcluster/errors.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tj-harness-errors-'));
t.teardown(() => import('node:fs').then((fs) => fs.rmSync(tmp, { recursive: true, force: true })));

t.test('a port already taken is named with its purpose', async (t) => {
  const srv = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const port = (srv.address() as { port: number }).port;
  t.teardown(() => srv.close());
  const err = await assertPortFree(port, 'kube-apiserver').catch((e: unknown) => e);
  t.type(err, LocalClusterError);
  t.equal((err as LocalClusterError).code, 'PortInUse');
  t.match((err as Error).message, `port 127.0.0.1:${port} for kube-apiserver is already taken`);
});

t.test('a binary that dies on start is reported with its exit code, log path and log tail', async (t) => {
  const script = join(tmp, 'dies.sh');
  writeFileSync(script, '#!/bin/sh\necho "fatal: cannot open data dir" >&2\nexit 3\n');
  chmodSync(script, 0o755);
  const p = startProcess({ name: 'fake-apiserver', command: script, args: [], logPath: join(tmp, 'dies.log') });
  const err = await waitUntil(p, 'ready', async () => false, 10_000).catch((e: unknown) => e);
  t.equal((err as LocalClusterError).code, 'ProcessExited');
  t.match((err as Error).message, /fake-apiserver exited with code 3 while starting; log: .*dies\.log/);
  t.match((err as Error).message, /fatal: cannot open data dir/);
});

t.test('a hung start times out with the log tail', async (t) => {
  const script = join(tmp, 'hangs.sh');
  writeFileSync(script, '#!/bin/sh\necho "waiting for etcd forever"\nexec sleep 60\n');
  chmodSync(script, 0o755);
  const p = startProcess({ name: 'hung-apiserver', command: script, args: [], logPath: join(tmp, 'hangs.log') });
  t.teardown(() => p.stop());
  const started = Date.now();
  const err = await waitUntil(p, 'ready', async () => false, 1500).catch((e: unknown) => e);
  t.equal((err as LocalClusterError).code, 'StartTimeout');
  t.match((err as Error).message, /hung-apiserver did not become ready within 2s; log: .*hangs\.log/);
  t.match((err as Error).message, /waiting for etcd forever/);
  t.ok(Date.now() - started < 10_000, 'returns instead of hanging');
  await p.stop();
  t.notOk(p.running(), 'stopped by pid');
});

t.test('a missing Go toolchain is named as the cause', async (t) => {
  const saved = { PATH: process.env.PATH, TRAININGJOB_CACHE_DIR: process.env.TRAININGJOB_CACHE_DIR };
  process.env.PATH = '/nonexistent';
  process.env.TRAININGJOB_CACHE_DIR = join(tmp, 'empty-cache');
  t.teardown(() => Object.assign(process.env, saved));
  const err = await ensureBinaries({ only: ['etcd'], progress: () => {} }).catch((e: unknown) => e);
  t.equal((err as LocalClusterError).code, 'GoMissing');
  t.match((err as Error).message, /Go toolchain .* `go` was not found on PATH/);
});

t.test('a failed module download is named as the cause, with the build log', async (t) => {
  const saved = { GOPROXY: process.env.GOPROXY, GOMODCACHE: process.env.GOMODCACHE, GOFLAGS: process.env.GOFLAGS, TRAININGJOB_CACHE_DIR: process.env.TRAININGJOB_CACHE_DIR };
  // No proxy and an empty module cache: the download must fail, quickly and without network.
  Object.assign(process.env, { GOPROXY: 'off', GOMODCACHE: join(tmp, 'modcache'), GOFLAGS: '-mod=mod', TRAININGJOB_CACHE_DIR: join(tmp, 'cache2') });
  t.teardown(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  const lines: string[] = [];
  const err = await ensureBinaries({ only: ['etcd'], progress: (l) => lines.push(l) }).catch((e: unknown) => e);
  t.equal((err as LocalClusterError).code, 'BuildFailed');
  t.match((err as Error).message, /a Go module download failed for etcd v3\.5\.24 \(exit 1\); log: .*etcd-v3\.5\.24-.*\.build\.log/);
  t.match(lines[0] ?? '', /building etcd v3\.5\.24 from Go modules/, 'progress names the binary');
});
