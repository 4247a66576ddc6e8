// `trainingjob logs JOB`: the workers' logs, each line prefixed with its rank, read through the API server as
// `kubectl logs` reads them; only the current restart generation's pods, since older ones are being replaced.
import { PassThrough } from 'node:stream';
import { parseArgs } from 'node:util';
import { CoreV1Api, CustomObjectsApi, Log, type V1Pod } from '@kubernetes/client-node';
import { loadKubeConfig } from '../kube/kubeconfig.ts';
import { GROUP } from '../api/group.ts';
import { RESTART_LABEL, workerSelector } from '../controller/trainingjob/child-metadata.ts';
import { COMPLETION_INDEX_ANNOTATION } from '../controller/trainingjob/worker-env.ts';
import { WORKER_CONTAINER } from '../controller/trainingjob/worker-pod.ts';
import { UsageError } from './usage.ts';

const help = `usage: trainingjob logs JOB [options]

  -n, --namespace NS   the TrainingJob's namespace (default: the kubeconfig context's, else default)
  -f, --follow         stream new lines until the workers exit; waits for workers that have not started
  --rank N             only this worker
  --tail N             only the last N lines of each worker
  --kubeconfig FILE    default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account

Each line is prefixed "[rank N] ". Exits 1 when the job does not exist, or has no worker pods yet (without -f).`;

/** Splits a byte stream into lines and writes each with `prefix`; `end` flushes a last line without newline. */
export function linePrefixer(prefix: string, write: (text: string) => void): { push(chunk: Buffer | string): void; end(): void } {
  let carry = '';
  return {
    push(chunk) {
      const lines = (carry + chunk.toString()).split('\n');
      carry = lines.pop() ?? '';
      if (lines.length) write(lines.map((l) => `${prefix}${l}\n`).join(''));
    },
    end() {
      if (carry) write(`${prefix}${carry}\n`);
      carry = '';
    },
  };
}

export function rankOf(pod: V1Pod): number | undefined {
  const raw = pod.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION] ?? pod.metadata?.labels?.[COMPLETION_INDEX_ANNOTATION];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/** The newest restart generation's live pods, one per rank (the newest if a rank was replaced), by rank. */
export function currentWorkers(pods: readonly V1Pod[]): { rank: number; pod: V1Pod }[] {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp && rankOf(p) !== undefined);
  const generation = Math.max(-1, ...live.map((p) => Number(p.metadata?.labels?.[RESTART_LABEL] ?? 0)));
  const byRank = new Map<number, V1Pod>();
  for (const p of live) {
    if (Number(p.metadata?.labels?.[RESTART_LABEL] ?? 0) !== generation) continue;
    const rank = rankOf(p)!;
    const seen = byRank.get(rank);
    if (!seen || (p.metadata?.creationTimestamp ?? 0) > (seen.metadata?.creationTimestamp ?? 0)) byRank.set(rank, p);
  }
  return [...byRank].sort(([a], [b]) => a - b).map(([rank, pod]) => ({ rank, pod }));
}

function wholeNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a whole number ≥ 0, got "${value}"`);
  return Number(value);
}

export async function logsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: { namespace: { type: 'string', short: 'n' }, follow: { type: 'boolean', short: 'f' }, rank: { type: 'string' }, tail: { type: 'string' }, kubeconfig: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`name one TrainingJob\n${help}`);
  const name = positionals[0]!;
  const rank = wholeNumber(values.rank, '--rank');
  const tailLines = wholeNumber(values.tail, '--tail');
  const kc = loadKubeConfig(values.kubeconfig);
  const namespace = values.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);

  let job: { status?: { state?: string } };
  try {
    job = (await custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural: 'trainingjobs', name })) as typeof job;
  } catch (err) {
    if ((err as { code?: number }).code === 404) {
      process.stderr.write(`trainingjob logs: TrainingJob ${namespace}/${name} not found\n`);
      return 1;
    }
    throw err;
  }
  const selector = Object.entries(workerSelector(name)).map(([k, v]) => `${k}=${v}`).join(',');
  const workers = async () => currentWorkers((await core.listNamespacedPod({ namespace, labelSelector: selector })).items).filter((w) => rank === undefined || w.rank === rank);
  let found = await workers();
  if (found.length === 0) {
    const which = rank === undefined ? 'no worker pods' : `no worker pod of rank ${rank}`;
    process.stderr.write(`trainingjob logs: TrainingJob ${namespace}/${name} has ${which} yet (state: ${job.status?.state ?? 'not reconciled yet'})${values.follow ? '; waiting' : ''}\n`);
    if (!values.follow) return 1;
    while (found.length === 0) {
      await new Promise((r) => setTimeout(r, 2000));
      // Deleted while waiting: nothing will come.
      if (!(await custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural: 'trainingjobs', name }).then(() => true, (err: { code?: number }) => err.code !== 404))) {
        process.stderr.write(`trainingjob logs: TrainingJob ${namespace}/${name} was deleted\n`);
        return 1;
      }
      found = await workers();
    }
  }

  const log = new Log(kc);
  const follow = Boolean(values.follow);
  // With -f, a worker whose container has not started yet is waited for, not given up on.
  const stream = async (w: { rank: number; pod: V1Pod }): Promise<void> => {
    for (;;) {
      const err = await streamOnce(w);
      if (!follow || !err || !/waiting to start|ContainerCreating|PodInitializing/.test(describe(err))) return;
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  const streamOnce = (w: { rank: number; pod: V1Pod }): Promise<unknown> => new Promise((resolve) => {
    const prefix = `[rank ${w.rank}] `;
    const out = linePrefixer(prefix, (text) => process.stdout.write(text));
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => out.push(c));
    let finished = false;
    const done = (err: unknown): void => {
      if (finished) return;
      finished = true;
      out.end();
      const waiting = follow && err !== undefined && /waiting to start|ContainerCreating|PodInitializing/.test(describe(err));
      // A worker not started yet, or gone: say so on its line instead of failing the others.
      if (err) process.stdout.write(`${prefix}(${waiting ? 'waiting for' : 'no log from'} pod ${w.pod.metadata?.name}: ${describe(err)})\n`);
      resolve(err);
    };
    sink.on('end', () => done(undefined));
    sink.on('error', done);
    log.log(namespace, w.pod.metadata!.name!, WORKER_CONTAINER, sink, (err: unknown) => {
      if (err) done(err);
    }, { follow, ...(tailLines !== undefined ? { tailLines } : {}) }).catch(done);
  });
  // Following interleaves the ranks as lines arrive; otherwise each rank's log is shown whole, in rank order.
  if (values.follow) await Promise.all(found.map(stream));
  else for (const w of found) await stream(w);
  return 0;
}

function describe(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return err instanceof Error ? err.message : String(err);
}
