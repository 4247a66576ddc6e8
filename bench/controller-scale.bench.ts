// Controller at scale: 1,000 TrainingJobs created at once → time until every one has its
// worker Job, headless Service and ConfigMap and status.state Initializing or Running (jobs/s),
// and the controller's peak RSS; then steady-state RSS with 5,000 TrainingJobs in its caches.
//
// Setup per client setting (a fresh control plane each, so no setting inherits the last one's
// objects): etcd + kube-apiserver + kube-controller-manager + kube-scheduler + kwok with fake GPU
// nodes; the platform's CRDs (installPlatform) with the webhook configurations deleted, so creates
// pass no admission webhook (admission is measured by the apiserver-create suite). The controller
// runs as a separate process (bench/controller-scale-runner.ts = the real `trainingjob controller`
// CLI) whose VmRSS / VmHWM are read from /proc. The benchmark follows progress through its own
// watches (list+watch, not polling), so it adds little apiserver load.
import { readFileSync } from 'node:fs';
import { AdmissionregistrationV1Api, ApiException, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { pino } from 'pino';
import { GROUP, TRAININGJOB_LABEL, TRAININGJOB_PLURAL, V1 } from '../api/index.ts';
import { createInformer, type Informer } from '../kube/informer.ts';
import type { KubeObject } from '../kube/kube-object.ts';
import { DEFAULT_WORKERS } from '../controller/trainingjob/reconciler.ts';
import { startControlPlane, type ControlPlane } from '../localcluster/controlplane.ts';
import { getText } from '../localcluster/http.ts';
import { installPlatform } from '../localcluster/platform.ts';
import { mutatingConfigName, validatingConfigName } from '../webhook/registration.ts';
import { cpuSecondsOf, describeLoad, startMeter, type MachineLoad } from './machine.ts';
import { metricSum, summarize } from './stats.ts';
import type { Suite } from './run.ts';
import { defaultNodeFlags, mb, memoryOf, resetPeak, rssSampler, startControllerProcess, type Controller, type ControllerSetting } from './controller-process.ts';

type Setting = ControllerSetting;

// "qps/burst/workers,…": the CLI default first, then the documented raise (createManager's doc:
// ≥ 50 jobs/s needs about clientQps 300, clientBurst 600) with the old default of 4 workers, then with the default.
const settings: Setting[] = (process.env.BENCH_SCALE_SETTINGS ?? `50/100/${DEFAULT_WORKERS},300/600/4,300/600/${DEFAULT_WORKERS}`).split(',').map((s) => {
  const [qps, burst, workers] = s.split('/').map(Number);
  return { qps: qps!, burst: burst!, workers: workers ?? DEFAULT_WORKERS };
});
const burstJobs = Number(process.env.BENCH_SCALE_JOBS ?? 1000);
const cachedJobs = Number(process.env.BENCH_SCALE_CACHED ?? 5000);
/** Which settings (by index) also run the 5,000-job steady state; default the last one. */
const steadyFor = new Set((process.env.BENCH_SCALE_STEADY ?? String(settings.length - 1)).split(',').map(Number));
/** Node/V8 flag sets to compare in fresh processes at the end of the steady state: "flags a b,flags c" (`none` for no flags). */
const flagVariants: string[][] = (process.env.BENCH_SCALE_FLAG_VARIANTS ?? '').split(',').filter(Boolean).map((v) => (v.trim() === 'none' ? [] : v.trim().split(/\s+/)));
const inFlight = Number(process.env.BENCH_SCALE_IN_FLIGHT ?? 50);
/** 0: etcd + kube-apiserver only, so no pods are made and no kube-controller-manager, scheduler or kwok shares the cores (burst only). */
const workloads = process.env.BENCH_SCALE_WORKLOADS !== '0';
// Fake nodes have 64 CPUs each and pods request 2: 32 pods per node, 1,280 in all.
const nodes = 40;
const gpusPerNode = 32;
const waitLimitMs = Number(process.env.BENCH_SCALE_TIMEOUT_MS ?? 15 * 60_000);
const settleMs = Number(process.env.BENCH_SCALE_SETTLE_MS ?? 30_000);
const sampleMs = Number(process.env.BENCH_SCALE_SAMPLE_MS ?? 30_000);
const namespace = 'scale';
const log = (l: string): void => void process.stderr.write(`  ${l}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const quiet = pino({ level: 'silent' });


// ---------- Prometheus text ----------


function rssParts(pid: number): { rssAnonKb: number; rssFileKb: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssAnonKb: kb('RssAnon'), rssFileKb: kb('RssFile') };
}

const reconciles = (t: string): number => metricSum(t, 'trainingjob_operator_reconcile_duration_seconds_count', { controller: 'trainingjob' });
const reconcileSeconds = (t: string): number => metricSum(t, 'trainingjob_operator_reconcile_duration_seconds_sum', { controller: 'trainingjob' });

// ---------- the benchmark's view of progress ----------

const READY_STATES = new Set(['Initializing', 'Running']);

interface Tracker {
  /** Job name → ms (performance.now) when it first had all three children and a ready state. */
  readyAt: Map<string, number>;
  runningAt: Map<string, number>;
  settledAt: Map<string, number>;
  states(): Map<string, number>;
  stop(): Promise<void>;
}

async function track(cp: ControlPlane): Promise<Tracker> {
  const kubeConfig = cp.kubeConfig();
  const inf = (group: string, plural: string, labelSelector?: string): Informer<KubeObject> =>
    createInformer<KubeObject>({ kubeConfig, resource: { group, version: group === GROUP ? V1 : 'v1', plural, namespace }, logger: quiet, labelSelector, resyncMs: 0 });
  const tjs = inf(GROUP, TRAININGJOB_PLURAL);
  const children = { Job: inf('batch', 'jobs', TRAININGJOB_LABEL), Service: inf('', 'services', TRAININGJOB_LABEL), ConfigMap: inf('', 'configmaps', TRAININGJOB_LABEL) };
  const has = { Job: new Set<string>(), Service: new Set<string>(), ConfigMap: new Set<string>() };
  const state = new Map<string, string>();
  const readyAt = new Map<string, number>();
  const runningAt = new Map<string, number>();
  const settledAt = new Map<string, number>();
  const check = (name: string): void => {
    const s = state.get(name);
    if (!s || !has.Job.has(name) || !has.Service.has(name) || !has.ConfigMap.has(name)) return;
    const now = performance.now();
    if (!settledAt.has(name)) settledAt.set(name, now);
    if (READY_STATES.has(s) && !readyAt.has(name)) readyAt.set(name, now);
    if (s === 'Running' && !runningAt.has(name)) runningAt.set(name, now);
  };
  tjs.on({
    add: (o) => {
      const s = (o as { status?: { state?: string } }).status?.state;
      if (s) state.set(o.metadata!.name!, s);
      check(o.metadata!.name!);
    },
    update: (_old, o) => {
      const s = (o as { status?: { state?: string } }).status?.state;
      if (s) state.set(o.metadata!.name!, s);
      check(o.metadata!.name!);
    },
  });
  for (const [kind, i] of Object.entries(children) as Array<[keyof typeof has, Informer<KubeObject>]>) {
    const seen = (o: KubeObject): void => {
      const owner = o.metadata?.ownerReferences?.find((r) => r.kind === 'TrainingJob' && r.controller)?.name;
      if (!owner) return;
      has[kind].add(owner);
      check(owner);
    };
    i.on({ add: seen, update: (_o, o) => seen(o) });
  }
  const all = [tjs, ...Object.values(children)];
  for (const i of all) i.start();
  await Promise.all(all.map((i) => i.waitForSync()));
  return {
    readyAt, runningAt, settledAt,
    states() {
      const out = new Map<string, number>();
      for (const s of state.values()) out.set(s, (out.get(s) ?? 0) + 1);
      return out;
    },
    async stop() {
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}

// ---------- creating jobs ----------

const trainingJob = (name: string, suspend: boolean): Record<string, unknown> => ({
  apiVersion: `${GROUP}/${V1}`,
  kind: 'TrainingJob',
  metadata: { name, namespace, labels: { app: 'bench' } },
  spec: {
    // What the mutating webhook would have filled in under platform-defaults (image, resources).
    model: 'resnet50', framework: 'pytorch', image: 'pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime', numWorkers: 1, gpusPerWorker: 1,
    resources: { requests: { cpu: '2', memory: '8Gi' }, limits: { cpu: '4', memory: '16Gi' } },
    checkpoint: { enabled: false },
    // kwok keeps the pod Running for kwokRunTime, so every job stays Running for the whole run.
    hyperparameters: { learningRate: 0.001, batchSize: 64, epochs: 10, kwokRunTime: '1h' },
    ...(suspend ? { suspend: true } : {}),
  },
});

/** Creates the jobs with at most `inFlight` requests outstanding; records when each create returned. */
async function createJobs(custom: CustomObjectsApi, names: string[], suspend: boolean, createdAt: Map<string, number>): Promise<void> {
  let next = 0;
  const one = async (name: string): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await custom.createNamespacedCustomObject({ group: GROUP, version: V1, namespace, plural: TRAININGJOB_PLURAL, body: trainingJob(name, suspend) });
        createdAt.set(name, performance.now());
        return;
      } catch (err) {
        const code = err instanceof ApiException ? err.code : 0;
        if (code === 409) return;
        if (attempt >= 5 || !(code === 429 || code >= 500 || code === 0)) throw err;
        await sleep(200 * attempt);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, names.length) }, async () => {
    while (next < names.length) await one(names[next++]!);
  }));
}

async function waitFor(what: string, done: () => number, target: number, status: () => string): Promise<boolean> {
  const deadline = performance.now() + waitLimitMs;
  let lastLog = 0;
  while (done() < target) {
    if (performance.now() > deadline) {
      log(`${what}: gave up after ${waitLimitMs / 1000} s at ${done()}/${target}`);
      return false;
    }
    if (performance.now() - lastLog > 5000) {
      log(`${what}: ${done()}/${target} ${status()}`);
      lastLog = performance.now();
    }
    await sleep(100);
  }
  return true;
}

// ---------- one setting ----------

interface FreshProcess {
  flags: string;
  syncSeconds: number;
  reconcileAllSeconds: number | undefined;
  rssKb: number;
  peakKb: number;
  /** CPU seconds from start until every job was reconciled once. */
  fillCpuSeconds: number;
  /** CPU over 10 s once settled (progress re-reads of Running jobs). */
  steadyCores: number;
  /** V8 heap used / total and external, from the controller's metrics at the end: what of the RSS is live data. */
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

interface BurstResult {
  setting: Setting;
  createSeconds: number;
  readySeconds: number | undefined;
  readyCount: number;
  runningSeconds: number | undefined;
  latency: { median: number; p95: number; max: number };
  jobsPerSecond: number;
  idleRssKb: number;
  peakRssKb: number;
  reconciles: number;
  reconcileMeanMs: number;
  occupancy: number;
  controllerCores: number;
  writes: { childApplies: number; statusPatches: number; eventWrites: number };
  errors: number;
  load: MachineLoad;
}

interface SteadyResult {
  createSeconds: number;
  settledSeconds: number | undefined;
  rssMedianKb: number;
  rssMaxKb: number;
  peakKb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  /** RssAnon / RssFile from /proc/<pid>/status at the end of the window: what is not V8's heap shows up here. */
  rssAnonKb: number;
  rssFileKb: number;
  cores: number;
  reconcilesPerSecond: number;
  metricsBytes: number;
  statusPatchesPerSecond: number;
  eventWritesPerSecond: number;
  states: string;
  restart?: FreshProcess;
  variants: FreshProcess[];
  load: MachineLoad;
}

const apiDelta = (before: string, after: string, match: Record<string, string>): number =>
  metricSum(after, 'apiserver_request_total', match) - metricSum(before, 'apiserver_request_total', match);

async function runSetting(s: Setting, steady: boolean): Promise<{ burst: BurstResult; steady?: SteadyResult }> {
  const label = `${s.qps}-${s.burst}-${s.workers}`;
  log(workloads ? `[${label}] starting the control plane with ${nodes} kwok nodes × ${gpusPerNode} GPUs` : `[${label}] starting etcd + kube-apiserver only (no pods)`);
  const cp = await startControlPlane(workloads ? { workloads: { nodes, gpusPerNode }, progress: log } : { progress: log });
  let platform: Awaited<ReturnType<typeof installPlatform>> | undefined;
  let tracker: Tracker | undefined;
  let controller: Controller | undefined;
  try {
    const kc = cp.kubeConfig();
    platform = await installPlatform({ kubeConfig: kc, progress: log });
    const reg = kc.makeApiClient(AdmissionregistrationV1Api);
    await reg.deleteMutatingWebhookConfiguration({ name: mutatingConfigName });
    await reg.deleteValidatingWebhookConfiguration({ name: validatingConfigName });
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // The default ServiceAccount comes from kube-controller-manager; without workloads no pod needs it.
    for (let i = 0; workloads; i++) {
      try {
        await core.readNamespacedServiceAccount({ name: 'default', namespace });
        break;
      } catch (err) {
        if (i > 300) throw err;
        await sleep(100);
      }
    }
    tracker = await track(cp);
    log(`[${label}] starting the controller: --client-qps ${s.qps} --client-burst ${s.burst} --workers ${s.workers}`);
    controller = await startControllerProcess(cp, s, label);
    const pid = controller.proc.pid;
    await sleep(2000);
    const idleRssKb = memoryOf(pid)?.rssKb ?? NaN;
    resetPeak(pid);

    // ---- burst: 1,000 jobs at once ----
    const apiBefore = (await getText(`${cp.server}/metrics`, cp.admin, 30_000)).body;
    const ctlBefore = await controller.scrape();
    const cpuBefore = cpuSecondsOf(pid);
    const sampler = rssSampler(pid);
    const meter = startMeter();
    const names = Array.from({ length: burstJobs }, (_, i) => `job-${String(i).padStart(4, '0')}`);
    const createdAt = new Map<string, number>();
    log(`[${label}] creating ${burstJobs} TrainingJobs, ${inFlight} in flight`);
    const t0 = performance.now();
    await createJobs(custom, names, false, createdAt);
    const createSeconds = (performance.now() - t0) / 1000;
    log(`[${label}] created in ${createSeconds.toFixed(1)} s`);
    const status = (): string => `(${[...tracker!.states()].map(([k, v]) => `${k} ${v}`).join(', ')}; controller RSS ${mb(memoryOf(pid)?.rssKb ?? 0)})`;
    const ready = await waitFor(`[${label}] children + Initializing/Running`, () => tracker!.readyAt.size, burstJobs, status);
    const readyEnd = performance.now();
    const ctlAtReady = await controller.scrape();
    const cpuAtReady = cpuSecondsOf(pid);
    const load = meter();
    const apiAfter = (await getText(`${cp.server}/metrics`, cp.admin, 30_000)).body;
    const running = workloads && (await waitFor(`[${label}] Running`, () => tracker!.runningAt.size, burstJobs, status));
    const rss = sampler.stop();
    const peakRssKb = Math.max(rss.maxKb, memoryOf(pid)?.hwmKb ?? 0);
    const latencies = names.filter((n) => tracker!.readyAt.has(n) && createdAt.has(n)).map((n) => tracker!.readyAt.get(n)! - createdAt.get(n)!);
    const lat = summarize(latencies);
    const readySeconds = ready ? (readyEnd - t0) / 1000 : undefined;
    const elapsed = (readyEnd - t0) / 1000;
    const n = reconciles(ctlAtReady) - reconciles(ctlBefore);
    const busy = reconcileSeconds(ctlAtReady) - reconcileSeconds(ctlBefore);
    const d = (m: Record<string, string>): number => apiDelta(apiBefore, apiAfter, m);
    const burst: BurstResult = {
      setting: s,
      createSeconds,
      readySeconds,
      readyCount: tracker.readyAt.size,
      runningSeconds: running ? (Math.max(...tracker.runningAt.values()) - t0) / 1000 : undefined,
      latency: { median: lat.median / 1000, p95: lat.p95 / 1000, max: lat.max / 1000 },
      jobsPerSecond: tracker.readyAt.size / elapsed,
      idleRssKb,
      peakRssKb,
      reconciles: n,
      reconcileMeanMs: (busy / Math.max(1, n)) * 1000,
      occupancy: busy / (s.workers * elapsed),
      controllerCores: (cpuAtReady - cpuBefore) / elapsed,
      writes: {
        // Server-side applies (the apiserver counts them as verb APPLY); only our controller applies children.
        childApplies: d({ resource: 'configmaps', verb: 'APPLY' }) + d({ resource: 'services', verb: 'APPLY' }) + d({ resource: 'jobs', verb: 'APPLY' }),
        statusPatches: d({ resource: TRAININGJOB_PLURAL, verb: 'PATCH', subresource: 'status' }),
        eventWrites: d({ resource: 'events', verb: 'POST' }) + d({ resource: 'events', verb: 'PUT' }),
      },
      errors: metricSum(ctlAtReady, 'trainingjob_operator_errors_total') - metricSum(ctlBefore, 'trainingjob_operator_errors_total'),
      load,
    };
    log(`[${label}] ${burst.readyCount} ready in ${readySeconds?.toFixed(1) ?? '—'} s (${burst.jobsPerSecond.toFixed(1)} jobs/s), peak RSS ${mb(peakRssKb)}`);
    if (!steady || !workloads) return { burst };

    // ---- steady state: 5,000 jobs cached (the rest suspended: children, no pods) ----
    const more = Array.from({ length: cachedJobs - burstJobs }, (_, i) => `idle-${String(i).padStart(4, '0')}`);
    resetPeak(pid);
    const steadyMeter = startMeter();
    log(`[${label}] creating ${more.length} suspended TrainingJobs`);
    const t1 = performance.now();
    await createJobs(custom, more, true, createdAt);
    const steadyCreateSeconds = (performance.now() - t1) / 1000;
    const settled = await waitFor(`[${label}] all ${cachedJobs} with children and a state`, () => tracker!.settledAt.size, cachedJobs, status);
    const settledSeconds = settled ? (performance.now() - t1) / 1000 : undefined;
    log(`[${label}] settling ${settleMs / 1000} s, then sampling RSS for ${sampleMs / 1000} s`);
    await sleep(settleMs);
    const ctlA = await controller.scrape();
    const apiA = (await getText(`${cp.server}/metrics`, cp.admin, 30_000)).body;
    const cpuA = cpuSecondsOf(pid);
    const windowSampler = rssSampler(pid);
    await sleep(sampleMs);
    const win = windowSampler.stop();
    const ctlB = await controller.scrape();
    const apiB = (await getText(`${cp.server}/metrics`, cp.admin, 30_000)).body;
    const cpuB = cpuSecondsOf(pid);
    const perSecond = (m: Record<string, string>): number => apiDelta(apiA, apiB, m) / (sampleMs / 1000);
    const steadyPeak = memoryOf(pid)?.hwmKb ?? NaN;
    const sr: SteadyResult = {
      createSeconds: steadyCreateSeconds,
      settledSeconds,
      rssMedianKb: summarize(win.samples).median,
      rssMaxKb: win.maxKb,
      peakKb: steadyPeak,
      heapUsedMb: metricSum(ctlB, 'trainingjob_controller_nodejs_heap_size_used_bytes') / 2 ** 20,
      heapTotalMb: metricSum(ctlB, 'trainingjob_controller_nodejs_heap_size_total_bytes') / 2 ** 20,
      externalMb: metricSum(ctlB, 'trainingjob_controller_nodejs_external_memory_bytes') / 2 ** 20,
      ...rssParts(pid),
      cores: (cpuB - cpuA) / (sampleMs / 1000),
      reconcilesPerSecond: (reconciles(ctlB) - reconciles(ctlA)) / (sampleMs / 1000),
      metricsBytes: ctlB.length,
      statusPatchesPerSecond: perSecond({ resource: TRAININGJOB_PLURAL, verb: 'PATCH', subresource: 'status' }),
      eventWritesPerSecond: perSecond({ resource: 'events', verb: 'POST' }) + perSecond({ resource: 'events', verb: 'PUT' }),
      states: [...tracker.states()].map(([k, v]) => `${v.toLocaleString('en-US')} ${k}`).join(', '),
      load: steadyMeter(),
      variants: [],
    };
    log(`[${label}] steady RSS ${mb(sr.rssMedianKb)} (peak while growing ${mb(steadyPeak)})`);

    // ---- a fresh controller process against the same 5,000 jobs: cold cache fill ----
    const fresh = async (flags: readonly string[], tag: string): Promise<FreshProcess> => {
      log(`[${label}] restarting the controller against ${cachedJobs} jobs (node flags: ${flags.join(' ') || 'none'})`);
      const code = await controller!.stop();
      if (code !== 0) log(`[${label}] controller exited with ${code} on SIGTERM`);
      const t2 = performance.now();
      controller = await startControllerProcess(cp, s, `${label}-${tag}`, [], flags);
      const syncSeconds = (performance.now() - t2) / 1000;
      const pid2 = controller.proc.pid;
      let reconcileAll: number | undefined;
      const deadline = performance.now() + 5 * 60_000;
      while (performance.now() < deadline) {
        if (reconciles(await controller.scrape()) >= cachedJobs) {
          reconcileAll = (performance.now() - t2) / 1000;
          break;
        }
        await sleep(500);
      }
      const cpuFill = cpuSecondsOf(pid2);
      await sleep(settleMs);
      const cpu0 = cpuSecondsOf(pid2);
      const restartRss = rssSampler(pid2);
      await sleep(10_000);
      const rssKb = summarize(restartRss.stop().samples).median;
      const steadyCores = (cpuSecondsOf(pid2) - cpu0) / 10;
      const heap = await controller.scrape();
      return {
        flags: flags.join(' ') || 'none', syncSeconds, reconcileAllSeconds: reconcileAll, rssKb, peakKb: memoryOf(pid2)?.hwmKb ?? NaN, fillCpuSeconds: cpuFill, steadyCores,
        heapUsedMb: metricSum(heap, 'trainingjob_controller_nodejs_heap_size_used_bytes') / 2 ** 20,
        heapTotalMb: metricSum(heap, 'trainingjob_controller_nodejs_heap_size_total_bytes') / 2 ** 20,
        externalMb: metricSum(heap, 'trainingjob_controller_nodejs_external_memory_bytes') / 2 ** 20,
      };
    };
    sr.restart = await fresh(defaultNodeFlags(), 'restart');
    // Other V8 flag sets, each in a fresh process against the same jobs: what they save and what they cost.
    for (const [i, variant] of flagVariants.entries()) sr.variants.push(await fresh(variant, `flags-${i}`));
    return { burst, steady: sr };
  } finally {
    if (controller) {
      const code = await controller.stop();
      if (code !== 0) log(`[${label}] controller exited with ${code} on SIGTERM`);
    }
    await tracker?.stop();
    await platform?.stop();
    await cp.stop();
  }
}

// ---------- report ----------

const sec = (x: number | undefined): string => (x === undefined ? '—' : `${x.toFixed(1)} s`);

export const controllerScaleSuite: Suite = {
  name: 'controller-scale',
  // Three control planes, 1,000 jobs each and 5,000 once: many minutes.
  explicitOnly: true,
  async run() {
    const results: Array<{ burst: BurstResult; steady?: SteadyResult }> = [];
    for (const [i, s] of settings.entries()) results.push(await runSetting(s, steadyFor.has(i)));
    const steadyRuns = results.filter((r) => r.steady);
    const raised = results.filter((r) => r.burst.setting.qps > 50);
    const best = Math.max(...raised.map((r) => r.burst.jobsPerSecond), 0);
    const steadyRss = Math.max(...steadyRuns.map((r) => r.steady!.rssMedianKb), 0);
    const settingLabel = (s: Setting): string => `${s.qps} / ${s.burst} / ${s.workers}`;
    const lines = [
      `### Controller at scale: ${burstJobs.toLocaleString('en-US')} TrainingJobs at once, then ${cachedJobs.toLocaleString('en-US')} cached`,
      '',
      ...(workloads ? [] : ['**This run: etcd + kube-apiserver only** (`BENCH_SCALE_WORKLOADS=0`): no kube-controller-manager, scheduler or kwok, so no', 'pods and no "all Running"; they would otherwise share the 2 cores. Ready needs only the controller\'s work: children + Initializing.', '']),
      `Per setting a fresh local control plane (etcd \`--unsafe-no-fsync\`, kube-apiserver, kube-controller-manager, kube-scheduler, kwok`,
      `with ${nodes} fake nodes × ${gpusPerNode} GPUs), the platform's CRDs, **no admission webhook** (configurations deleted after`,
      `\`installPlatform\`; admission is the apiserver-create suite's subject). Jobs: 1 worker × 1 GPU (image and resources as platform-defaults would set them), \`checkpoint.enabled: false\``,
      `(no PVCs), \`kwokRunTime: 1h\` (pods stay Running), all in one namespace (the controller's per-namespace scans at their worst).`,
      `Created by the benchmark with ${inFlight} creates in flight. The controller is a separate process (\`bench/controller-scale-runner.ts\`:`,
      `the real \`trainingjob controller\` CLI, \`--no-leader-elect\`, log level info to a file) whose memory is read from`,
      `/proc/<pid>/status (VmRSS sampled every 250 ms, VmHWM). Its scrapes of rank 0's metrics at kwok's fake pod IPs are answered`,
      `in-process with a fixed exposition, as a reachable trainer would, so nothing leaves loopback. The benchmark follows progress`,
      `with its own watches. **Ready** = the job has its worker Job, headless Service and ConfigMap and \`status.state\` is`,
      `Initializing or Running; time runs from the first create. The whole cluster (apiserver, etcd, kube-controller-manager,`,
      `scheduler, kwok, controller, benchmark) shares the machine's 2 cores with other engineers' work; see the load column.`,
      '',
      '| client QPS / burst / workers | creates done | all ready | **jobs/s** | per-job create → ready (median / p95 / max) | all Running | controller peak RSS (idle before) | reconciles (mean duration, worker occupancy) | controller CPU | apiserver writes / job: child applies, status patches, events (all components) | machine: busy / ours / others |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...results.map(({ burst: b }) => `| ${settingLabel(b.setting)} | ${sec(b.createSeconds)} | ${b.readySeconds === undefined ? `${b.readyCount}/${burstJobs} by timeout` : sec(b.readySeconds)} | **${b.jobsPerSecond.toFixed(1)}** | ${sec(b.latency.median)} / ${sec(b.latency.p95)} / ${sec(b.latency.max)} | ${sec(b.runningSeconds)} | ${mb(b.peakRssKb)} (${mb(b.idleRssKb)}) | ${b.reconciles.toLocaleString('en-US')} (${b.reconcileMeanMs.toFixed(0)} ms, ${(b.occupancy * 100).toFixed(0)}%)${b.errors ? `, ${b.errors} errors` : ''} | ${b.controllerCores.toFixed(2)} cores | ${(b.writes.childApplies / burstJobs).toFixed(2)}, ${(b.writes.statusPatches / burstJobs).toFixed(2)}, ${(b.writes.eventWrites / burstJobs).toFixed(2)} | ${b.load.busy.toFixed(2)} / ${b.load.ours.toFixed(2)} / ${b.load.others.toFixed(2)} |`),
      '',
      'Worker occupancy = reconcile time summed / (workers × time to all ready): near 100% means every worker was busy in a',
      'reconcile the whole time (a reconcile includes waiting for client rate-limiter tokens and for the apiserver).',
      '',
    ];
    for (const { burst: b, steady: st } of steadyRuns) {
      lines.push(
        `#### Steady state with ${cachedJobs.toLocaleString('en-US')} TrainingJobs cached (setting ${settingLabel(b.setting)})`,
        '',
        `After the burst, ${(cachedJobs - burstJobs).toLocaleString('en-US')} more TrainingJobs were created with \`spec.suspend: true\`: the controller`,
        `gives them their ConfigMap, Service and a suspended Job, but no pods. Its caches then hold ${cachedJobs.toLocaleString('en-US')} each of TrainingJobs, Jobs,`,
        `Services and ConfigMaps, and ${burstJobs.toLocaleString('en-US')} Pods. RSS is the median of 250 ms samples over ${sampleMs / 1000} s, taken ${settleMs / 1000} s after the`,
        `last job settled (states: ${st!.states}).`,
        '',
        '| measure | value |',
        '|---|---|',
        `| ${(cachedJobs - burstJobs).toLocaleString('en-US')} suspended creates / until all ${cachedJobs.toLocaleString('en-US')} had children and a state | ${sec(st!.createSeconds)} / ${sec(st!.settledSeconds)} |`,
        `| **steady-state RSS** (median; max of window) | **${mb(st!.rssMedianKb)}** (${mb(st!.rssMaxKb)}) |`,
        `| peak RSS while growing from ${burstJobs.toLocaleString('en-US')} to ${cachedJobs.toLocaleString('en-US')} (VmHWM reset at the start) | ${mb(st!.peakKb)} |`,
        `| V8 heap used / total (controller's own metrics); external (buffers) | ${st!.heapUsedMb.toFixed(0)} MB / ${st!.heapTotalMb.toFixed(0)} MB; ${st!.externalMb.toFixed(0)} MB |`,
        `| RSS by kind (/proc): anonymous / file-backed (code) | ${mb(st!.rssAnonKb)} / ${mb(st!.rssFileKb)} |`,
        `| controller CPU at steady state / reconciles per second (Running jobs are re-read every 15 s) | ${st!.cores.toFixed(2)} cores / ${st!.reconcilesPerSecond.toFixed(1)} |`,
        `| apiserver writes per second at steady state: TrainingJob status patches / events (all components) | ${st!.statusPatchesPerSecond.toFixed(1)} / ${st!.eventWritesPerSecond.toFixed(1)} |`,
        `| /metrics response size (per-job series) | ${(st!.metricsBytes / 2 ** 20).toFixed(1)} MiB |`,
        ...(st!.restart ? [
          `| fresh controller process against the ${cachedJobs.toLocaleString('en-US')} jobs: start → caches synced (/readyz) / → ${cachedJobs.toLocaleString('en-US')} reconciles | ${sec(st!.restart.syncSeconds)} / ${sec(st!.restart.reconcileAllSeconds)} |`,
          `| fresh process: RSS ${settleMs / 1000} s after its first reconcile wave / its peak (VmHWM) | ${mb(st!.restart.rssKb)} / ${mb(st!.restart.peakKb)} |`,
          `| fresh process: CPU until every job was reconciled / at steady state | ${st!.restart.fillCpuSeconds.toFixed(1)} s / ${st!.restart.steadyCores.toFixed(2)} cores |`,
          `| fresh process: V8 heap used / total; external (buffers) | ${st!.restart.heapUsedMb.toFixed(0)} MB / ${st!.restart.heapTotalMb.toFixed(0)} MB; ${st!.restart.externalMb.toFixed(0)} MB |`,
        ] : []),
        '',
        ...(st!.variants.length && st!.restart ? [
          `Node/V8 flags of the controller process, each in a fresh process against the same ${cachedJobs.toLocaleString('en-US')} jobs (the first row is the default):`,
          '',
          '| node flags | RSS after the first wave (peak) | V8 heap used / total | CPU until all reconciled | → all reconciled | CPU at steady state |',
          '|---|---|---|---|---|---|',
          ...[st!.restart, ...st!.variants].map((v) => `| \`${v.flags}\` | ${mb(v.rssKb)} (${mb(v.peakKb)}) | ${v.heapUsedMb.toFixed(0)} / ${v.heapTotalMb.toFixed(0)} MB | ${v.fillCpuSeconds.toFixed(1)} s | ${sec(v.reconcileAllSeconds)} | ${v.steadyCores.toFixed(2)} cores |`),
          '',
        ] : []),
        `Noise while growing and sampling: ${describeLoad(st!.load)}.`,
        '',
      );
    }
    lines.push(
      `Goals: ≥ 50 jobs/s with the client QPS raised: ${best >= 50 ? '**met**' : '**not met**'} (best ${best.toFixed(1)} jobs/s);`,
      `RSS ≤ 250 MB at ${cachedJobs.toLocaleString('en-US')} jobs: ${steadyRuns.length ? (steadyRss <= 250 * 1024 ? '**met**' : '**not met**') : 'not measured'}${steadyRuns.length ? ` (${mb(steadyRss)})` : ''}.`,
      '',
    );
    return lines.join('\n');
  },
};
