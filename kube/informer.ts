// List+watch of one resource into a local cache, with event handlers, periodic resync and a
// watch that re-opens itself forever (410 Gone → relist), always with backoff after failures.
// Built on client-node's Watch plus our own paged list, not ListWatch: ListWatch stops for good on a
// watch error and its typed list hands back Date-converted objects unlike the raw ones its watch delivers.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { sleep, systemClock, type Clock, type TimerHandle } from '../clock/clock.ts';
import { requestJson, statusCode } from './json-request.ts';
import type { KubeObject } from './kube-object.ts';

export interface ResourceRef {
  /** API group; empty or omitted for the core group. */
  group?: string;
  version: string;
  plural: string;
  /** Watch one namespace; omitted for all namespaces (or a cluster-scoped resource). */
  namespace?: string;
}

export function resourcePath({ group, version, plural, namespace }: ResourceRef): string {
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  return namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}` : `${base}/${plural}`;
}

export const objectPath = (resource: ResourceRef, name: string): string => `${resourcePath(resource)}/${encodeURIComponent(name)}`;

export interface EventHandlers<T extends KubeObject> {
  add?(obj: T): void;
  /** Also called with `oldObj === obj` on every resync. */
  update?(oldObj: T, obj: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions {
  kubeConfig: KubeConfig;
  resource: ResourceRef;
  logger: Logger;
  labelSelector?: string;
  fieldSelector?: string;
  /** Re-deliver every cached object as an update this often; 0 turns resync off. */
  resyncMs?: number;
  /** Items per list page, so a relist of thousands of objects never needs one huge response. */
  pageSize?: number;
  /** Delay after a failed list or watch: doubles per consecutive failure, up to maxMs. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** A watch that ends sooner than this without delivering anything counts as a failure (no tight loops). */
  minWatchMs?: number;
  /**
   * Applied to every listed or watched object before it is cached or handed to handlers (like
   * client-go's SetTransform): keeps only what readers need, so thousands of cached objects stay small.
   */
  transform?: CacheTransform;
  clock?: Clock;
}

/** Returns the object to cache; may modify its argument (it is a freshly parsed response nobody else holds). */
export type CacheTransform = (obj: KubeObject) => KubeObject;

export interface InformerStats {
  lists: number;
  watches: number;
  failures: number;
  /** Times the apiserver answered 410 Gone and the cache was rebuilt from a fresh list. */
  expired: number;
}

export interface Informer<T extends KubeObject> {
  readonly resource: ResourceRef;
  /** Registers handlers (a late registration gets every cached object as an add); returns an unsubscribe function. */
  on(handlers: EventHandlers<T>): () => void;
  start(): void;
  stop(): Promise<void>;
  hasSynced(): boolean;
  /** Resolves true once the first list is in the cache; false if stopped or aborted first. */
  waitForSync(signal?: AbortSignal): Promise<boolean>;
  get(namespace: string | undefined, name: string): T | undefined;
  list(namespace?: string): T[];
  stats(): InformerStats;
  /** The resourceVersion the cache reflects (a list's, or the last event's or bookmark's); '' before the first list and while relisting. */
  resourceVersion(): string;
}

interface ListBody<T> {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

interface WatchEnd {
  err: unknown;
  events: number;
  gone: boolean;
  durationMs: number;
}

export function createInformer<T extends KubeObject>(opts: InformerOptions): Informer<T> {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger.child({ informer: resourcePath(opts.resource), ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}) });
  const path = resourcePath(opts.resource);
  const initialBackoff = opts.backoff?.initialMs ?? 800;
  const maxBackoff = opts.backoff?.maxMs ?? 30_000;
  const minWatchMs = opts.minWatchMs ?? 1000;
  // Small pages: with five informers filling at once, 500-item pages raised the high-water mark, which the
  // process keeps as RSS (fresh controller at 5,000 jobs: 264–285 MB with 500, 236–249 MB with 100; BENCHMARKS.md).
  const pageSize = opts.pageSize ?? 100;
  const watcher = new Watch(opts.kubeConfig);
  const transform = (opts.transform ?? ((obj: KubeObject) => obj)) as unknown as (obj: T) => T;

  let cache = new Map<string, Map<string, T>>();
  const handlers = new Set<EventHandlers<T>>();
  const stats: InformerStats = { lists: 0, watches: 0, failures: 0, expired: 0 };
  let resourceVersion = '';
  let synced = false;
  let started = false;
  let stopped = false;
  const stopCtrl = new AbortController();
  let currentWatch: AbortController | undefined;
  let resyncTimer: TimerHandle | undefined;
  let loop: Promise<void> | undefined;
  const syncWaiters = new Set<(ok: boolean) => void>();

  const nsKey = (obj: T): string => obj.metadata?.namespace ?? '';
  const nameOf = (obj: T): string => obj.metadata?.name ?? '';
  const lookup = (namespace: string | undefined, name: string): T | undefined => cache.get(namespace ?? '')?.get(name);

  const emit = (fn: (h: EventHandlers<T>) => void): void => {
    for (const h of handlers) {
      try {
        fn(h);
      } catch (err) {
        log.error({ err }, 'informer event handler threw');
      }
    }
  };

  const upsert = (obj: T): void => {
    const ns = nsKey(obj);
    let names = cache.get(ns);
    if (!names) cache.set(ns, (names = new Map()));
    const old = names.get(nameOf(obj));
    names.set(nameOf(obj), obj);
    if (old) emit((h) => h.update?.(old, obj));
    else emit((h) => h.add?.(obj));
  };

  const remove = (obj: T): void => {
    const names = cache.get(nsKey(obj));
    const old = names?.get(nameOf(obj));
    names?.delete(nameOf(obj));
    if (names && names.size === 0) cache.delete(nsKey(obj));
    emit((h) => h.delete?.(old ?? obj));
  };

  const list = async (): Promise<void> => {
    stats.lists++;
    const items: T[] = [];
    let listRv = '';
    let cont: string | undefined;
    do {
      const page = await requestJson<ListBody<T>>(opts.kubeConfig, {
        path,
        query: { limit: pageSize, continue: cont, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector },
        signal: stopCtrl.signal,
        timeoutMs: 60_000,
      });
      // List items come without apiVersion/kind; fill them so cached objects look like watched ones.
      const kind = page.kind?.endsWith('List') ? page.kind.slice(0, -4) : undefined;
      for (const item of page.items ?? []) {
        if (item.apiVersion === undefined && page.apiVersion) item.apiVersion = page.apiVersion;
        if (item.kind === undefined && kind) item.kind = kind;
        items.push(transform(item));
      }
      listRv = page.metadata?.resourceVersion ?? listRv;
      cont = page.metadata?.continue || undefined;
    } while (cont && !stopped);
    if (stopped) return;
    replace(items);
    resourceVersion = listRv;
    if (!synced) {
      synced = true;
      for (const w of syncWaiters) w(true);
      syncWaiters.clear();
      scheduleResync();
    }
  };

  // Swaps in a fresh list, telling handlers what changed since the cache was last current.
  const replace = (items: T[]): void => {
    const previous = cache;
    cache = new Map();
    for (const obj of items) {
      const ns = nsKey(obj);
      let names = cache.get(ns);
      if (!names) cache.set(ns, (names = new Map()));
      names.set(nameOf(obj), obj);
    }
    for (const obj of items) {
      const old = previous.get(nsKey(obj))?.get(nameOf(obj));
      if (!old) emit((h) => h.add?.(obj));
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) emit((h) => h.update?.(old, obj));
    }
    for (const [ns, names] of previous) {
      for (const [name, old] of names) if (!cache.get(ns)?.has(name)) emit((h) => h.delete?.(old));
    }
  };

  const watchOnce = (): Promise<WatchEnd> =>
    new Promise((resolve) => {
      stats.watches++;
      const begun = clock.now();
      let events = 0;
      let gone = false;
      let eventError: unknown;
      const query = {
        resourceVersion,
        allowWatchBookmarks: true,
        // Spread reconnects like client-go (5–10 min) so many informers never reconnect in lockstep.
        timeoutSeconds: 300 + Math.floor(Math.random() * 300),
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
      };
      const onEvent = (type: string, obj: T & { code?: number }): void => {
        if (stopped) return;
        events++;
        if (type === 'ERROR') {
          if (obj.code === 410) gone = true;
          else eventError = Object.assign(new Error(`watch error event: ${JSON.stringify(obj)}`), { code: obj.code });
          return;
        }
        const rv = obj.metadata?.resourceVersion;
        if (rv) resourceVersion = rv;
        if (type === 'ADDED' || type === 'MODIFIED') upsert(transform(obj));
        else if (type === 'DELETED') remove(transform(obj));
      };
      const onDone = (err: unknown): void => {
        currentWatch = undefined;
        resolve({ err: err ?? eventError, events, gone: gone || statusCode(err) === 410, durationMs: clock.now() - begun });
      };
      watcher.watch(path, query, onEvent, onDone).then(
        (ctrl) => {
          if (stopped) ctrl.abort();
          else currentWatch = ctrl;
        },
        (err: unknown) => onDone(err),
      );
    });

  const run = async (): Promise<void> => {
    let failures = 0;
    while (!stopped) {
      try {
        if (!resourceVersion) await list();
        if (stopped) break;
        const end = await watchOnce();
        if (stopped) break;
        if (end.gone) {
          stats.expired++;
          log.info('watch resource version expired; relisting');
          resourceVersion = '';
        }
        // Client-side inactivity timeouts are a normal end: the connection was quiet, not broken.
        const timedOut = (end.err as { name?: string } | undefined)?.name === 'TimeoutError';
        // A watch that ends at once (empty, or straight into 410) must back off, or a sick apiserver gets hammered.
        const quick = end.durationMs < minWatchMs && (end.events === 0 || end.gone);
        if ((end.err && !timedOut) || quick) {
          failures++;
          stats.failures++;
          if (end.err) log.warn({ err: end.err, failures }, 'watch failed; re-opening after backoff');
        } else {
          failures = 0;
        }
      } catch (err) {
        if (stopped) break;
        if (statusCode(err) === 410) {
          stats.expired++;
          resourceVersion = '';
        }
        failures++;
        stats.failures++;
        log.warn({ err, failures }, 'list failed; retrying after backoff');
      }
      if (failures > 0 && !stopped) {
        const delay = Math.min(maxBackoff, initialBackoff * 2 ** Math.min(failures - 1, 20));
        await sleep(clock, delay * (0.8 + Math.random() * 0.4), stopCtrl.signal);
      }
    }
  };

  const scheduleResync = (): void => {
    const every = opts.resyncMs ?? 0;
    if (!(every > 0) || stopped) return;
    resyncTimer = clock.setTimer(() => {
      for (const names of cache.values()) for (const obj of names.values()) emit((h) => h.update?.(obj, obj));
      scheduleResync();
    }, every);
  };

  return {
    resource: opts.resource,
    on(h) {
      handlers.add(h);
      if (synced) for (const names of cache.values()) for (const obj of names.values()) h.add?.(obj);
      return () => handlers.delete(h);
    },
    start() {
      if (started || stopped) return;
      started = true;
      loop = run();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      stopCtrl.abort();
      currentWatch?.abort();
      if (resyncTimer !== undefined) clock.clearTimer(resyncTimer);
      for (const w of syncWaiters) w(false);
      syncWaiters.clear();
      await loop;
    },
    hasSynced: () => synced,
    waitForSync(signal) {
      if (synced) return Promise.resolve(true);
      if (stopped || signal?.aborted) return Promise.resolve(false);
      return new Promise((resolve) => {
        const done = (ok: boolean): void => {
          syncWaiters.delete(done);
          signal?.removeEventListener('abort', onAbort);
          resolve(ok);
        };
        const onAbort = (): void => done(false);
        syncWaiters.add(done);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    get: lookup,
    list(namespace) {
      if (namespace !== undefined) return [...(cache.get(namespace)?.values() ?? [])];
      const all: T[] = [];
      for (const names of cache.values()) for (const obj of names.values()) all.push(obj);
      return all;
    },
    stats: () => ({ ...stats }),
    resourceVersion: () => resourceVersion,
  };
}
