// Git sync: push → TrainingJob created through the push receiver (median, p95); initial
// sync of repositories with 1,000 and 5,000 job files; a one-file change on 100, 1,000 and 5,000
// files (should stay flat as the repository grows); the controller's RSS.
//
// Real parts: etcd + kube-apiserver, the platform (webhook, so every apply is admitted), a
// `git http-backend` server, pushes by the git CLI, and the controller as a separate process (the
// real `trainingjob controller` CLI, default client settings) whose memory is read from /proc. The
// benchmark plays the git host's webhook: right after `git push` returns it POSTs a GitHub-signed
// hook. The jobs are suspended, so the TrainingJob controller does not build workloads for
// thousands of them and the apiserver's time goes to the sync being measured.
import { sendPushHook } from './push-hook.ts';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { GROUP, TRAININGJOB_PLURAL, V1 } from '../api/index.ts';
import type { JobRepository } from '../api/jobrepository.ts';
import { createInformer, type EventHandlers, type Informer } from '../kube/informer.ts';
import type { KubeObject } from '../kube/kube-object.ts';
import { startControlPlane } from '../localcluster/controlplane.ts';
import { installPlatform } from '../localcluster/platform.ts';
import { startGitServer, type GitServer } from '../localcluster/git-server.ts';
import { cloneWorkingCopy, type WorkingCopy } from '../localcluster/git-cli.ts';
import { mb, memoryOf, startControllerProcess } from './controller-process.ts';
import { describeLoad, startMeter } from './machine.ts';
import { fmt, summarize } from './stats.ts';
import type { Suite } from './run.ts';
import { DEFAULT_WORKERS } from '../controller/trainingjob/reconciler.ts';

const namespace = 'gitsync-bench';
const hookSecret = 'bench-hook-secret';
const pushRounds = Number(process.env.BENCH_GITSYNC_PUSHES ?? 20);
const changeRounds = Number(process.env.BENCH_GITSYNC_CHANGES ?? 5);
const sizes = (process.env.BENCH_GITSYNC_SIZES ?? '100,1000,5000').split(',').map(Number);
const waitLimitMs = Number(process.env.BENCH_GITSYNC_TIMEOUT_MS ?? 20 * 60_000);
const log = (l: string): void => void process.stderr.write(`  ${l}\n`);
const ms = (n: number): string => `${n.toFixed(0)} ms`;

const jobFile = (name: string, lr = 0.001): string =>
  `apiVersion: ml.example.com/v1\nkind: TrainingJob\nmetadata:\n  name: ${name}\nspec:\n  suspend: true\n  framework: pytorch\n  model: resnet50\n  dataset: imagenet\n  numWorkers: 1\n  gpusPerWorker: 0\n  hyperparameters:\n    learningRate: ${lr}\n    epochs: 3\n`;

/** An informer (list + watch, re-watched when the apiserver ends a watch) of `plural` in the bench namespace. */
async function informerOf<T extends KubeObject>(kc: KubeConfig, plural: string, handlers: EventHandlers<T>): Promise<Informer<T>> {
  const inf = createInformer<T>({ kubeConfig: kc, resource: { group: GROUP, version: V1, plural, namespace }, logger: pino({ level: 'silent' }), resyncMs: 0 });
  inf.on(handlers);
  inf.start();
  await inf.waitForSync();
  return inf;
}

/** Resolves when `pred` holds for the repository (checked on every watch event), or rejects at the limit. */
function repositoryWhen(repos: Map<string, JobRepository>, waiters: Set<() => void>, name: string, pred: (r: JobRepository) => boolean, what: string): Promise<JobRepository> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const r = repos.get(name);
      if (r && pred(r)) {
        waiters.delete(check);
        clearTimeout(timer);
        resolve(r);
      }
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`${what}: not within ${waitLimitMs / 1000} s; status ${JSON.stringify(repos.get(name)?.status ?? {}).slice(0, 600)}`));
    }, waitLimitMs);
    waiters.add(check);
    check();
  });
}

function sendHook(hooksUrl: string, name: string): Promise<number> {
  return sendPushHook(hooksUrl, namespace, name, hookSecret);
}

