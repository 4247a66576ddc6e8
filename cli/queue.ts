// `trainingjob queue`: the queued TrainingJobs in the order they will start, each with the limit that holds it back.
import { parseArgs } from 'node:util';
import { CustomObjectsApi, SchedulingV1Api } from '@kubernetes/client-node';
import { GROUP, TRAININGJOB_PLURAL, V1, gpuDemand, isQueued, isTerminal, type TrainingJob } from '../api/index.ts';
import { borrowedGpus } from '../policies/cohort.ts';
import { queueOrder } from '../controller/queue/queue-place.ts';
import { loadKubeConfig } from '../kube/kubeconfig.ts';
import { priorityClassInfo, priorityValue, type PriorityClassInfo } from '../policies/priority.ts';

const help = `usage: trainingjob queue [options]

  -n, --namespace NS   only this namespace's queue (default: every namespace)
  --kubeconfig FILE    default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account

Lists queued TrainingJobs per namespace in the order they will start (higher priority first, then older),
with what holds each back as the controller last wrote it (status.queue), then the running jobs that borrow
GPUs from their namespace's cohort.`;

function age(from: string | undefined, now: number): string {
  const s = from ? Math.max(0, Math.floor((now - Date.parse(from)) / 1000)) : 0;
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  // The last column (the reason) is not padded: it runs to the end of the line.
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** The queue as text: a table in start order per namespace, then a summary line. */
export function formatQueue(jobs: readonly TrainingJob[], classes: readonly PriorityClassInfo[], now: number): string {
  const queued = jobs.filter((j) => isQueued(j));
  // Running on GPUs lent by a cohort: what a lender's next job would reclaim.
  const lent = jobs.filter((j) => !isQueued(j) && !isTerminal(j) && borrowedGpus(j) > 0).map((j) => `${j.metadata?.namespace}/${j.metadata?.name} ${borrowedGpus(j)} GPUs`);
  const borrowing = lent.length ? `\nrunning on GPUs borrowed from their cohort (reclaimable): ${lent.join(', ')}` : '';
  if (queued.length === 0) return `no queued TrainingJobs${borrowing}`;
  const namespaces = [...new Set(queued.map((j) => j.metadata?.namespace ?? ''))].sort();
  const rows = [['NAMESPACE', 'POSITION', 'NAME', 'PRIORITY', 'GPUS', 'WAITING', 'REASON']];
  const totals: string[] = [];
  for (const ns of namespaces) {
    const order = queueOrder(queued.filter((j) => j.metadata?.namespace === ns), classes);
    order.forEach((j, i) => {
      const value = priorityValue(j, classes);
      const priority = j.spec.priorityClassName ? `${j.spec.priorityClassName} (${value})` : String(value);
      const inCohort = j.status?.queue?.cohortPosition;
      rows.push([ns, inCohort ? `${i + 1} (${inCohort} in cohort)` : String(i + 1), j.metadata?.name ?? '', priority, String(gpuDemand(j)), age(j.metadata?.creationTimestamp, now), j.status?.queue?.reason ?? 'not placed by the controller yet']);
    });
    totals.push(`${ns}: ${order.length} ${order.length === 1 ? 'job' : 'jobs'}, ${order.reduce((n, j) => n + gpuDemand(j), 0)} GPUs`);
  }
  return `${table(rows)}\n\n${queued.length} queued (${totals.join('; ')})${borrowing}`;
}

export async function queueCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { namespace: { type: 'string', short: 'n' }, kubeconfig: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const kc = loadKubeConfig(values.kubeconfig);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const resource = { group: GROUP, version: V1, plural: TRAININGJOB_PLURAL };
  const [list, classes] = await Promise.all([
    values.namespace ? custom.listNamespacedCustomObject({ ...resource, namespace: values.namespace }) : custom.listClusterCustomObject(resource),
    // A team's Role may not read cluster-scoped PriorityClasses: the values the controller wrote in status.queue stand in.
    kc.makeApiClient(SchedulingV1Api).listPriorityClass().then((l) => l.items.map(priorityClassInfo), (err: { code?: number }) => {
      if (err.code === 403) return undefined;
      throw err;
    }),
  ]);
  const jobs = ((list as { items?: TrainingJob[] }).items ?? []);
  process.stdout.write(`${formatQueue(jobs, classes ?? classesFromStatus(jobs), Date.now())}\n`);
  return 0;
}

/** Each class's value as the controller last wrote it into the status of a queued job that names it. */
export function classesFromStatus(jobs: readonly TrainingJob[]): PriorityClassInfo[] {
  const seen = new Map<string, number>();
  for (const j of jobs) if (j.spec.priorityClassName && j.status?.queue) seen.set(j.spec.priorityClassName, j.status.queue.priority);
  return [...seen].map(([name, value]) => ({ name, value }));
}
