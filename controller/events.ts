// Kubernetes Events for the objects we manage, as `kubectl describe` shows them. Repeats of the
// same reason and message on the same object within a short window are folded into one count.
import { randomBytes } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { statusCode, type KubeClient, type ResourceRef } from '../kube/index.ts';
import { systemClock, type Clock } from '../clock/clock.ts';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export interface EventRecorder {
  record(obj: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

/**
 * A recorder that returns at once and sends in the background, a few at a time, dropping the
 * oldest when a burst outruns it: a reconcile never waits on (or spends API tokens for) an event.
 */
export function backgroundEvents(inner: EventRecorder, opts: { concurrency?: number; maxQueued?: number } = {}): EventRecorder & { drain(timeoutMs?: number): Promise<number> } {
  const queue: Array<() => Promise<void>> = [];
  const concurrency = opts.concurrency ?? 4;
  const maxQueued = opts.maxQueued ?? 5000;
  let running = 0;
  let idle: Array<() => void> = [];
  const pump = (): void => {
    while (running < concurrency && queue.length) {
      const send = queue.shift()!;
      running++;
      void send().finally(() => {
        running--;
        pump();
      });
    }
    if (running === 0 && queue.length === 0) {
      for (const resolve of idle) resolve();
      idle = [];
    }
  };
  return {
    async record(obj, type, reason, message) {
      if (queue.length >= maxQueued) queue.shift();
      queue.push(() => inner.record(obj, type, reason, message));
      pump();
    },
    /** Waits until every queued event is sent, or `timeoutMs` passes: then the unsent ones are dropped and counted. */
    drain: (timeoutMs = Infinity) => {
      if (running === 0 && queue.length === 0) return Promise.resolve(0);
      return new Promise<number>((resolve) => {
        // A plain timer, not the clock's: those are unref'd, and this one must hold a stopping process until it fires.
        const timer = Number.isFinite(timeoutMs)
          ? setTimeout(() => {
              const dropped = queue.length;
              queue.length = 0;
              resolve(dropped);
            }, timeoutMs)
          : undefined;
        idle.push(() => {
          clearTimeout(timer);
          resolve(0);
        });
      });
    },
  };
}

// The apiserver rejects event messages over 1 KiB.
const maxMessage = 1024;
const foldWindowMs = 10 * 60_000;

/** `client` should have a rate limiter of its own: events must neither queue behind reconciles nor flood the apiserver. */
export function createEventRecorder(opts: { client: KubeClient; component: string; logger: Logger; clock?: Pick<Clock, 'now'> }): EventRecorder {
  const events = (namespace: string): ResourceRef => ({ group: '', version: 'v1', plural: 'events', namespace });
  const clock = opts.clock ?? systemClock;
  const now = (): Date => new Date(clock.now());
  // key → the event we created, so a repeat patches its count instead of adding another.
  const recent = new Map<string, { name: string; count: number; at: number; first: Date }>();
  return {
    async record(obj, type, reason, message) {
      const text = message.length > maxMessage ? `${message.slice(0, maxMessage - 1)}…` : message;
      const key = `${obj.namespace}/${obj.kind}/${obj.name}/${obj.uid ?? ''}/${type}/${reason}/${text}`;
      const at = now();
      const seen = recent.get(key);
      try {
        if (seen && at.getTime() - seen.at < foldWindowMs) {
          seen.count += 1;
          seen.at = at.getTime();
          // Re-inserted so the map stays ordered by last use and expired entries sit at its front.
          recent.delete(key);
          recent.set(key, seen);
          await opts.client.replace({ ...events(obj.namespace), name: seen.name }, eventBody(obj, seen.name, type, reason, text, seen.count, seen.first, at, opts.component)).catch(async (err: unknown) => {
            // Expired or deleted meanwhile: start a fresh one. Any other failure is the caller's to log.
            if (statusCode(err) !== 404) throw err;
            recent.delete(key);
            await opts.client.create(events(obj.namespace), eventBody(obj, seen.name, type, reason, text, 1, at, at, opts.component));
          });
          return;
        }
        const name = `${obj.name.slice(0, 200)}.${randomBytes(8).toString('hex')}`;
        await opts.client.create(events(obj.namespace), eventBody(obj, name, type, reason, text, 1, at, at, opts.component));
        recent.set(key, { name, count: 1, at: at.getTime(), first: at });
        // Entries past the fold window can never fold again: after a burst of thousands of jobs they are dead weight.
        for (const [k, e] of recent) {
          if (recent.size <= 10_000 && at.getTime() - e.at < foldWindowMs) break;
          recent.delete(k);
        }
      } catch (err) {
        // Events are best effort: a failure to record one must never fail the reconcile.
        opts.logger.warn({ err, reason, object: `${obj.namespace}/${obj.name}` }, 'could not record event');
      }
    },
  };
}

function eventBody(obj: InvolvedObject, name: string, type: string, reason: string, message: string, count: number, first: Date, at: Date, component: string): CoreV1Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: obj.namespace },
    involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.namespace, name: obj.name, uid: obj.uid },
    type,
    reason,
    message,
    count,
    firstTimestamp: first,
    lastTimestamp: at,
    source: { component },
    reportingComponent: component,
  };
}
