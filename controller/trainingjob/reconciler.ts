// The TrainingJob reconciler. Reads top to bottom, Flux style: get the job (gone → forget it) →
// deletion and finalizer → ttl → queue release → children (create or correct) → observe → status
// (subresource, only when changed) → events and metrics. Level-triggered: it works only from the
// key and the current state, so running it twice is harmless.
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { BORROWED_ANNOTATION, CONDITION_READY, CONDITION_STALLED, CONTROLLER_NAME, GROUP, QUEUED_ANNOTATION, RETRY_AFTER_ANNOTATION, STARTUP_ATTEMPTS_ANNOTATION, TRAININGJOB_KIND, TRAININGJOB_LABEL, TRAININGJOB_PLURAL, TRAININGPOLICY_PLURAL, V1, isQueued, isTerminal, gpuDemand, ttlExpiry, type TrainingJob, type TrainingJobStatus, type TrainingPolicy } from '../../api/index.ts';
import { deepEqual } from '../../api/json.ts';
import type { EventRecorder } from '../events.ts';
import { forgetJob, recordJobGauges, type ControllerMetrics } from '../metrics.ts';
import { controllerOwnerKey, describeApiError, indexBy, isNotFound, newerVersion, objectKey, splitKey, statusCode, type DialGuard, type Informer, type KubeObject, type ObjectRef, type ResourceRef } from '../../kube/index.ts';
import { settleAll, watchOf, type Manager, type ReconcileContext, type ReconcileResult } from '../runtime/index.ts';
import { trimClaim, trimConfigMap, trimPod, trimService, trimTrainingJob, trimWorkerJob } from './cache-transforms.ts';
import { childDrift, withLiveResumeEnv } from './child-drift.ts';
import { setCondition } from './conditions.ts';
import { InvalidTrainingJobError } from './errors.ts';
import { childrenContext, creationStages, desiredChildren, type Child } from './desired-children.ts';
import { observeWorkerJob, observeWorkers, type Observed, type ProgressObservation } from './observed.ts';
import { parseTrainingProgress } from './progress.ts';
import { departedReports } from './departed-reports.ts';
import { nextStatus } from './state.ts';
import { withSource } from './source.ts';
import { METRICS_PORT } from './worker-env.ts';
import { workerJobName } from './names.ts';
import { informerQueueFacts } from '../queue/queue-facts.ts';
import { PREEMPTED_BY, REFUSED_AT_START, asksToStart, capacityRefusal, nextToStart, queueOrder, queuePlace, startPlan, type QueueFacts } from '../queue/queue-place.ts';
import { reclaimedFor, reclaimVictims } from '../queue/reclaim.ts';
import { backfillSeconds, startingJob } from '../queue/backfill.ts';
import { informerNodeRoom } from '../queue/node-facts.ts';
import { queueStatusIntervalMs } from '../queue/status-pace.ts';
import { borrowed, borrowedGpus, membership } from '../../policies/cohort.ts';
import { startupAttempts, startupDeadline, startupTimeout, startupTimeoutSeconds, type StartupTimeout } from '../queue/startup.ts';
import { chooseVictims, type Victim } from '../queue/preemption.ts';
import { priorityValue } from '../../policies/priority.ts';

export const CHECKPOINT_FINALIZER = `${GROUP}/checkpoint-cleanup`;
/** A ReconcileFailed Ready with a new message is written at most this often per job. */
const FAILURE_REWRITE_MS = 30_000;
/** How the queue reason of a first in line that quota allows but the nodes cannot hold begins. */
const NO_NODE_ROOM = 'quota allows it, but ';

/** How long a job refused at release for a reason other than capacity stands aside before asking again. */
const REFUSED_RETRY_MS = 60_000;
// The webhook reuses policies and namespace labels for up to 2 s (`--facts-ttl`): a start refused for capacity our view sees is retried after that.
const LAGGING_FACTS_RETRY_MS = 2_000;
const LAGGING_FACTS_WINDOW_MS = 10_000;
// Admitted releases the cache does not show yet, per namespace, that the next in line may start on top of: a bound on how far our view runs ahead of the cache.
const RELEASES_IN_FLIGHT = 8;
/** Reconciles in flight: they wait on round trips, not CPU, and the client QPS (not this) bounds the apiserver's load (BENCHMARKS.md, controller-scale). */
export const DEFAULT_WORKERS = 16;

export interface TrainingJobControllerOptions {
  manager: Manager;
  metrics: ControllerMetrics;
  events: EventRecorder;
  /** Reads rank 0's Prometheus text; injected so tests and benchmarks can serve it. */
  scrape?: (url: string, signal: AbortSignal) => Promise<string>;
  /** Checked before every scrape: a local cluster's or a test's controller refuses non-loopback pod IPs. */
  dialGuard?: DialGuard;
  workers?: number;
  /** How often a running job is looked at again for progress. */
  progressIntervalMs?: number;
  /** How often a queued job retries its release. */
  queueRetryMs?: number;
}

// Children by kind: what the informers watch and where applies go.
type ChildKind = 'Job' | 'Service' | 'ConfigMap' | 'PersistentVolumeClaim';
const childResources: Record<ChildKind, ResourceRef> = {
  Job: { group: 'batch', version: 'v1', plural: 'jobs' },
  Service: { group: '', version: 'v1', plural: 'services' },
  ConfigMap: { group: '', version: 'v1', plural: 'configmaps' },
  PersistentVolumeClaim: { group: '', version: 'v1', plural: 'persistentvolumeclaims' },
};

// Informers hold objects as the API sends them (timestamps as strings), so children are read as plain objects.
type Kinded = KubeObject & { kind: string; apiVersion: string; spec?: unknown; status?: Record<string, unknown> };

