// Starting queued jobs through the API, side by side with Kueue: 1,000 one-GPU jobs wait behind a full quota; the
// quota is raised to fit them all; how soon the first starts and how fast the rest follow (jobs/s until the last
// one is unsuspended). A fresh etcd + kube-apiserver for each run, in turn on the same machine; no
// kube-controller-manager, so neither side makes pods. Both clients at the same QPS and burst (BENCH_QUEUE_CLIENT).
//
// Ours: the platform (CRDs; the admission webhook in-process and registered), the real `trainingjob controller` as
// its own process; a TrainingPolicy gives namespace `bench` gpuQuota 1 with overQuota
// Queue; one job runs, the webhook queues the 1,000 others; then gpuQuota 1,001. The leading controller releases the
// jobs in queue order, each re-checked by the webhook, then creates each one's worker Job, Service and ConfigMap.
// Kueue: v0.17.0 built from its Go module (tools/kueue), its own CRDs, its manager as its own process (batch/job
// integration, no webhooks registered: the jobs are created suspended and labelled with
// their LocalQueue, as Kueue's webhook would leave them); a ClusterQueue with nominalQuota nvidia.com/gpu 1; one Job
// admitted, 1,000 Workloads pending; then nominalQuota 1,001. Kueue admits each Workload and unsuspends its Job.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { GROUP, QUEUED_ANNOTATION, TRAININGJOB_PLURAL, V1 } from '../api/index.ts';
import { createCA, issueCertificate } from '../certs/pki.ts';
import { DEFAULT_WORKERS } from '../controller/trainingjob/reconciler.ts';
import { createInformer, type Informer } from '../kube/informer.ts';
import type { KubeObject } from '../kube/kube-object.ts';
import { binarySpecs, ensureBinaries } from '../localcluster/binaries.ts';
import { startControlPlane } from '../localcluster/controlplane.ts';
import { goModuleDir } from '../localcluster/go-module.ts';
import { getText } from '../localcluster/http.ts';
import { freePort } from '../localcluster/ports.ts';
import { installPlatform } from '../localcluster/platform.ts';
import { startProcess } from '../localcluster/process.ts';
import { startControllerProcess } from './controller-process.ts';
import { describeLoad, startMeter } from './machine.ts';
import type { Suite } from './run.ts';
import { summarize } from './stats.ts';
import { until } from './until.ts';

const pending = Number(process.env.BENCH_QUEUE_JOBS ?? 1000);
const rounds = Number(process.env.BENCH_QUEUE_ROUNDS ?? 2);
// Both sides' client rate limit, "qps/burst": Kueue's and our CLI's default, or e.g. 300/600 (controller-scale's raise).
const [qps, burst] = (process.env.BENCH_QUEUE_CLIENT ?? '50/100').split('/').map(Number) as [number, number];
const inFlight = 20;
const namespace = 'bench';
const log = (l: string): void => void process.stderr.write(`  ${l}\n`);
const quiet = pino({ level: 'silent' });
const kueueSpec = binarySpecs.find((b) => b.name === 'kueue')!;

interface Run {
  /** Quota raised → first job unsuspended (ms). */
  firstMs: number;
  /** Quota raised → last job unsuspended (ms). */
  lastMs: number;
  /** Jobs unsuspended per second, from the first to the last. */
  perSecond: number;
  load: string;
}

