// Load generation over HTTPS keep-alive on loopback, for the admission benchmark.
//  - closedLoop: autocannon, N connections each sending its next request as soon as the previous
//    answer arrives (max throughput). Latencies are taken from autocannon's per-response event in
//    fractional ms (its own histogram keeps whole ms, too coarse here).
//  - fixedRate: open loop at a fixed rate, each request sent at its scheduled time over a
//    keep-alive pool, latency measured from the scheduled time (so a stalled server cannot hide
//    its queueing: no coordinated omission). autocannon's rate mode is not used for this: it
//    lets each connection send its per-second quota back to back at the start of every second,
//    which measures bursts, not a steady rate.
import autocannon from 'autocannon';
import { Agent, request } from 'node:https';
import { summarize } from './stats.ts';

export interface Target {
  name: string;
  /** https://127.0.0.1:port — loopback only. */
  origin: string;
  path: string;
  ca: string;
}

export interface LoadResult {
  sent: number;
  ok: number;
  errors: number;
  seconds: number;
  rps: number;
  /** Latency in ms. */
  p50: number;
  p99: number;
  max: number;
}

function assertLoopback(origin: string): void {
  const host = new URL(origin).hostname;
  if (host !== '127.0.0.1' && host !== '[::1]' && host !== 'localhost') throw new Error(`benchmarks target loopback only, not ${origin}`);
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

function result(latencies: number[], sent: number, errors: number, seconds: number): LoadResult {
  const s = latencies.sort((a, b) => a - b);
  return { sent, ok: s.length, errors, seconds, rps: s.length / seconds, p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: summarize(s).max };
}

export function closedLoop(target: Target, bodies: readonly string[], opts: { connections: number; seconds: number }): Promise<LoadResult> {
  assertLoopback(target.origin);
  const latencies: number[] = [];
  let errors = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${target.origin}${target.path}`,
        connections: opts.connections,
        pipelining: 1,
        duration: opts.seconds,
        // autocannon connects with rejectUnauthorized: false; the certificate is checked by the agreement pass.
        tlsOptions: { ca: target.ca },
        requests: bodies.map((body) => ({ method: 'POST', path: target.path, headers: { 'content-type': 'application/json' }, body })),
      },
      (err, res) => {
        if (err) return reject(err);
        resolve({ ...result(latencies, res.requests.sent, errors + res.errors + res.timeouts, res.duration), errors: errors + res.errors + res.timeouts });
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status === 200) latencies.push(ms);
      else errors++;
    });
  });
}

export async function fixedRate(target: Target, bodies: readonly string[], opts: { rate: number; seconds: number; maxSockets?: number }): Promise<LoadResult> {
  assertLoopback(target.origin);
  const url = new URL(target.origin);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 64, ca: target.ca });
  const total = Math.round(opts.rate * opts.seconds);
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  let done = 0;
  const t0 = performance.now();
  const interval = 1000 / opts.rate;
  await new Promise<void>((resolve) => {
    const finish = (): void => {
      if (++done === total) resolve();
    };
    const send = (i: number): void => {
      const scheduled = t0 + i * interval;
      const body = bodies[i % bodies.length]!;
      const req = request({ host: url.hostname, port: url.port, path: target.path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - scheduled);
          else errors++;
          finish();
        });
      });
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        finish();
      });
      req.end(body);
    };
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
      while (sent < due) send(sent++);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return result(latencies, sent, errors, seconds);
}

/** One request, for the agreement pass: the parsed JSON answer. */
export function postJson(target: Target, body: string, agent: Agent): Promise<{ status: number; json: unknown }> {
  assertLoopback(target.origin);
  const url = new URL(target.origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: target.path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}