async function defaultScrape(url: string, signal: AbortSignal): Promise<string> {
  // A trainer's metrics never redirect; following one could lead the scrape anywhere.
  const res = await fetch(url, { redirect: 'error', signal: AbortSignal.any([signal, AbortSignal.timeout(2000)]) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.text();
}

const isConflict = (err: unknown): boolean => statusCode(err) === 409;
const trainingJobs: ResourceRef = { group: GROUP, version: V1, plural: TRAININGJOB_PLURAL };
const jobRef = (namespace: string, name: string): ObjectRef => ({ ...trainingJobs, namespace, name });

export function registerTrainingJobController(opts: TrainingJobControllerOptions): void {
  const { manager, metrics, events } = opts;
  const now = (): Date => new Date(manager.clock.now());
  const scrape = opts.scrape ?? defaultScrape;
  const { client } = manager;

  const children = { labelSelector: TRAININGJOB_LABEL };
  // Caches keep only what this file, child-drift.ts and git sync read (cache-transforms.ts).
  const jobs = manager.informer<TrainingJob & KubeObject>({ group: GROUP, version: V1, plural: TRAININGJOB_PLURAL }, { transform: trimTrainingJob });
  const workerJobs = manager.informer<Kinded>(childResources.Job, { ...children, transform: trimWorkerJob });
  const pods = manager.informer<Kinded>({ group: '', version: 'v1', plural: 'pods' }, { ...children, transform: trimPod });
  const services = manager.informer<Kinded>(childResources.Service, { ...children, transform: trimService });
  const configMaps = manager.informer<Kinded>(childResources.ConfigMap, { ...children, transform: trimConfigMap });
  const pvcs = manager.informer<Kinded>(childResources.PersistentVolumeClaim, { ...children, transform: trimClaim });
  const caches: Record<string, Informer<Kinded>> = { Job: workerJobs, Service: services, ConfigMap: configMaps, PersistentVolumeClaim: pvcs };
  // Pods by their batch Job, and worker Jobs by their TrainingJob: a reconcile looks up its own
  // children instead of scanning the namespace (quadratic over a wave of thousands of jobs).
  const podsByJob = indexBy(pods, (p) => { const j = p.metadata?.labels?.['batch.kubernetes.io/job-name']; return j ? `${p.metadata?.namespace}/${j}` : undefined; });
  const jobsByOwner = indexBy(workerJobs, (j) => ownedBy(j)[0]);
  const departed = departedReports(() => manager.clock.now());
  pods.on({ delete: (p) => departed.remember(p as unknown as V1Pod, p.metadata?.labels?.['batch.kubernetes.io/job-name']) });

  // A pod's owner is its batch Job; the Job's owner is the TrainingJob.
  const ownedBy = controllerOwnerKey({ apiVersion: `${GROUP}/${V1}`, kind: TRAININGJOB_KIND });
  const podOwner = (pod: Kinded): string[] => {
    const jobRef = pod.metadata?.ownerReferences?.find((r) => r.kind === 'Job' && r.controller);
    const job = jobRef && pod.metadata?.namespace ? workerJobs.get(pod.metadata.namespace, jobRef.name) : undefined;
    return job ? ownedBy(job) : [];
  };

  const queueRetryMs = opts.queueRetryMs ?? 10_000;
  // Jobs already counted in trainingjob_created_total (uids of jobs that had no status yet).
  const counted = new Set<string>();
  // Finished jobs (uid → namespace/name) already counted as completed or failed.
  const finished = new Map<string, string>();
  const progressIntervalMs = opts.progressIntervalMs ?? 15_000;
  // namespace/name → when this replica last wrote a ReconcileFailed Ready for the job.
  const failureWrittenAt = new Map<string, number>();

  const controller = manager.addController({
    name: 'trainingjob',
    workers: opts.workers ?? DEFAULT_WORKERS,
    watches: [
      watchOf(jobs),
      // A job that finishes or goes away may free quota, one that leaves or joins the queue moves the others: wake the namespace's queue.
      // In a cohort, the members' queues share idle GPUs, and a job starting on its own quota may need borrowed GPUs back: wake those too.
      watchOf(jobs, (j) => [
        ...(movesQueue(j) ? queueFacts.cohortNamespaces(j.metadata?.namespace ?? '').flatMap(wakeQueue) : []),
        ...(changesLending(j) && inCohort(j.metadata?.namespace ?? '') ? lendingKeys(queueFacts.cohortNamespaces(j.metadata?.namespace ?? '')) : []),
      ]),
      // A policy change (a quota raised, a cohort limit changed) may let queued jobs start: every queue looks again.
      watchOf(manager.informer<TrainingPolicy & KubeObject>({ group: GROUP, version: V1, plural: TRAININGPOLICY_PLURAL }, { resyncMs: 0 }), () => [...new Set(jobs.list().filter((j) => isQueued(j)).map((j) => j.metadata?.namespace ?? ''))].flatMap(wakeQueue)),
      watchOf(workerJobs, ownedBy),
      watchOf(pods, podOwner),
      watchOf(services, ownedBy),
      watchOf(configMaps, ownedBy),
      watchOf(pvcs, ownedBy),
    ],
    reconcile: (key, ctx) => reconcile(key, ctx),
  });

  // namespace/name → resourceVersion of a job this replica preempted, until the cache shows the change.
  const preempting = new Map<string, string>();
  // namespace/name → a release this replica sent (and, once admitted, the version it wrote), until the cache shows it.
  const releasing = new Map<string, { borrow: number; landed?: string }>();
  // namespace/name of releases awaiting the webhook's answer: one per namespace at a time, so they are admitted in queue order.
  const askingWebhook = new Set<string>();
  // Reclaim waits for a lender's release to be admitted: were the webhook to refuse it, borrowers would stop for nothing.
  const preemptedOnly = (j: TrainingJob): TrainingJob => {
    const key = objectKey(j);
    const preempted = preempting.get(key);
    if (preempted === undefined) return j;
    if (preempted === j.metadata?.resourceVersion) return asQueued(j);
    preempting.delete(key);
    return j;
  };
  // Decisions see this replica's own writes the cache does not show yet, so a second one never lends the same GPUs twice.
  const inFlight = (j: TrainingJob): TrainingJob => {
    const key = objectKey(j);
    if (preempting.has(key)) return preemptedOnly(j);
    const released = releasing.get(key);
    if (released === undefined) return j;
    if (!releaseShown(released, j)) return asReleased(j, released.borrow);
    releasing.delete(key);
    return j;
  };
  // Most looks at a queue find none of its jobs written and not yet cached: they take the cached list as it is.
  const ownWritesIn = (namespace: string): boolean => keysIn([...releasing.keys(), ...preempting.keys()], namespace).length > 0;
  const queueFacts = informerQueueFacts(manager, (namespace) => (ownWritesIn(namespace) ? jobs.list(namespace).map(inFlight) : jobs.list(namespace)));
  const reclaimFacts = informerQueueFacts(manager, (namespace) => jobs.list(namespace).map(preemptedOnly));
  // namespace/name → when this replica released the job: its status may still say Queued, with an earlier start's times.
  const releasedAt = new Map<string, number>();
  const nodeRoom = informerNodeRoom(manager, () => jobs.list().map(inFlight), (j) => releasedAt.get(objectKey(j)));
  // namespace/name → until when a job the webhook refused to start (not for capacity) stands aside, and its words. Leader-local:
  // the webhook would refuse a write to the job itself too, and a new leader learns it again at the first refusal.
  const heldBack = new Map<string, { until: number; refusal: string }>();
  // namespace/name → until when a job that could not be patched (a policy now refuses it) is not chosen as a victim again.
  const spared = new Map<string, number>();
  // namespace/name → until when a job the webhook refused to start for capacity we do not see (a ResourceQuota) yields idle cohort GPUs.
  const capacityHeld = new Map<string, number>();
  // namespace/name → when the webhook first refused, for capacity our view sees free, the job's latest try to start.
  const refusedRoomSince = new Map<string, number>();
  // namespace/name → the uid, version and status our last status write returned, until the cache shows it: a reconcile
  // queued meanwhile must not derive the same transition, and its Events, again from the status before the write.
  const written = new Map<string, { uid?: string; rv?: string; status?: TrainingJobStatus }>();
  jobs.on({ update: (_old, j) => { if (written.has(objectKey(j)) && !newerVersion(written.get(objectKey(j))?.rv, j.metadata?.resourceVersion)) written.delete(objectKey(j)); } });
  // Jobs whose requeue after a failed start the webhook refused (said once).
  const requeueRefused = new Set<string>();
  // namespace/name → when this replica last wrote the job's place in the queue (status.queue).
  const queueWrittenAt = new Map<string, number>();
  const keyParts = (key: string): [string, string] => { const { namespace = '', name } = splitKey(key); return [namespace, name]; };

  // A job deleted without a finalizer never shows a deletionTimestamp: its delete event finds it gone from the cache.
  const leaving = (j: TrainingJob): boolean => Boolean(j.metadata?.deletionTimestamp) || !jobs.get(j.metadata?.namespace ?? '', j.metadata?.name ?? '');

  function movesQueue(j: TrainingJob): boolean {
    const left = j.status?.state === 'Queued' && !isQueued(j);
    const joined = isQueued(j) && !j.status?.queue;
    return isTerminal(j) || leaving(j) || left || joined;
  }

  function queuedKeys(namespace: string): string[] {
    return jobs.list(namespace).filter((j) => isQueued(j)).map((j) => objectKey(j));
  }

  /** Which job of a namespace's queue asks to start now, and how (see the queued branch of reconcileJob). */
  function startChoice(namespace: string, at: number) {
    const facts: QueueFacts = { ...queueFacts(namespace), refusedForCapacity: (j) => (capacityHeld.get(objectKey(j)) ?? 0) > at };
    const aside = (j: TrainingJob): boolean => (heldBack.get(objectKey(j))?.until ?? 0) > at;
    // All or nothing, where a policy opts in (startupTimeoutSeconds): every worker must fit the nodes' free GPUs first.
    const checksNodes = startupTimeoutSeconds(facts.policies) !== undefined;
    const heldByNodes = (j: TrainingJob): string | undefined => {
      const words = checksNodes ? nodeRoom(j) : undefined;
      return words && `${NO_NODE_ROOM}${words}`;
    };
    // Where a policy sets backfillSeconds, a job behind a first in line that cannot start may go first.
    const starting = backfillSeconds(facts.policies) !== undefined ? startingJob(facts, at, aside, heldByNodes) : undefined;
    const next = starting?.job ?? nextToStart(facts, at, aside);
    return { facts, aside, checksNodes, starting, next };
  }

  // Events come in floods (a resync replays every job): each namespace's queue is looked at once per turn of the event loop.
  const wakes = new Set<string>();
  /** The queue moved: the job that asks to start now looks at once; the others, whose places moved, within their status pace. */
  function wakeQueue(namespace: string): string[] {
    if (wakes.size === 0) setImmediate(flushWakes);
    wakes.add(namespace);
    return [];
  }
  function flushWakes(): void {
    const namespaces = [...wakes];
    wakes.clear();
    for (const namespace of namespaces) {
      const { facts, next } = startChoice(namespace, manager.clock.now());
      const front = next ? objectKey(next) : undefined;
      if (front) controller.queue.add(front);
      // Spread over the pace by place, so the rewrites never queue up in front of the job asking to start.
      const behind = queueOrder(facts.jobs.filter((j) => isQueued(j)), facts.classes).map((j) => objectKey(j)).filter((k) => k !== front);
      const pace = queueStatusIntervalMs(behind.length + 1);
      behind.forEach((k, i) => controller.queue.addAfter(k, Math.max(1, Math.round((pace * (i + 1)) / behind.length))));
    }
  }

  /** The job of a namespace's queue that asks to start now looks at once (the others keep their pace); not `except`, which just asked. */
  function wakeFront(namespace: string, except: string): void {
    setImmediate(() => {
      const front = startChoice(namespace, manager.clock.now()).next;
      if (front && objectKey(front) !== except) controller.queue.add(objectKey(front));
    });
  }

  /** A job that starts or stops holding GPUs changes what its cohort can lend. */
  function changesLending(j: TrainingJob): boolean {
    return (!isQueued(j) && (!j.status?.state || j.status.state === 'Queued')) || isTerminal(j) || leaving(j);
  }

  const inCohort = (namespace: string): boolean => membership(queueFacts.policies(namespace)) !== undefined;

  /** Who looks again when a cohort's lending changes: its jobs marked as borrowing (they may drop the mark), or one running job (any reconcile reclaims). */
  function lendingKeys(namespaces: readonly string[]): string[] {
    const running = namespaces.flatMap((ns) => jobs.list(ns).filter((j) => !isQueued(j) && !isTerminal(j)));
    const marked = running.filter((j) => borrowedGpus(j) > 0);
    return (marked.length ? marked : running.slice(0, 1)).map((j) => objectKey(j));
  }

  async function reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const started = process.hrtime.bigint();
    let result = 'success';
    try {
      return await reconcileJob(key, ctx);
    } catch (err) {
      result = isConflict(err) ? 'conflict' : 'error';
      metrics.errors.inc({ controller: 'trainingjob', kind: result });
      // A conflict only means the cache was behind; it is retried at once and says nothing to the user.
      if (result === 'error') await reportFailure(key, err, ctx.logger);
      throw err;
    } finally {
      metrics.reconcileDuration.observe({ controller: 'trainingjob', result }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  async function reconcileJob(key: string, ctx: ReconcileContext): Promise<ReconcileResult | void> {
    const { namespace = '', name } = splitKey(key);
    const cached = jobs.get(namespace, name);
    // Every decision below starts from the status this replica last wrote: from an older one it would rebuild (and
    // requeue for) a generation the status has already moved past, without a write that could bring the cache along.
    const job = cached && withWrittenStatus(cached);
    if (!job) {
      forgetJob(metrics, namespace, name);
      heldBack.delete(key);
      capacityHeld.delete(key);
      refusedRoomSince.delete(key);
      releasedAt.delete(key);
      preempting.delete(key);
      releasing.delete(key);
      spared.delete(key);
      requeueRefused.delete(key);
      queueWrittenAt.delete(key);
      written.delete(key);
      for (const [uid, key] of finished) if (key === `${namespace}/${name}`) finished.delete(uid);
      failureWrittenAt.delete(key);
      return;
    }
    const log = ctx.logger.child({ trainingjob: key });

    if (job.metadata?.deletionTimestamp) return finalize(job, log);
    // By uid, not by an empty status: the cache may not show our first status write yet.
    const uid = job.metadata?.uid;
    if (uid && !job.status?.state && !counted.has(uid)) {
      counted.add(uid);
      metrics.created.inc({ namespace });
    } else if (uid && job.status?.state) counted.delete(uid);
    if (needsFinalizer(job) && !job.metadata?.finalizers?.includes(CHECKPOINT_FINALIZER)) {
      await client.patch(jobRef(namespace, name), { metadata: { finalizers: [...(job.metadata?.finalizers ?? []), CHECKPOINT_FINALIZER] } });
      return; // the update event brings us back with the finalizer in place
    }

    const expiry = ttlExpiry(job, now());
    if (expiry !== undefined) {
      if (expiry <= 0) {
        log.info('ttlSecondsAfterFinished passed; deleting');
        await deleteIfPresent(jobRef(namespace, name));
        return;
      }
    }

    if (isQueued(job)) {
      await stopWorkers(job, log);
      const at = manager.clock.now();
      // Only the next to start asks to, so jobs start in priority, then creation, order; on its own quota, or on GPUs its cohort
      // leaves idle.
      const { facts, aside, checksNodes, starting, next } = startChoice(namespace, at);
      const plan = starting?.job.metadata?.name === name ? starting.plan : startPlan(job, facts, at, aside);
      let place = queuePlace(job, facts, at, aside, plan, starting);
      const isNext = next?.metadata?.name === name;
      const noRoom = isNext && 'borrow' in plan && checksNodes ? nodeRoom(job) : undefined;
      // One that does not fit in our view asks the webhook to judge what we cannot see: only once the cache shows every release.
      const inFlightHere = keysIn(releasing.keys(), namespace, key).filter((k) => { const j = jobs.get(...keyParts(k)); return j !== undefined && inFlight(j) !== j; }).length;
      // Our own status write not cached yet: its watch event brings the job back, to ask from the version the webhook will see.
      const behindOwnWrite = written.has(key);
      // Victims the cache still shows running may still count in the webhook's view: only the first in line asks then.
      const onTop = inFlightHere > 0 && keysIn(preempting.keys(), namespace).length === 0 ? RELEASES_IN_FLIGHT : 1;
      const mayAsk = keysIn(askingWebhook, namespace, key).length === 0 && !behindOwnWrite && ('borrow' in plan ? inFlightHere < onTop : inFlightHere === 0);
      // Fitting, and only waiting for an answer or a watch event that wakes it: a place written now would be stale in milliseconds.
      const waitsTurn = isNext && !noRoom && !mayAsk && 'borrow' in plan;
      const refused = isNext && !noRoom && mayAsk ? await tryRelease(job, log, 'borrow' in plan ? plan.borrow : undefined) : undefined;
      if (refused === 'released') {
        heldBack.delete(key);
        capacityHeld.delete(key);
        refusedRoomSince.delete(key);
        const passed = starting?.job.metadata?.name === name ? starting.backfill : undefined;
        // "Why did that job start before mine?" is answered on the job that went first.
        if (passed) {
          const first = `${passed.behind.metadata?.name} (priority ${priorityValue(passed.behind, facts.classes)}, ${gpuDemand(passed.behind)} GPUs)`;
          await events.record(involved(job), 'Normal', 'Backfilled', `started ahead of ${first}, the first in line, which cannot start yet; until ${new Date(passed.until).toISOString()} jobs behind it that fit start first`);
        }
        return; // the update event brings the job back, no longer queued
      }
      // Refused for capacity: lower-priority jobs may make room, where the policy allows it.
      let retryMs = queueRetryMs;
      if (refused !== undefined && capacityRefusal(refused)) {
        if (await preemptFor(job, facts, log)) return { requeueAfterMs: 0 };
        // Our view saw room the webhook does not: until a try succeeds, other members' jobs may take the idle cohort GPUs it was first in line for.
        if ('borrow' in plan) {
          // Where our view has room, the webhook's cached facts likely lag ours (a quota just raised): for a few tries, ask again soon.
          const since = refusedRoomSince.get(key) ?? at;
          refusedRoomSince.set(key, since);
          if (at - since < LAGGING_FACTS_WINDOW_MS) retryMs = Math.min(queueRetryMs, LAGGING_FACTS_RETRY_MS);
          capacityHeld.set(key, at + 2 * queueRetryMs);
        }
      } else if (refused !== undefined) {
        // Refused for something else (a policy changed since admission): step aside so the jobs behind it can start.
        if (heldBack.get(key)?.refusal !== refused) await events.record(involved(job), 'Warning', 'StartRefused', `${REFUSED_AT_START}${refused}`);
        heldBack.set(key, { until: at + REFUSED_RETRY_MS, refusal: refused });
        for (const k of queuedKeys(namespace)) if (k !== key) controller.queue.add(k);
      }
      if (noRoom && place) place = { ...place, reason: `${NO_NODE_ROOM}${noRoom}` };
      const held = heldBack.get(key);
      if (held && held.until > at && place) place = { ...place, reason: `${REFUSED_AT_START}${held.refusal}; next try after ${new Date(held.until).toISOString()}` };
      // Our policy view found room but the webhook said no (a ResourceQuota, say): its words are the reason.
      const queue = place && refused && asksToStart(place.reason) ? { ...place, reason: refused } : place;
      // A job further back shows its last written place until its pace allows another write (controller/queue/status-pace.ts).
      const lastWrite = queueWrittenAt.get(key);
      const paceLeft = lastWrite === undefined ? 0 : lastWrite + queueStatusIntervalMs(queuedKeys(namespace).length) - at;
      const paced = (waitsTurn || (!isNext && paceLeft > 0)) && queue !== undefined && job.status?.queue !== undefined && !deepEqual(queue, job.status.queue);
      const shown = paced ? job.status!.queue : queue;
      // A preempted or timed-out job's stopping workers report the checkpoint to resume from: keep observing them.
      await updateStatus(job, { ...observeChildren(job).observed, ...(shown ? { queue: shown } : {}) }, log);
      if (!paced && queue !== undefined && !deepEqual(queue, job.status?.queue)) queueWrittenAt.set(key, at);
      // A paced place is written as soon as its pace allows.
      return { requeueAfterMs: paced && !waitsTurn ? Math.min(retryMs, paceLeft) : retryMs };
    }

    const restarts = job.status?.restarts ?? 0;
    let desired: ReturnType<typeof desiredChildren>;
    try {
      desired = desiredChildren(job, childrenContext(job));
    } catch (err) {
      // A spec no retry can fix: say so on the object and wait for the next change instead of looping.
      if (err instanceof InvalidTrainingJobError) return stall(job, err.message);
      throw err;
    }
    // The Job as the server returned it from our apply: a new Job is not in the cache yet, and
    // observing it from the cache would cost a Pending status write and another reconcile.
    let appliedJob: V1Job | undefined;
    if (!isTerminal(job)) {
      // Each stage's applies at once (a reconcile waits on round trips, not CPU); a failed PVC, ConfigMap or Service stops before the Job, as one by one did.
      for (const stage of creationStages(desired)) {
        const applied = await settleAll(stage.map((child) => ensureChild(job, child, log)));
        const i = stage.indexOf(desired.workerJob);
        if (i >= 0 && applied[i]) appliedJob = applied[i] as V1Job;
      }
      await deleteStaleWorkerJobs(job, desired.workerJob.metadata?.name ?? workerJobName(name, restarts), log);
    }
    if (isTerminal(job) && job.status?.state === 'Completed' && job.spec.checkpoint?.deleteOnCompletion && desired.checkpointPVC) {
      await deleteIfPresent({ ...childResources.PersistentVolumeClaim, namespace, name: desired.checkpointPVC.metadata!.name! });
    }

    const { observed, podsOfJob } = observeChildren(job, appliedJob);
    if (job.status?.state === 'Running' || job.status?.state === 'Initializing') {
      const progress = await readProgress(podsOfJob, ctx.signal);
      if (progress) observed.progress = progress;
    }
    const next = await updateStatus(job, observed, log);
    if ((next.restarts ?? 0) !== restarts) return { requeueAfterMs: 0 }; // build the next generation from the new status
    if (!isTerminal(job)) await reclaim(namespace, log);
    if (borrowedGpus(job) > 0 && !isTerminal(job) && (await dropBorrowedMark(job, log))) return;
    if (expiry !== undefined) return { requeueAfterMs: expiry };
    const timeout = startupTimeoutSeconds(queueFacts.policies(namespace));
    // From the later of the worker Job's start and the job's release from the queue: a resumed Job may keep its first startTime.
    // No clock while the worker Job is suspended or not started: it may still show the startTime of an earlier run.
    const jobStart = observed.workerJob?.suspended ? undefined : observed.workerJob?.startTime;
    const resumed = ['Queued', 'Suspended'].map((type) => next.conditions?.find((c) => c.type === type && c.status === 'False')?.lastTransitionTime);
    const startedAt = jobStart ? [jobStart, ...resumed].filter((x): x is string => Boolean(x)).sort((a, b) => Date.parse(a) - Date.parse(b)).pop() : undefined;
    const left = startupDeadline(next, startedAt, timeout, manager.clock.now());
    if (left !== undefined && timeout !== undefined) {
      if (left > 0) return { requeueAfterMs: left };
      await requeueAfterFailedStart(job, startupTimeout(job, next, timeout, manager.clock.now()), log);
      return;
    }
    if (next.state === 'Running' && startupAttempts(job) > 0) {
      // Started for good: the next failed start backs off from the beginning again.
      try {
        await client.patch(jobRef(namespace, name), { metadata: { annotations: { [STARTUP_ATTEMPTS_ANNOTATION]: null, [RETRY_AFTER_ANNOTATION]: null } } });
      } catch (err) {
        // The webhook may refuse every write to a job a newer policy rejects: the count only sets the next backoff.
        if (statusCode(err) !== 403) throw err;
        log.warn({ err: describeApiError(err) }, 'could not reset the startup attempts');
      }
    }
    if (next.state === 'Running') return { requeueAfterMs: progressIntervalMs };
    return;
  }

  /** A job marked as borrowing whose namespace's own quota covers it again drops the mark (and its Borrowing condition). True when it wrote. */
  async function dropBorrowedMark(job: TrainingJob, log: Logger): Promise<boolean> {
    const namespace = job.metadata!.namespace!;
    const me = queueFacts(namespace).cohort?.members.find((m) => m.namespace === namespace);
    if (me && borrowed(me) > 0) return false;
    try {
      await client.patch(jobRef(namespace, job.metadata!.name!), { metadata: { resourceVersion: job.metadata?.resourceVersion, annotations: { [BORROWED_ANNOTATION]: null } } });
    } catch (err) {
      // 409: changed since read, the next reconcile looks again; 403: the webhook still sees the namespace borrowing (its list
      // behind ours) or a newer policy refuses writes to the job: the mark only informs, the next progress reconcile tries again.
      if (statusCode(err) !== 409 && statusCode(err) !== 403) throw err;
      if (statusCode(err) === 403) log.info({ err: describeApiError(err) }, 'borrowed mark kept for now');
      return statusCode(err) === 409;
    }
    log.info('no longer borrowing: the namespace\'s own quota covers the job');
    return true;
  }

  /**
   * When the cohort lends more than its members leave idle (a lender took its quota back), suspends the cheapest jobs of
   * the borrowing namespaces (controller/queue/reclaim.ts), all in one decision: each counts as gone before its write, so
   * a decision meanwhile never picks more. Their workers checkpoint on SIGTERM and they resume from it later.
   */
  async function reclaim(namespace: string, log: Logger): Promise<void> {
    // Every reconcile calls this: outside a cohort it must not build the namespace's queue view.
    if (!inCohort(namespace)) return;
    const facts = reclaimFacts(namespace);
    if (!facts.cohort) return;
    const at = manager.clock.now();
    const victims = reclaimVictims(facts.cohort, facts.cohortJobs ?? [], facts.classes, at, (j) => (spared.get(objectKey(j)) ?? 0) > at);
    if (victims.length === 0) return;
    const why = `${PREEMPTED_BY}${reclaimedFor(facts.cohort)}`;
    for (const v of victims) preempting.set(objectKey(v.job), v.job.metadata?.resourceVersion ?? '');
    for (const v of victims) {
      const refused = (err: unknown) => events.record(involved(v.job), 'Warning', 'PreemptionFailed', `${why}, but this job could not be suspended: ${describeApiError(err)}`);
      if (await suspendVictim(v, { why, reason: 'Reclaim', at, log, refused })) log.info({ victim: objectKey(v.job), lostGpuHours: v.lostGpuHours }, 'borrowed GPUs reclaimed; requeued');
      else preempting.delete(objectKey(v.job));
    }
  }

  /**
   * Suspends a victim back into the queue, at the version decided on (a cache behind an earlier preemption gets a 409, not a
   * second count), with its Preempted event and metrics; true when it did. `refused` says why when it was not changed or gone.
   */
  async function suspendVictim(v: Victim, { why, reason, at, log, refused }: { why: string; reason: 'Reclaim' | 'LowerPriority'; at: number; log: Logger; refused: (err: unknown) => Promise<void> }): Promise<boolean> {
    const namespace = v.job.metadata!.namespace!;
    try {
      await client.patch(jobRef(namespace, v.job.metadata!.name!), { metadata: { resourceVersion: v.job.metadata?.resourceVersion, annotations: { [QUEUED_ANNOTATION]: why, [BORROWED_ANNOTATION]: null } }, spec: { suspend: true } });
    } catch (err) {
      // 409/404: changed or gone since the decision, the next one sees it. Anything else (a policy now refusing the job, say) spares it for a while.
      if (statusCode(err) !== 409 && statusCode(err) !== 404) {
        spared.set(objectKey(v.job), at + REFUSED_RETRY_MS);
        log.warn({ victim: objectKey(v.job), err: describeApiError(err) }, 'could not preempt');
        await refused(err);
      }
      return false;
    }
    const since = v.job.status?.lastCheckpointTime ? `the last checkpoint (${v.job.status.lastCheckpointTime})` : 'the start';
    await events.record(involved(v.job), 'Warning', 'Preempted', `${why}: its workers report their checkpoint on SIGTERM and it resumes from it when capacity returns; at most ${v.lostGpuHours.toFixed(4)} GPU-hours since ${since}`);
    metrics.preemptions.inc({ namespace, reason });
    metrics.preemptionLostGpuHours.inc({ namespace }, v.lostGpuHours);
    return true;
  }

  /** All or nothing: a job whose workers did not all start gives its GPUs back and waits in the queue, backing off. */
  async function requeueAfterFailedStart(job: TrainingJob, failed: StartupTimeout, log: Logger): Promise<void> {
    const namespace = job.metadata!.namespace!;
    const annotations = { [QUEUED_ANNOTATION]: failed.message, [STARTUP_ATTEMPTS_ANNOTATION]: String(failed.attempts), [RETRY_AFTER_ANNOTATION]: failed.retryAfter, [BORROWED_ANNOTATION]: null };
    try {
      // At the version read: a job that started meanwhile (a newer status) is left alone.
      await client.patch(jobRef(namespace, job.metadata!.name!), { metadata: { resourceVersion: job.metadata?.resourceVersion, annotations }, spec: { suspend: true } });
    } catch (err) {
      if (statusCode(err) === 409) return;
      if (statusCode(err) !== 403) throw err;
      // A newer policy refuses every write to this job: say so once, and let the job keep waiting for its workers.
      const why = `workers did not all start in time, but the job could not be requeued: ${describeApiError(err)}`;
      if (!requeueRefused.has(objectKey(job))) await events.record(involved(job), 'Warning', 'RequeueRefused', why);
      requeueRefused.add(objectKey(job));
      log.warn({ err: describeApiError(err) }, 'could not requeue after a failed start');
      return;
    }
    requeueRefused.delete(objectKey(job));
    log.warn({ attempts: failed.attempts, retryAfter: failed.retryAfter }, 'workers did not all start in time; requeued');
    await events.record(involved(job), 'Warning', 'StartupTimeout', failed.message);
    metrics.startupTimeouts.inc({ namespace });
  }

  /**
   * Flux-style: a reconcile that failed says so on the job (Ready=False, ReconcileFailed, the API's words) so that
   * `kubectl describe` shows why nothing moves; the next reconcile that succeeds writes Ready from the state again.
   * A finished job keeps the Ready that tells how it ended. Guarded so that it never feeds a loop: not for 409s
   * (the cache was behind) or 429s (the apiserver asks for less), only against the version it read (a newer
   * status wins), and a changed message at most once per FAILURE_REWRITE_MS per job (each write wakes the job at once,
   * past the work queue's backoff).
   */
  async function reportFailure(key: string, err: unknown, log: Logger): Promise<void> {
    const code = statusCode(err);
    if (code === 409 || code === 429) return;
    const { namespace = '', name } = splitKey(key);
    const job = jobs.get(namespace, name);
    if (!job || isTerminal(job) || job.metadata?.deletionTimestamp) return;
    const message = describeApiError(err).slice(0, 1024);
    const shown = job.status?.conditions?.find((c) => c.type === CONDITION_READY);
    if (shown?.reason === 'ReconcileFailed' && (shown.message === message || manager.clock.now() - (failureWrittenAt.get(key) ?? 0) < FAILURE_REWRITE_MS)) return;
    const conditions = setCondition(job.status?.conditions ?? [], { type: CONDITION_READY, status: 'False', reason: 'ReconcileFailed', message, observedGeneration: job.metadata?.generation }, now().toISOString());
    try {
      await client.patchStatus(jobRef(namespace, name), { metadata: { resourceVersion: job.metadata?.resourceVersion }, status: { conditions } });
      failureWrittenAt.set(key, manager.clock.now());
    } catch (writeErr) {
      if (statusCode(writeErr) !== 409) log.warn({ err: describeApiError(writeErr) }, 'could not write the failure to the status');
    }
  }

  async function stall(job: TrainingJob, message: string): Promise<void> {
    const conditions = setCondition(job.status?.conditions ?? [], { type: CONDITION_STALLED, status: 'True', reason: 'InvalidSpec', message, observedGeneration: job.metadata?.generation }, now().toISOString());
    const status = withSource({ ...job.status, state: job.status?.state ?? 'Pending', conditions, observedGeneration: job.metadata?.generation }, job);
    if (!deepEqual(status, job.status ?? {})) {
      await patchStatus(job, status);
      await events.record(involved(job), 'Warning', 'InvalidSpec', message);
    }
  }

  function needsFinalizer(job: TrainingJob): boolean {
    return Boolean(job.spec.checkpoint?.deleteOnCompletion) && job.spec.checkpoint?.enabled !== false && (job.spec.checkpoint?.storage?.type ?? 'pvc') === 'pvc';
  }

  // The finalizer exists so a deleted job's checkpoints are removed even if garbage collection is
  // told to orphan dependents; it is removed once the PVC is gone.
  async function finalize(job: TrainingJob, log: Logger): Promise<void> {
    if (!job.metadata?.finalizers?.includes(CHECKPOINT_FINALIZER)) return;
    const namespace = job.metadata.namespace!;
    const pvc = desiredChildren(job, childrenContext(job)).checkpointPVC;
    if (pvc) await deleteIfPresent({ ...childResources.PersistentVolumeClaim, namespace, name: pvc.metadata!.name! });
    const finalizers = job.metadata.finalizers.filter((f) => f !== CHECKPOINT_FINALIZER);
    await client.patch(jobRef(namespace, job.metadata.name!), { metadata: { finalizers, resourceVersion: job.metadata.resourceVersion } });
    log.info('checkpoints removed; finalizer released');
  }

  async function deleteIfPresent(ref: ObjectRef): Promise<void> {
    try {
      // Background: a deleted worker Job's pods go with it.
      await client.delete(ref, { propagationPolicy: 'Background' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Creates a missing child or corrects a drifted one by server-side apply (returns what the server answered); recreates a Job only before it ran. */
  async function ensureChild(job: TrainingJob, desired: Child, log: Logger): Promise<Child | undefined> {
    const kind = (desired as Kinded).kind;
    const namespace = job.metadata!.namespace!;
    const name = desired.metadata!.name!;
    const actual = caches[kind]?.get(namespace, name) as Child | undefined;
    if (actual) {
      const drift = childDrift(desired, actual);
      if (drift.fields.length === 0) return undefined;
      if (drift.recreate) {
        const live = actual as V1Job;
        const ran = (live.status?.active ?? 0) + (live.status?.succeeded ?? 0) + (live.status?.failed ?? 0) > 0;
        if (kind !== 'Job' || ran) {
          log.info({ child: `${kind}/${name}`, fields: drift.fields.map((f) => f.path) }, 'child differs in fields that cannot change in place; left as is until the next restart');
          // Suspend and resume still follow: a job released from the queue must not stay stopped over, say, a new priority class.
          const suspend = kind === 'Job' ? drift.fields.find((f) => f.path === 'spec.suspend') : undefined;
          if (suspend) await client.patch({ ...childResources.Job, namespace, name }, { spec: { suspend: suspend.desired } });
          return undefined;
        }
        await deleteIfPresent({ ...childResources.Job, namespace, name });
        return undefined; // recreated from the delete event
      }
      log.info({ child: `${kind}/${name}`, fields: drift.fields.map((f) => f.path) }, 'correcting drifted child');
    }
    const applied = await applyChild(kind, namespace, name, actual && kind === 'Job' ? withLiveResumeEnv(desired as V1Job, actual as V1Job) : desired);
    if (!actual && kind === 'Job') await events.record(involved(job), 'Normal', 'CreatedWorkers', `created Job ${name} (${job.spec.numWorkers ?? 1} workers)`);
    return applied;
  }

  async function applyChild(kind: string, namespace: string, name: string, body: Child): Promise<Child | undefined> {
    const resource = childResources[kind as ChildKind];
    if (!resource) return undefined;
    return client.apply<Child>({ ...resource, namespace, name }, body, { fieldManager: CONTROLLER_NAME, force: true });
  }

  /** The job with the status this replica last wrote, where the cache does not show that write yet. */
  function withWrittenStatus(job: TrainingJob): TrainingJob {
    const key = objectKey(job);
    const w = written.get(key);
    if (w && w.uid === job.metadata?.uid && newerVersion(w.rv, job.metadata?.resourceVersion)) return { ...job, status: w.status };
    written.delete(key);
    return job;
  }

  function remember(updated: TrainingJob | undefined): void {
    if (updated?.metadata?.name) written.set(objectKey(updated), { uid: updated.metadata.uid, rv: updated.metadata.resourceVersion, status: updated.status });
  }

  function patchStatus(job: TrainingJob, status: TrainingJobStatus): Promise<TrainingJob | undefined> {
    // A merge patch keeps keys it does not name: a place in the queue the job no longer has is removed explicitly.
    const gone = job.status?.queue && !status.queue ? { queue: null } : {};
    return client.patchStatus<TrainingJob | undefined>(jobRef(job.metadata!.namespace!, job.metadata!.name!), { status: { ...status, ...gone } });
  }

  async function deleteStaleWorkerJobs(job: TrainingJob, currentName: string, log: Logger): Promise<void> {
    const namespace = job.metadata!.namespace!;
    for (const j of jobsByOwner.get(objectKey(job))) {
      if (j.metadata?.name === currentName) continue;
      log.info({ job: j.metadata?.name }, 'deleting the worker Job of an earlier generation');
      await deleteIfPresent({ ...childResources.Job, namespace, name: j.metadata!.name! });
    }
  }

  async function readProgress(podsOfJob: ReadonlyArray<V1Pod>, signal: AbortSignal): Promise<ProgressObservation | undefined> {
    const rank0 = podsOfJob.find((p) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'] === '0' && p.status?.phase === 'Running');
    const ip = rank0?.status?.podIP;
    if (!ip) return undefined;
    const url = `http://${ip.includes(':') ? `[${ip}]` : ip}:${METRICS_PORT}/metrics`;
    try {
      opts.dialGuard?.(url, 'rank 0 metrics');
      return { reachable: true, progress: parseTrainingProgress(await scrape(url, signal)) };
    } catch (err) {
      return { reachable: false, message: `rank 0 metrics at ${url} unreachable: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  /** `job` as reconcileJob holds it: with the status this replica last wrote (withWrittenStatus). */
  async function updateStatus(job: TrainingJob, observed: Observed, log: Logger): Promise<TrainingJobStatus> {
    const { status: computed, events: happened } = nextStatus(job, observed, now());
    const status = withSource(computed, job);
    const namespace = job.metadata!.namespace!;
    const name = job.metadata!.name!;
    if (!deepEqual(status, job.status ?? {})) remember(await patchStatus(job, status));
    // Written down (or already there): the status keeps the checkpoint from now on.
    if (observed.departed?.length) departed.forget(namespace, workerJobName(name, job.status?.restarts ?? 0), observed.departed);
    for (const e of happened) {
      await events.record(involved(job), e.type, e.reason, e.message);
      // Once per job: a reconcile that reads a stale status derives the same transition again.
      const uid = job.metadata?.uid ?? `${namespace}/${name}`;
      if (e.reason === 'Completed' && !finished.has(uid)) {
        finished.set(uid, `${namespace}/${name}`);
        metrics.completed.inc({ namespace });
      }
      if (status.state === 'Failed' && e.type === 'Warning' && job.status?.state !== 'Failed' && !finished.has(uid)) {
        finished.set(uid, `${namespace}/${name}`);
        metrics.failed.inc({ namespace, reason: e.reason });
      }
    }
    if (happened.length) log.info({ state: status.state, events: happened.map((e) => e.reason) }, 'status updated');
    recordJobGauges(metrics, {
      namespace, name, state: status.state ?? 'Pending',
      activeWorkers: status.workers?.active ?? 0,
      gpus: status.allocatedGPUs ?? 0,
      progress: status.progress === undefined ? undefined : Number.parseFloat(status.progress), epoch: status.currentEpoch, loss: status.metrics?.loss, accuracy: status.metrics?.accuracy,
    });
    return status;
  }

  /** The current generation's worker Job and pods as the state machine sees them; `applied` is a Job just written (not cached yet). */
  function observeChildren(job: TrainingJob, applied?: V1Job): { observed: Observed; podsOfJob: V1Pod[] } {
    const namespace = job.metadata!.namespace!;
    const current = applied ?? (workerJobs.get(namespace, workerJobName(job.metadata!.name!, job.status?.restarts ?? 0)) as unknown as V1Job | undefined);
    const podsOfJob = (current ? podsByJob.get(`${namespace}/${current.metadata!.name}`) : []) as unknown as V1Pod[];
    const observed: Observed = { ...(current ? { workerJob: observeWorkerJob(current) } : {}), workers: current ? observeWorkers(podsOfJob, current.metadata!.name!) : [] };
    // Also when the Job is gone: its pods' last reports still say where to resume.
    // Only pods of this very Job: a job deleted and created again under its name must not resume from the old one's reports.
    const gone = departed.of(namespace, workerJobName(job.metadata!.name!, job.status?.restarts ?? 0)).filter((r) => r.jobUid !== undefined && r.jobUid === current?.metadata?.uid && !observed.workers.some((w) => w.podName === r.pod));
    if (gone.length) observed.departed = gone;
    return { observed, podsOfJob };
  }

  /** A queued job runs no workers: a preempted one's worker Job is suspended, so its workers get SIGTERM and checkpoint. */
  async function stopWorkers(job: TrainingJob, log: Logger): Promise<void> {
    for (const j of jobsByOwner.get(objectKey(job))) {
      if ((j.spec as { suspend?: boolean } | undefined)?.suspend === true) continue;
      log.info({ job: j.metadata?.name }, 'suspending the workers of a queued job');
      try {
        await client.patch({ ...childResources.Job, namespace: job.metadata!.namespace!, name: j.metadata!.name! }, { spec: { suspend: true } });
      } catch (err) {
        if (!isNotFound(err)) throw err; // gone already: nothing runs
      }
    }
  }

  /**
   * Suspends the running jobs `head` may preempt (controller/queue/preemption.ts) and puts them back in the
   * queue; true when it did. Their workers checkpoint on SIGTERM and resume from it when they start again.
   */
  async function preemptFor(head: TrainingJob, facts: QueueFacts, log: Logger): Promise<boolean> {
    // Victims patched but not yet seen so in the cache count as gone: a second decision must not pick others besides.
    for (const [key, rv] of preempting) if (jobs.get(...keyParts(key))?.metadata?.resourceVersion !== rv) preempting.delete(key);
    const view = { ...facts, jobs: facts.jobs.map((j) => (preempting.has(objectKey(j)) ? asQueued(j) : j)) };
    const at = manager.clock.now();
    // A job that failed to start even once waits out its luck without stopping others: it could preempt them again each time.
    if (startupAttempts(head) > 0) return false;
    const victims = chooseVictims(head, view, at, (j) => (spared.get(objectKey(j)) ?? 0) > at);
    if (victims.length === 0) return false;
    const mine = priorityValue(head, facts.classes);
    const done: string[] = [];
    for (const v of victims) {
      const why = `${PREEMPTED_BY}${head.metadata!.name} (priority ${mine} > ${v.priority})`;
      const refused = (err: unknown) => events.record(involved(head), 'Warning', 'PreemptionFailed', `could not suspend ${v.job.metadata?.name}: ${describeApiError(err)}`);
      if (!(await suspendVictim(v, { why, reason: 'LowerPriority', at, log, refused }))) continue;
      preempting.set(objectKey(v.job), v.job.metadata?.resourceVersion ?? '');
      done.push(v.job.metadata!.name!);
    }
    if (done.length === 0) return false;
    const names = done.join(', ');
    log.info({ victims: names }, 'preempted lower-priority jobs to start');
    await events.record(involved(head), 'Normal', 'Preempting', `suspended ${names} (lower priority) to start`);
    return true;
  }

  /**
   * Asks to start the job, on `borrow` GPUs of its cohort when above 0 (undefined: our view sees no room, the webhook
   * decides): 'released', the webhook's refusal in its words, or undefined when nothing was learnt.
   */
  async function tryRelease(job: TrainingJob, log: Logger, planned: number | undefined): Promise<string | undefined> {
    const namespace = job.metadata!.namespace!;
    const key = objectKey(job);
    const borrow = planned ?? 0;
    // Counted as running before the write returns, where our view sees room: a decision meanwhile must not lend or place the same GPUs again.
    if (planned !== undefined) releasing.set(key, { borrow });
    askingWebhook.add(key);
    try {
      // The webhook re-checks quota (and, borrowing, the cohort) for a job leaving the queue; a "no" leaves it queued.
      // The mark is left alone when not borrowing: a release sent from a stale cache must not strip it from a running borrower.
      const mark = borrow > 0 ? { [BORROWED_ANNOTATION]: String(borrow) } : job.metadata?.annotations?.[BORROWED_ANNOTATION] !== undefined ? { [BORROWED_ANNOTATION]: null } : {};
      const annotations = { [QUEUED_ANNOTATION]: null, ...mark };
      // At the version decided on whenever the mark changes: from a stale cache the job may be running already.
      const decided = Object.keys(mark).length > 0 ? { resourceVersion: job.metadata?.resourceVersion } : {};
      const landed = await client.patch<TrainingJob | undefined>(jobRef(namespace, job.metadata!.name!), { metadata: { ...decided, annotations }, spec: { suspend: false } });
      if (planned !== undefined) releasing.set(key, { borrow, ...(landed?.metadata?.resourceVersion ? { landed: landed.metadata.resourceVersion } : {}) });
      releasedAt.set(key, manager.clock.now());
      log.info({ gpus: gpuDemand(job), borrowed: borrow }, 'released from the queue');
      if (borrow > 0) await events.record(involved(job), 'Normal', 'Borrowing', `starts on ${borrow} of its ${gpuDemand(job)} GPUs borrowed from the namespace's cohort; they are reclaimed when the lender needs them`);
      return 'released';
    } catch (err) {
      releasing.delete(key);
      // 403: the webhook said no (still over quota); 409: the job changed since it was read.
      if (statusCode(err) === 403) return webhookWords(describeApiError(err));
      if (statusCode(err) === 409) return undefined;
      // Anything else (the webhook down, a timeout) also leaves it queued: the job asks again in queueRetryMs. Not
      // thrown, because the Queued status was just written and a ReconcileFailed write now would wake it at once.
      const why = describeApiError(err);
      log.warn({ err: why }, 'release from the queue failed; retrying');
      await events.record(involved(job), 'Warning', 'ReleaseFailed', `release from the queue failed, retrying: ${why}`);
      return undefined;
    } finally {
      askingWebhook.delete(key);
      // Whatever the answer, the next in line asks now rather than after a watch event or its retry.
      wakeFront(namespace, key);
    }
  }

  function involved(job: TrainingJob) {
    return { apiVersion: `${GROUP}/${V1}`, kind: TRAININGJOB_KIND, namespace: job.metadata!.namespace!, name: job.metadata!.name!, uid: job.metadata?.uid };
  }

  void controller;
}

/** The keys of a namespace's objects, but `except`. */
function keysIn(keys: Iterable<string>, namespace: string, except?: string): string[] {
  return [...keys].filter((k) => k !== except && k.startsWith(`${namespace}/`));
}

/** Whether the cache shows a release: the version it wrote or a later one; before the answer, the job no longer queued. */
function releaseShown(release: { landed?: string }, cached: TrainingJob): boolean {
  return release.landed !== undefined ? !newerVersion(release.landed, cached.metadata?.resourceVersion) : !isQueued(cached);
}

/** How a job looks once released onto borrowed GPUs (for decisions made before the cache shows it). */
function asReleased(job: TrainingJob, borrow: number): TrainingJob {
  const { [QUEUED_ANNOTATION]: _queued, ...annotations } = job.metadata?.annotations ?? {};
  return { ...job, metadata: { ...job.metadata, annotations: { ...annotations, [BORROWED_ANNOTATION]: String(borrow) } }, spec: { ...job.spec, suspend: false } };
}

/** How a job looks once preempted: suspended and queued (for decisions made before the cache shows it). */
function asQueued(job: TrainingJob): TrainingJob {
  return { ...job, metadata: { ...job.metadata, annotations: { ...job.metadata?.annotations, [QUEUED_ANNOTATION]: 'preempting' } }, spec: { ...job.spec, suspend: true } };
}

/** A webhook denial without the apiserver's wrapping ("admission webhook \"…\" denied the request: "). */
export function webhookWords(message: string): string {
  const i = message.indexOf('denied the request: ');
  return i < 0 ? message : message.slice(i + 'denied the request: '.length);
}

/** A live index of an informer's objects by a derived key, kept up to date from its events. */
