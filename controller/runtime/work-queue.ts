// A keyed, de-duplicating work queue in the manner of client-go: each key waits at most once,
// runs on at most one worker at a time, and failed keys come back with per-key exponential backoff.
import { systemClock, type Clock, type TimerHandle } from '../../clock/clock.ts';

/** What a reconcile asks for next: nothing (done until the next event), or another run after a delay. */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type ReconcileOutcome = ReconcileResult | void;

/** Injected observers so the queue stays free of any metrics library. */
export interface QueueMetrics {
  depth?(depth: number): void;
  add?(key: string): void;
  retry?(key: string): void;
  workDuration?(key: string, seconds: number): void;
}

export interface WorkQueueOptions {
  /** First retry delay of a failing key; doubles per consecutive failure. */
  baseDelayMs?: number;
  /** Upper bound of a key's retry delay. */
  maxDelayMs?: number;
  /** Fraction by which a retry delay is randomly stretched or shrunk (0.1 = ±10%). */
  jitter?: number;
  random?: () => number;
  clock?: Clock;
  metrics?: QueueMetrics;
  /** Called for every reconcile that threw; the key is then retried with backoff. */
  onError?(key: string, err: unknown): void;
}

export interface WorkQueue {
  add(key: string): void;
  /** Adds the key after `ms`; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void;
  /** Adds the key after its backoff delay, and counts one more failure for it. */
  addRateLimited(key: string): void;
  /** Clears the key's failure count, so its next retry starts from the base delay. */
  forget(key: string): void;
  numRequeues(key: string): number;
  /** Keys ready to be processed (not counting in-flight or delayed ones). */
  len(): number;
  /** Starts `workers` loops that take keys and run `handler`; throws and `{ requeueAfterMs }` requeue the key. */
  run(workers: number, handler: (key: string) => Promise<ReconcileOutcome>): void;
  /** Stops accepting and handing out keys, drops delayed adds, and resolves once in-flight work has finished. */
  shutDown(): Promise<void>;
  isShuttingDown(): boolean;
}

export const DEFAULT_BASE_DELAY_MS = 5;
export const DEFAULT_MAX_DELAY_MS = 1_000_000;

export function createWorkQueue(opts: WorkQueueOptions = {}): WorkQueue {
  const clock = opts.clock ?? systemClock;
  const baseDelay = opts.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
  const maxDelay = opts.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const jitter = opts.jitter ?? 0.1;
  const random = opts.random ?? Math.random;
  const metrics = opts.metrics ?? {};

  // FIFO with a moving head, so taking a key is O(1) even with thousands queued.
  let items: string[] = [];
  let head = 0;
  const dirty = new Set<string>();
  const processing = new Set<string>();
  const delayed = new Map<string, { readyAt: number; handle: TimerHandle }>();
  const failures = new Map<string, number>();
  const getters: Array<(key: string | undefined) => void> = [];
  const loops: Promise<void>[] = [];
  let shuttingDown = false;

  const depth = (): number => items.length - head;
  const reportDepth = (): void => metrics.depth?.(depth());

  const push = (key: string): void => {
    const getter = getters.shift();
    if (getter) {
      processing.add(key);
      dirty.delete(key);
      getter(key);
      return;
    }
    items.push(key);
    reportDepth();
  };

  const take = (): string | undefined => {
    if (head >= items.length) return undefined;
    const key = items[head++]!;
    if (head > 1024 && head * 2 > items.length) {
      items = items.slice(head);
      head = 0;
    }
    processing.add(key);
    dirty.delete(key);
    reportDepth();
    return key;
  };

  const get = (): Promise<string | undefined> => {
    if (shuttingDown) return Promise.resolve(undefined);
    const key = take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => getters.push(resolve));
  };

  const done = (key: string): void => {
    processing.delete(key);
    // A key added while it was being processed runs once more, now that the worker let go of it.
    if (dirty.has(key) && !shuttingDown) push(key);
  };

  const add = (key: string): void => {
    if (shuttingDown) return;
    metrics.add?.(key);
    if (dirty.has(key)) return;
    dirty.add(key);
    if (processing.has(key)) return;
    push(key);
  };

  const addAfter = (key: string, ms: number): void => {
    if (shuttingDown) return;
    if (ms <= 0) return add(key);
    const readyAt = clock.now() + ms;
    const pending = delayed.get(key);
    if (pending && pending.readyAt <= readyAt) return;
    if (pending) clock.clearTimer(pending.handle);
    const handle = clock.setTimer(() => {
      delayed.delete(key);
      add(key);
    }, ms);
    delayed.set(key, { readyAt, handle });
  };

  const backoff = (key: string): number => {
    const n = failures.get(key) ?? 0;
    failures.set(key, n + 1);
    const raw = n >= 60 ? maxDelay : Math.min(maxDelay, baseDelay * 2 ** n);
    return Math.min(maxDelay, raw * (1 + jitter * (random() * 2 - 1)));
  };

  const forget = (key: string): void => {
    failures.delete(key);
  };

  const addRateLimited = (key: string): void => {
    if (shuttingDown) return;
    addAfter(key, backoff(key));
  };

  const worker = async (handler: (key: string) => Promise<unknown>): Promise<void> => {
    for (;;) {
      const key = await get();
      if (key === undefined) return;
      const started = clock.now();
      try {
        const outcome = (await handler(key)) as ReconcileOutcome;
        forget(key);
        if (outcome && typeof outcome.requeueAfterMs === 'number') addAfter(key, outcome.requeueAfterMs);
      } catch (err) {
        opts.onError?.(key, err);
        metrics.retry?.(key);
        addRateLimited(key);
      } finally {
        metrics.workDuration?.(key, (clock.now() - started) / 1000);
        done(key);
      }
    }
  };

  return {
    add,
    addAfter,
    addRateLimited,
    forget,
    numRequeues: (key) => failures.get(key) ?? 0,
    len: depth,
    run(workers, handler) {
      if (shuttingDown) throw new Error('work queue is shut down');
      for (let i = 0; i < Math.max(1, workers); i++) loops.push(worker(handler));
    },
    async shutDown() {
      shuttingDown = true;
      for (const { handle } of delayed.values()) clock.clearTimer(handle);
      delayed.clear();
      for (const getter of getters.splice(0)) getter(undefined);
      await Promise.all(loops);
    },
    isShuttingDown: () => shuttingDown,
  };
}
