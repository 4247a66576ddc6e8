// Client-side QPS: a token bucket shared by every API call a manager's controllers make,
// so a burst of reconciles (1,000 new jobs) cannot flood the apiserver.
import { systemClock, type Clock } from '../clock/clock.ts';

export interface RateLimiterOptions {
  /** Sustained requests per second; 0 or Infinity turns limiting off. */
  qps: number;
  /** Requests allowed at once after a quiet period. */
  burst: number;
  clock?: Clock;
}

export interface RateLimiter {
  /** Waits for a token; rejects with the signal's reason if aborted while waiting. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** Takes a token if one is available now. */
  tryAcquire(): boolean;
  /** Runs `call` once a token is available. */
  limit<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  readonly qps: number;
  readonly burst: number;
}

/** Ten times client-go's 5/10: a new TrainingJob costs about 4 limited writes (3 applies, 1 status); raise further for large fleets (see createManager's clientQps). */
export const DEFAULT_CLIENT_QPS = 50;
export const DEFAULT_CLIENT_BURST = 100;

export function createRateLimiter({ qps, burst, clock = systemClock }: RateLimiterOptions): RateLimiter {
  const unlimited = !(qps > 0) || qps === Infinity;
  const capacity = Math.max(1, burst);
  let tokens = capacity;
  let last = clock.now();

  const refill = (): void => {
    const now = clock.now();
    tokens = Math.min(capacity, tokens + ((now - last) * qps) / 1000);
    last = now;
  };

  // Reservation model (like Go's rate.Limiter): a caller takes its token now, possibly driving
  // the balance negative, and waits until the balance would have been refilled. Waiters stay FIFO.
  const acquire = (signal?: AbortSignal): Promise<void> => {
    if (unlimited) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    refill();
    tokens -= 1;
    if (tokens >= 0) return Promise.resolve();
    const waitMs = (-tokens * 1000) / qps;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        clock.clearTimer(handle);
        tokens += 1;
        reject(signal!.reason);
      };
      const handle = clock.setTimer(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  };

  return {
    qps,
    burst: capacity,
    acquire,
    tryAcquire() {
      if (unlimited) return true;
      refill();
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
    async limit(call, signal) {
      await acquire(signal);
      return call();
    },
  };
}