/** Creates bodies with at most `inFlight` outstanding, retrying throttled or refused-for-now creates. */
async function createAll(bodies: (() => Promise<unknown>)[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < bodies.length) {
      const create = bodies[next++]!;
      for (let attempt = 1; ; attempt++) {
        try {
          await create();
          break;
        } catch (err) {
          if (attempt >= 5) throw err;
          await new Promise((r) => setTimeout(r, 200 * attempt));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/** Watches `resource` in the namespace; records when each object is first seen with spec.suspend not true. */
async function watchStarts(kc: KubeConfig, resource: { group: string; version: string; plural: string }): Promise<{ informer: Informer<KubeObject>; startedAt: Map<string, number> }> {
  const startedAt = new Map<string, number>();
  const informer = createInformer<KubeObject>({ kubeConfig: kc, resource: { ...resource, namespace }, logger: quiet, resyncMs: 0 });
  const seen = (o: KubeObject): void => {
    const name = o.metadata?.name ?? '';
    if ((o as { spec?: { suspend?: boolean } }).spec?.suspend !== true && !startedAt.has(name)) startedAt.set(name, performance.now());
  };
  informer.on({ add: seen, update: (_o, n) => seen(n) });
  informer.start();
  await informer.waitForSync();
  return { informer, startedAt };
}

/** Raises the quota at t0 and waits until every pending job has started. */
async function measure(raise: () => Promise<unknown>, startedAt: Map<string, number>, names: string[]): Promise<Run> {
  const meter = startMeter();
  const t0 = performance.now();
  await raise();
  await until(`all ${names.length} jobs started`, async () => names.every((n) => startedAt.has(n)) || undefined, 15 * 60_000, 100);
  const times = names.map((n) => startedAt.get(n)! - t0);
  const first = Math.min(...times);
  const last = Math.max(...times);
  return { firstMs: first, lastMs: last, perSecond: (names.length - 1) / ((last - first) / 1000), load: describeLoad(meter()) };
}

const names = Array.from({ length: pending }, (_, i) => `q-${String(i).padStart(4, '0')}`);

async function ours(): Promise<Run> {
  const cp = await startControlPlane({ progress: log });
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const kc = cp.kubeConfig();
    const platform = await installPlatform({ kubeConfig: kc, progress: log });
    stops.push(() => platform.stop());
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    const custom = kc.makeApiClient(CustomObjectsApi);
    const policy = (gpuQuota: number): Record<string, unknown> => ({
      apiVersion: `${GROUP}/${V1}`, kind: 'TrainingPolicy', metadata: { name: 'bench-queue' },
      spec: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } }, gpuQuota, overQuota: 'Queue' },
    });
    await custom.createClusterCustomObject({ group: GROUP, version: V1, plural: 'trainingpolicies', body: policy(1) });
    const controller = await startControllerProcess(cp, { qps, burst, workers: DEFAULT_WORKERS }, 'queue-admission');
    stops.push(() => controller.stop());
    const { informer, startedAt } = await watchStarts(kc, { group: GROUP, version: V1, plural: TRAININGJOB_PLURAL });
    stops.push(async () => informer.stop());
    const job = (name: string): Record<string, unknown> => ({
      apiVersion: `${GROUP}/${V1}`, kind: 'TrainingJob', metadata: { name, namespace },
      spec: { model: 'resnet50', framework: 'pytorch', image: 'pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime', numWorkers: 1, gpusPerWorker: 1, checkpoint: { enabled: false }, hyperparameters: { learningRate: 0.001, batchSize: 64, epochs: 10 } },
    });
    const create = (name: string) => () => custom.createNamespacedCustomObject({ group: GROUP, version: V1, namespace, plural: TRAININGJOB_PLURAL, body: job(name) });
    await create('holder')();
    await until('the first job started', async () => startedAt.has('holder') || undefined, 60_000, 100);
    log(`ours: creating ${pending} jobs behind a full quota`);
    await createAll(names.map(create));
    const queued = (o: KubeObject | undefined): boolean => {
      const j = o as { metadata?: { annotations?: Record<string, string> }; status?: { queue?: unknown } } | undefined;
      return Boolean(j?.metadata?.annotations?.[QUEUED_ANNOTATION]) && Boolean(j?.status?.queue);
    };
    // Every job queued and placed by the controller (status.queue), as Kueue's side waits for every Workload.
    await until('every job queued and placed', async () => names.every((n) => queued(informer.get(namespace, n))) || undefined, 10 * 60_000, 200);
    const early = names.filter((n) => startedAt.has(n));
    if (early.length) throw new Error(`${early.length} jobs started before the quota was raised`);
    log(`ours: raising gpuQuota 1 → ${pending + 1}`);
    return await measure(() => custom.patchClusterCustomObject({ group: GROUP, version: V1, plural: 'trainingpolicies', name: 'bench-queue', body: [{ op: 'replace', path: '/spec/gpuQuota', value: pending + 1 }] }), startedAt, names);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await cp.stop();
  }
}

