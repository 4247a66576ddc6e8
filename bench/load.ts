// Load generation over HTTPS keep-alive on loopback, for the admission benchmark.
//  - closedLoop: autocannon, N connections each sending its next request as soon as the previous
//    answer arrives (max throughput). Latencies are taken from autocannon's per-response event in
//    fractional ms (its own histogram keeps whole ms, too coarse here).
//  - openLoop: vegeta (Go, its own process) at a constant rate, open loop: its pacer keeps the
//    schedule and its worker pool grows without bound, so a slow server cannot slow the sending.
//    Latency is from vegeta's actual send to the answer's last byte. It replaced a Node generator
//    in the bench process whose own timer lateness, GC and pool growth showed up in the tail.
//    autocannon's rate mode is not used: it sends each connection's per-second quota back to
//    back at the start of every second, which measures bursts, not a steady rate.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { type Agent, request } from 'node:https';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
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

/** Nanoseconds since the epoch of an RFC 3339 timestamp with up to 9 fractional digits (vegeta's). */
function epochNs(rfc3339: string): number {
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(rfc3339);
  if (!m) throw new Error(`vegeta timestamp not understood: ${rfc3339}`);
  return Date.parse(`${m[1]}${m[3]}`) * 1e6 + Number((m[2] ?? '').padEnd(9, '0'));
}

function runTool(bin: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => void (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${bin} ${args[0]} exited with ${code}: ${stderr.trim()}`))));
  });
}

interface VegetaResult {
  seq: number;
  code: number;
  timestamp: string;
  /** ns */
  latency: number;
  error: string;
  /** base64 */
  body: string;
}

export interface OpenLoopResult extends LoadResult {
  /** How late vegeta sent, vs its schedule (request n at n / rate after the first), p99 in ms. */
  sendLagP99: number;
  /** 200 answers whose body `accept` refused (counted in errors, not ok). */
  malformed: number;
}

/** vegeta attack at a constant rate over HTTP/1.1 keep-alive; every 200 body must pass `accept`. */
export async function openLoop(
  target: Target,
  bodies: readonly string[],
  opts: { vegeta: string; rate: number; seconds: number; dir: string; accept: (body: string) => boolean },
): Promise<OpenLoopResult> {
  assertLoopback(target.origin);
  const url = `${target.origin}${target.path}`;
  const targetsPath = join(opts.dir, 'vegeta-targets.jsonl');
  const caPath = join(opts.dir, 'vegeta-ca.pem');
  const resultsPath = join(opts.dir, 'vegeta-results.gob');
  const header = { 'Content-Type': ['application/json'] };
  writeFileSync(targetsPath, bodies.map((b) => JSON.stringify({ method: 'POST', url, header, body: Buffer.from(b).toString('base64') })).join('\n') + '\n');
  writeFileSync(caPath, target.ca);
  let stopEncoder = (): void => {};
  try {
    await runTool(opts.vegeta, ['attack', '-format=json', `-targets=${targetsPath}`, `-rate=${opts.rate}/1s`, `-duration=${opts.seconds}s`,
      `-root-certs=${caPath}`, '-keepalive=true', '-http2=false', `-output=${resultsPath}`]);
    // Per-request results (exact percentiles of the 200s only; `vegeta report` estimates them over every answer).
    const encoder = spawn(opts.vegeta, ['encode', '-to=json', resultsPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    stopEncoder = () => void encoder.kill();
    const exited = new Promise<number | null>((resolve, reject) => {
      encoder.on('error', reject);
      encoder.on('close', resolve);
    });
    const latencies: number[] = [];
    const sends: { seq: number; at: number }[] = [];
    let errors = 0;
    let malformed = 0;
    let end = 0;
    for await (const line of createInterface({ input: encoder.stdout })) {
      if (!line) continue;
      const r = JSON.parse(line) as VegetaResult;
      const at = epochNs(r.timestamp);
      sends.push({ seq: r.seq, at });
      end = Math.max(end, at + r.latency);
      if (r.code !== 200 || r.error) errors++;
      else if (!opts.accept(Buffer.from(r.body, 'base64').toString('utf8'))) malformed++;
      else latencies.push(r.latency / 1e6);
    }
    const code = await exited;
    if (code !== 0) throw new Error(`vegeta encode exited with ${code}`);
    if (!sends.length) throw new Error(`vegeta sent nothing to ${url}`);
    const first = sends.reduce((m, s) => Math.min(m, s.at), Infinity);
    const lag = sends.map((s) => (s.at - first - (s.seq * 1e9) / opts.rate) / 1e6).sort((a, b) => a - b);
    const seconds = (end - first) / 1e9;
    return { ...result(latencies, sends.length, errors + malformed, seconds), sendLagP99: percentile(lag, 0.99), malformed };
  } finally {
    // A result that failed to parse leaves the encoder blocked on a full pipe.
    stopEncoder();
    for (const p of [resultsPath, targetsPath, caPath]) rmSync(p, { force: true });
  }
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