async function run(): Promise<string> {
  const stopMeter = startMeter();
  const cp = await startControlPlane({ progress: log });
  let server: GitServer | undefined;
  const clones: WorkingCopy[] = [];
  const stops: Array<() => unknown> = [];
  try {
    const kc = cp.kubeConfig();
    const platform = await installPlatform({ kubeConfig: kc, progress: log });
    stops.push(() => platform.stop());
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'hook' }, stringData: { hookSecret } } });
    server = await startGitServer();
    const controller = await startControllerProcess(cp, { qps: 50, burst: 100, workers: DEFAULT_WORKERS }, 'gitsync');
    stops.push(() => controller.stop());
    const pid = controller.proc.pid;

    const repos = new Map<string, JobRepository>();
    const waiters = new Set<() => void>();
    const created = new Map<string, number>();
    const seen = (r: JobRepository & KubeObject): void => {
      repos.set(r.metadata!.name!, r);
      for (const w of [...waiters]) w();
    };
    const repoInformer = await informerOf<JobRepository & KubeObject>(kc, 'jobrepositories', { add: seen, update: (_old, r) => seen(r) });
    stops.push(() => repoInformer.stop());
    const jobInformer = await informerOf<KubeObject>(kc, TRAININGJOB_PLURAL, {
      add: (j) => void (created.has(j.metadata!.name!) || created.set(j.metadata!.name!, performance.now())),
    });
    stops.push(() => jobInformer.stop());

    const repository = async (name: string): Promise<WorkingCopy> => {
      server!.createRepo(name);
      const wc = await cloneWorkingCopy({ url: server!.url(name) });
      clones.push(wc);
      return wc;
    };
    const createRepository = (name: string) =>
      custom.createNamespacedCustomObject({
        group: GROUP, version: V1, namespace, plural: 'jobrepositories',
        // A long interval: every sync measured here is started by the hook, none by the poll.
        body: { apiVersion: `${GROUP}/${V1}`, kind: 'JobRepository', metadata: { name, namespace }, spec: { url: server!.url(name), ref: { branch: 'main' }, path: 'jobs', interval: '1h', secretRef: { name: 'hook' } } },
      });

    // ---- push → created, one new job file per push ----
    const pushWc = await repository('push');
    await pushWc.commitAndPush({ 'jobs/seed.yaml': jobFile('push-seed') }, 'seed');
    await createRepository('push');
    await repositoryWhen(repos, waiters, 'push', (r) => r.status?.lastAppliedRevision !== undefined, 'first sync of push');
    const pushMs: number[] = [];
    const pushToCreated: number[] = [];
    const hookToCreated: number[] = [];
    for (let i = 0; i < pushRounds; i++) {
      const name = `push-${i}`;
      pushWc.write({ [`jobs/${name}.yaml`]: jobFile(name) });
      await pushWc.commit(`add ${name}`);
      const t0 = performance.now();
      await pushWc.push();
      const pushed = performance.now();
      const status = await sendHook(controller.hooksUrl, 'push');
      if (status !== 202) throw new Error(`hook answered ${status}`);
      const deadline = Date.now() + 60_000;
      while (!created.has(name)) {
        if (Date.now() > deadline) throw new Error(`${name} not created within 60 s`);
        await new Promise((r) => setTimeout(r, 2));
      }
      pushMs.push(pushed - t0);
      pushToCreated.push(created.get(name)! - t0);
      hookToCreated.push(created.get(name)! - pushed);
      // The next push waits for this sync to finish, as consecutive pushes by one engineer would.
      const head = await pushWc.head();
      await repositoryWhen(repos, waiters, 'push', (r) => r.status?.lastAppliedRevision === head, `sync of ${name}`);
    }
    log(`push → created: median ${ms(summarize(pushToCreated).median)}`);

    // ---- initial sync and one-file changes, per repository size ----
    const rows: string[] = [];
    const changeMedians = new Map<number, number>();
    // Push done (hook sent) → applied: the controller's part, without the git client and server's own push.
    const syncMedians = new Map<number, number>();
    for (const n of sizes) {
      const name = `files-${n}`;
      const wc = await repository(name);
      const files: Record<string, string> = {};
      for (let i = 0; i < n; i++) files[`jobs/job-${String(i).padStart(5, '0')}.yaml`] = jobFile(`${name}-${i}`);
      const rev = await wc.commitAndPush(files, `${n} jobs`);
      const t0 = performance.now();
      await createRepository(name);
      const first = await repositoryWhen(repos, waiters, name, (r) => r.status?.lastAppliedRevision === rev, `initial sync of ${n} files`);
      const initialMs = performance.now() - t0;
      if ((first.status?.inventory?.length ?? 0) !== n) throw new Error(`${name}: inventory ${first.status?.inventory?.length} of ${n}`);
      log(`${n} files: initial sync ${fmt(initialMs)}; controller RSS ${mb(memoryOf(pid)?.rssKb ?? 0)}`);
      const changes: number[] = [];
      const pushes: number[] = [];
      const syncs: number[] = [];
      for (let k = 0; k < changeRounds; k++) {
        wc.write({ 'jobs/job-00042.yaml': jobFile(`${name}-42`, 0.002 + k / 1000) });
        await wc.commit(`change ${k}`);
        const started = performance.now();
        await wc.push();
        const pushed = performance.now();
        const status = await sendHook(controller.hooksUrl, name);
        if (status !== 202) throw new Error(`hook for ${name} answered ${status}`);
        const head = await wc.head();
        await repositoryWhen(repos, waiters, name, (r) => r.status?.lastAppliedRevision === head, `one-file change on ${n} files`);
        const done = performance.now();
        changes.push(done - started);
        pushes.push(pushed - started);
        syncs.push(done - pushed);
      }
      const c = summarize(changes);
      const y = summarize(syncs);
      changeMedians.set(n, c.median);
      syncMedians.set(n, y.median);
      const mem = memoryOf(pid);
      rows.push(`| ${n.toLocaleString('en-US')} | ${fmt(initialMs)} | ${(n / (initialMs / 1000)).toFixed(0)} | ${ms(c.median)} | ${ms(c.min)}–${ms(c.max)} | ${ms(summarize(pushes).median)} | ${ms(y.median)} (${ms(y.min)}–${ms(y.max)}) | ${mb(mem?.rssKb ?? NaN)} | ${mb(mem?.hwmKb ?? NaN)} |`);
    }

    const p = summarize(pushToCreated);
    const h = summarize(hookToCreated);
    const g = summarize(pushMs);
    const smallest = changeMedians.get(Math.min(...sizes));
    const largest = changeMedians.get(Math.max(...sizes));
    const load = describeLoad(stopMeter());
    return [
      '### Git sync: push → created, initial sync, one-file change',
      '',
      `Real kube-apiserver v1.34.4 + etcd, the platform's webhook admitting every apply, \`git http-backend\` on loopback, pushes by the git CLI; the controller is a separate process (\`trainingjob controller\`, default client settings 50 qps / burst 100, ${DEFAULT_WORKERS} workers). Jobs are suspended so no workloads are built. ${load}`,
      '',
      `#### Push → TrainingJob created through the push receiver (${pushRounds} pushes, one new file each)`,
      '',
      '| | median | p95 | min | max |',
      '|---|---|---|---|---|',
      `| \`git push\` itself | ${ms(g.median)} | ${ms(g.p95)} | ${ms(g.min)} | ${ms(g.max)} |`,
      `| push start → created | ${ms(p.median)} | ${ms(p.p95)} | ${ms(p.min)} | ${ms(p.max)} |`,
      `| hook sent (push done) → created | ${ms(h.median)} | ${ms(h.p95)} | ${ms(h.min)} | ${ms(h.max)} |`,
      '',
      `#### Repository size (initial sync, then ${changeRounds} one-file changes each, hook-triggered; time from push start to lastAppliedRevision)`,
      '',
      '| job files | initial sync | files/s | one-file change, median | range | of which `git push` itself, median | push done → applied, median (range) | controller RSS after | peak RSS so far |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      smallest !== undefined && largest !== undefined ? `One-file change, largest vs smallest repository (same run): **${(largest / smallest).toFixed(2)}×** from push start (goal ≤ 2×; ≤ 1 s at 5,000 files); **${(syncMedians.get(Math.max(...sizes))! / syncMedians.get(Math.min(...sizes))!).toFixed(2)}×** from push done (the controller's part).` : '',
      '',
    ].join('\n');
  } finally {
    for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => undefined);
    for (const wc of clones) wc.remove();
    await server?.stop();
    await cp.stop();
  }
}

export const gitsyncSuite: Suite = { name: 'gitsync', run };