function kueueConfig(dir: string, ports: { health: number; webhook: number }): string {
  // Its webhook server needs a certificate to start, though no webhook is registered.
  const cert = issueCertificate(createCA('kueue-bench', 1), { commonName: 'kueue-webhook', usage: 'server', validDays: 1, ipAddresses: ['127.0.0.1'] });
  writeFileSync(join(dir, 'tls.crt'), cert.certPem);
  writeFileSync(join(dir, 'tls.key'), cert.keyPem);
  // Without cert management Kueue reads its metrics certificate from /etc/kueue/metrics/certs (where its Deployment
  // mounts a Secret): an overlay on /etc, in Kueue's own mount namespace, puts the same one there.
  const certs = join(dir, 'etc-upper', 'kueue', 'metrics', 'certs');
  mkdirSync(certs, { recursive: true });
  mkdirSync(join(dir, 'etc-work'));
  writeFileSync(join(certs, 'tls.crt'), cert.certPem);
  writeFileSync(join(certs, 'tls.key'), cert.keyPem);
  const path = join(dir, 'kueue-config.yaml');
  // Only what differs from Kueue's own config/components/manager/controller_manager_config.yaml: loopback
  // addresses, no leader election or cert management (one replica, no webhooks registered), batch/job only.
  writeFileSync(path, `apiVersion: config.kueue.x-k8s.io/v1beta2
kind: Configuration
namespace: kueue-system
health:
  healthProbeBindAddress: 127.0.0.1:${ports.health}
metrics:
  bindAddress: "0"
webhook:
  host: 127.0.0.1
  port: ${ports.webhook}
  certDir: ${dir}
leaderElection:
  leaderElect: false
internalCertManagement:
  enable: false
controller:
  groupKindConcurrency:
    Job.batch: 5
    Workload.kueue.x-k8s.io: 5
    LocalQueue.kueue.x-k8s.io: 1
    ClusterQueue.kueue.x-k8s.io: 1
    ResourceFlavor.kueue.x-k8s.io: 1
clientConnection:
  qps: ${qps}
  burst: ${burst}
integrations:
  frameworks:
    - batch/job
`);
  return path;
}

async function kueue(binary: string, crdDir: string): Promise<Run> {
  const cp = await startControlPlane({ progress: log });
  const dir = mkdtempSync(join(tmpdir(), 'kueue-bench-'));
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const kc = cp.kubeConfig();
    const applied = await cp.kubectl(['apply', '--server-side', '-f', crdDir]);
    if (applied.code !== 0) throw new Error(`Kueue CRDs: ${applied.stderr}`);
    await cp.kubectl(['wait', '--for', 'condition=established', '--timeout', '60s', 'crd', '--all']);
    const core = kc.makeApiClient(CoreV1Api);
    for (const ns of ['kueue-system', namespace]) await core.createNamespace({ body: { metadata: { name: ns } } });
    const ports = { health: await freePort(), webhook: await freePort() };
    const logPath = join(tmpdir(), 'kueue-bench.log');
    rmSync(logPath, { force: true });
    const config = kueueConfig(dir, ports);
    const overlay = `mount -t overlay overlay -o lowerdir=/etc,upperdir=${join(dir, 'etc-upper')},workdir=${join(dir, 'etc-work')} /etc && exec "$0" "$@"`;
    const proc = startProcess({
      name: 'kueue', command: 'unshare', args: ['--mount', '--propagation', 'private', '--', 'sh', '-c', overlay, binary, '--config', config, '--feature-gates=VisibilityOnDemand=false'],
      logPath, env: { ...process.env, KUBECONFIG: cp.kubeconfigPath },
    });
    stops.push(() => proc.stop(15_000));
    await until(`kueue ready (log ${logPath})`, async () => {
      if (!proc.running()) throw new Error(`kueue exited at start; log ${logPath}: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
      return (await getText(`http://127.0.0.1:${ports.health}/readyz`, undefined, 2000).catch(() => ({ status: 0 }))).status === 200 || undefined;
    }, 120_000, 200);
    const setup = `apiVersion: kueue.x-k8s.io/v1beta2
kind: ResourceFlavor
metadata:
  name: default
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata:
  name: bench
spec:
  namespaceSelector: {}
  resourceGroups:
    - coveredResources: [nvidia.com/gpu]
      flavors:
        - name: default
          resources:
            - name: nvidia.com/gpu
              nominalQuota: 1
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: LocalQueue
metadata:
  name: bench
  namespace: ${namespace}
spec:
  clusterQueue: bench
`;
    const setupPath = join(dir, 'queues.yaml');
    writeFileSync(setupPath, setup);
    const queues = await cp.kubectl(['apply', '-f', setupPath]);
    if (queues.code !== 0) throw new Error(`Kueue queues: ${queues.stderr}`);
    const batch = kc.makeApiClient(BatchV1Api);
    const { informer, startedAt } = await watchStarts(kc, { group: 'batch', version: 'v1', plural: 'jobs' });
    stops.push(async () => informer.stop());
    const create = (name: string) => () => batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name, namespace, labels: { 'kueue.x-k8s.io/queue-name': 'bench' } },
        spec: {
          suspend: true, parallelism: 1, completions: 1,
          template: { spec: { restartPolicy: 'Never', containers: [{ name: 'worker', image: 'pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime', resources: { requests: { 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } } }] } },
        },
      },
    });
    await create('holder')();
    await until('Kueue admitted the first job', async () => startedAt.has('holder') || undefined, 60_000, 100);
    log(`kueue: creating ${pending} jobs behind a full quota`);
    await createAll(names.map(create));
    const custom = kc.makeApiClient(CustomObjectsApi);
    // Every job has its Workload, marked pending by Kueue (QuotaReserved False), before the quota is raised: as ours waits for status.queue.
    await until('a pending Workload for every job', async () => {
      const list = (await custom.listNamespacedCustomObject({ group: 'kueue.x-k8s.io', version: 'v1beta2', namespace, plural: 'workloads' })) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] };
      const waiting = list.items.filter((w) => w.status?.conditions?.some((c) => c.type === 'QuotaReserved' && c.status === 'False')).length;
      return waiting >= pending || undefined;
    }, 10 * 60_000, 1000);
    const early = names.filter((n) => startedAt.has(n));
    if (early.length) throw new Error(`${early.length} jobs started before the quota was raised`);
    log(`kueue: raising nominalQuota 1 → ${pending + 1}`);
    // In-process, as ours: no kubectl start-up inside the timing.
    const raise = (): Promise<unknown> => custom.patchClusterCustomObject({ group: 'kueue.x-k8s.io', version: 'v1beta2', plural: 'clusterqueues', name: 'bench', body: [{ op: 'replace', path: '/spec/resourceGroups/0/flavors/0/resources/0/nominalQuota', value: String(pending + 1) }] });
    return await measure(raise, startedAt, names);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await cp.stop();
  }
}

const row = (label: string, r: Run): string => `| ${label} | ${(r.firstMs / 1000).toFixed(2)} s | ${(r.lastMs / 1000).toFixed(1)} s | ${r.perSecond.toFixed(1)} |`;

export const queueAdmissionSuite: Suite = {
  name: 'queue-admission',
  explicitOnly: true,
  async run() {
    const { kueue: binary } = await ensureBinaries({ only: ['kueue'], progress: log });
    // Kueue's own CRDs, from its module at the version built.
    const crdDir = join(goModuleDir({ path: 'sigs.k8s.io/kueue', version: kueueSpec.version }, { download: true }), 'config', 'components', 'crd', 'bases');
    const results: { ours: Run[]; kueue: Run[] } = { ours: [], kueue: [] };
    const lines: string[] = [];
    for (let r = 1; r <= rounds; r++) {
      // Alternating who goes first, so a machine that slows down over the run favours neither.
      const order = r % 2 === 1 ? (['ours', 'kueue'] as const) : (['kueue', 'ours'] as const);
      for (const who of order) {
        log(`round ${r}/${rounds}: ${who}`);
        const run = who === 'ours' ? await ours() : await kueue(binary!, crdDir);
        results[who].push(run);
        lines.push(row(`round ${r}: ${who === 'ours' ? 'trainingjob controller' : `Kueue ${kueueSpec.version}`}`, run));
        log(`${who}: first after ${(run.firstMs / 1000).toFixed(2)} s, all ${pending} after ${(run.lastMs / 1000).toFixed(1)} s: ${run.perSecond.toFixed(1)} jobs/s (${run.load})`);
      }
    }
    const median = (rs: Run[]): number => summarize(rs.map((x) => x.perSecond)).median;
    const ratio = median(results.ours) / median(results.kueue);
    return [
      `## queue-admission: ${pending} queued jobs started through the API, vs Kueue ${kueueSpec.version} (both at client QPS ${qps}, burst ${burst})`,
      '',
      `| run | quota raised → first started | → all ${pending} started | jobs/s (first → last) |`,
      '|---|---|---|---|',
      ...lines,
      '',
      `Median jobs/s: ours ${median(results.ours).toFixed(1)}, Kueue ${median(results.kueue).toFixed(1)}: **${ratio.toFixed(2)}×**.`,
      ...[...results.ours, ...results.kueue].map((r, i) => `- run ${i + 1}: ${r.load}`),
    ].join('\n');
  },
};

