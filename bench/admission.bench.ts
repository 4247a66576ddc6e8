// Admission decisions: our policy engine in-process, and our webhook vs OPA (built from its Go
// module, serving bench/opa/trainingjob.rego) over HTTPS keep-alive on loopback, side by side on
// the same AdmissionReview stream. Goal: our throughput ≥ OPA's, p99 ≤ 5 ms at 1,000 req/s.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createCA, issueCertificate } from '../certs/pki.ts';
import { binarySpecs, ensureBinaries } from '../localcluster/binaries.ts';
import { freePort } from '../localcluster/ports.ts';
import { evaluate, type EvaluationInput } from '../policies/index.ts';
import { admissionResponse, parseAdmissionReview } from '../webhook/admission-review.ts';
import { mutateTrainingJob } from '../webhook/admit.ts';
import { routes } from '../webhook/app.ts';
import type { TrainingJob } from '../api/index.ts';
import { admissionStream, benchFacts, memoryDeps, type StreamItem } from './admission-stream.ts';
import { closedLoop, openLoop, postJson, type LoadResult, type OpenLoopResult, type Target } from './load.ts';
import { cpuSecondsOf, describeLoad, startMeter } from './machine.ts';
import type { Suite } from './run.ts';
import { opaServerArgs } from './opa-args.ts';

const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const streamSize = env('BENCH_ADMISSION_REVIEWS', 2000);
const connections = env('BENCH_ADMISSION_CONNECTIONS', 16);
const seconds = env('BENCH_ADMISSION_SECONDS', 10);
const rounds = env('BENCH_ADMISSION_ROUNDS', 2);
const rate = env('BENCH_ADMISSION_RATE', 1000);
const inProcessPasses = env('BENCH_ADMISSION_PASSES', 5);
const repoRoot = join(import.meta.dirname, '..');
const log = (l: string): void => void process.stderr.write(`  ${l}\n`);

interface Server {
  target: Target;
  pid: number;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function waitHealthy(target: Target, child: ChildProcess, what: string): Promise<void> {
  const agent = new Agent({ ca: target.ca });
  const deadline = Date.now() + 30_000;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
      const ok = await new Promise<boolean>((resolve) => {
        get(new URL('/health', target.origin), { agent }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        }).on('error', () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${what} did not become healthy within 30 s`);
  } finally {
    agent.destroy();
  }
}

async function startOpa(opa: string, dir: string, tls: { keyPath: string; certPath: string; ca: string }): Promise<Server> {
  const facts = benchFacts();
  // Loaded at the root of data: the Rego reads data.facts.
  writeFileSync(join(dir, 'data.json'), JSON.stringify({ facts: { namespaces: facts.namespaces, policies: facts.policies, jobs: facts.jobs } }));
  const port = await freePort();
  const child = spawn(opa, opaServerArgs({ port, certPath: tls.certPath, keyPath: tls.keyPath, policyPath: join(repoRoot, 'bench', 'opa', 'trainingjob.rego'), dataPath: join(dir, 'data.json') }), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => void (stderr += c.toString()));
  const target: Target = { name: 'OPA', origin: `https://127.0.0.1:${port}`, path: '/', ca: tls.ca };
  await waitHealthy(target, child, 'opa').catch((err: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${stderr}`);
  });
  return { target, pid: child.pid!, stop: () => stopChild(child) };
}

async function startOurs(tls: { keyPath: string; certPath: string; ca: string }): Promise<Server> {
  const child = spawn(process.execPath, [join(repoRoot, 'bench', 'admission-server.ts'), tls.keyPath, tls.certPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`webhook bench server exited with ${code}`)));
  });
  const { port } = JSON.parse(line) as { port: number };
  return { target: { name: 'ours', origin: `https://127.0.0.1:${port}`, path: routes.mutateTrainingJob, ca: tls.ca }, pid: child.pid!, stop: () => stopChild(child) };
}

type Measured<R extends LoadResult = LoadResult> = R & { cores: number; others: number };

async function withCpu<R extends LoadResult>(server: Server, run: () => Promise<R>): Promise<Measured<R>> {
  const c0 = cpuSecondsOf(server.pid);
  const meter = startMeter();
  const r = await run();
  const load = meter();
  return { ...r, cores: (cpuSecondsOf(server.pid) - c0) / r.seconds, others: load.others };
}

function nsTime(run: () => void): number {
  const t = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function inProcess(stream: StreamItem[]): Promise<{ decide: number[]; evaluate: number[]; allowed: boolean[] }> {
  const facts = benchFacts();
  const deps = memoryDeps(facts);
  const decideSamples: number[] = [];
  const evaluateSamples: number[] = [];
  const allowed: boolean[] = [];
  // What the /mutate route (where a create is decided) does, minus HTTP: bytes in → AdmissionReview → verdict → bytes out.
  const decideOne = async (body: string): Promise<boolean> => {
    const parsed = parseAdmissionReview(JSON.parse(body));
    if (!parsed.ok) throw new Error(parsed.message);
    const verdict = await mutateTrainingJob(deps, parsed.request);
    JSON.stringify(admissionResponse(parsed.request.uid, verdict));
    return verdict.allowed;
  };
  // The engine's evaluate() alone (mutation, then validation of the mutated object) with the same
  // envelope, synchronous: facts are at hand.
  const evaluateOne = (body: string): void => {
    const parsed = parseAdmissionReview(JSON.parse(body));
    if (!parsed.ok) throw new Error(parsed.message);
    const req = parsed.request;
    const object = req.object as TrainingJob;
    const ns = req.namespace ?? '';
    const input: EvaluationInput = { operation: req.operation, object, namespace: facts.namespaces[ns] ?? { name: ns }, policies: facts.policies, namespaceJobs: facts.jobs[ns] ?? [], resourceQuotas: [] };
    const e = evaluate(input);
    JSON.stringify(admissionResponse(req.uid, { allowed: e.allowed, denials: e.denials, warnings: e.warnings, patch: e.patch }));
  };
  for (const item of stream) allowed.push(await decideOne(item.body)); // warm-up pass, and the verdicts
  for (const item of stream) evaluateOne(item.body);
  for (let pass = 0; pass < inProcessPasses; pass++) {
    for (const item of stream) {
      const t = process.hrtime.bigint();
      await decideOne(item.body);
      decideSamples.push(Number(process.hrtime.bigint() - t) / 1e6);
      evaluateSamples.push(nsTime(() => evaluateOne(item.body)));
    }
  }
  return { decide: decideSamples, evaluate: evaluateSamples, allowed };
}

function pct(samples: number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

const ms = (x: number): string => (x < 1 ? `${(x * 1000).toFixed(0)} µs` : `${x.toFixed(2)} ms`);
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

export const admissionSuite: Suite = {
  name: 'admission',
  // Builds OPA from its Go module on first use (minutes on 2 cores).
  explicitOnly: true,
  async run() {
    const load0 = loadavg();
    const meter = startMeter();
    log('ensuring the opa and vegeta binaries (built from their Go modules on first use)');
    const { opa, vegeta } = await ensureBinaries({ only: ['opa', 'vegeta'], progress: log });
    const vegetaVersion = binarySpecs.find((s) => s.name === 'vegeta')?.version ?? '?';
    const opaVersion = await new Promise<string>((resolve) => {
      const c = spawn(opa!, ['version'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => void (out += d.toString()));
      c.on('close', () => resolve(/Version: (\S+)/.exec(out)?.[1] ?? '?'));
    });
    const dir = mkdtempSync(join(tmpdir(), 'tj-bench-admission-'));
    const ca = createCA('bench-ca', 1);
    const serving = issueCertificate(ca, { commonName: 'bench', usage: 'server', validDays: 1, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const tls = { keyPath: join(dir, 'tls.key'), certPath: join(dir, 'tls.crt'), ca: ca.certPem };
    writeFileSync(tls.keyPath, serving.keyPem, { mode: 0o600 });
    writeFileSync(tls.certPath, serving.certPem);
    const stream = admissionStream(streamSize);
    const bodies = stream.map((s) => s.body);
    const uids = new Set(stream.map((s) => (JSON.parse(s.body) as { request: { uid: string } }).request.uid));
    // A 200 counts only if it is a well-formed AdmissionReview answer to one of the stream's reviews.
    const wellFormed = (body: string): boolean => {
      try {
        const r = JSON.parse(body) as { apiVersion?: unknown; kind?: unknown; response?: { uid?: unknown; allowed?: unknown } };
        return r.apiVersion === 'admission.k8s.io/v1' && r.kind === 'AdmissionReview' && uids.has(r.response?.uid as string) && typeof r.response?.allowed === 'boolean';
      } catch {
        return false;
      }
    };
    const servers: Server[] = [];
    try {
      log(`in-process: ${inProcessPasses} passes over ${stream.length} reviews`);
      const ip = await inProcess(stream);

      servers.push(await startOurs(tls), await startOpa(opa!, dir, tls));
      const [ours, opaServer] = servers as [Server, Server];

      // Agreement: every review through both servers (and in-process); verdicts must match.
      log('agreement pass');
      const agent = new Agent({ keepAlive: true, ca: tls.ca, maxSockets: 1 });
      const mismatches = new Map<string, number>();
      let allowedCount = 0;
      for (const [i, item] of stream.entries()) {
        const [a, b] = await Promise.all([postJson(ours.target, item.body, agent), postJson(opaServer.target, item.body, agent)]);
        const va = (a.json as { response?: { allowed?: boolean } }).response?.allowed;
        const vb = (b.json as { response?: { allowed?: boolean } }).response?.allowed;
        if (va) allowedCount++;
        if (a.status !== 200 || b.status !== 200 || va !== vb || va !== ip.allowed[i] || va !== item.valid) {
          const key = `${item.label} (ours ${a.status}/${va}, OPA ${b.status}/${vb})`;
          mismatches.set(key, (mismatches.get(key) ?? 0) + 1);
        }
      }
      agent.destroy();

      log(`closed loop: ${connections} connections, ${rounds} × ${seconds} s per server, interleaved`);
      for (const s of servers) await closedLoop(s.target, bodies, { connections, seconds: 3 }); // warm-up (JIT, TLS sessions)
      const closed: Record<string, Measured[]> = { ours: [], OPA: [] };
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? servers : [...servers].reverse();
        for (const s of order) closed[s.target.name]!.push(await withCpu(s, () => closedLoop(s.target, bodies, { connections, seconds })));
      }

      log(`open loop: vegeta at ${rate} req/s for ${seconds} s per server`);
      const fixed: Record<string, Measured<OpenLoopResult>> = {};
      for (const s of servers) {
        const attack = { vegeta: vegeta!, rate, dir, accept: wellFormed };
        await openLoop(s.target, bodies, { ...attack, seconds: 2 }); // warm-up at the same rate
        fixed[s.target.name] = await withCpu(s, () => openLoop(s.target, bodies, { ...attack, seconds }));
      }
      const load1 = loadavg();
      const whole = describeLoad(meter());

      const best = (xs: LoadResult[]): LoadResult => xs.reduce((a, b) => (b.rps > a.rps ? b : a));
      const oursBest = best(closed.ours!);
      const opaBest = best(closed.OPA!);
      const tputRatio = oursBest.rps / opaBest.rps;
      const p99 = fixed.ours!.p99;
      const closedRows = (['ours', 'OPA'] as const).flatMap((name) => closed[name]!.map((r, i) =>
        `| ${name === 'ours' ? 'our webhook (fastify, `/mutate`: decides, defaults and reserves)' : `OPA ${opaVersion} (\`POST /\`)`} | ${i + 1} | ${int(r.rps)} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.cores.toFixed(2)} | ${r.others.toFixed(2)} | ${r.errors} |`));
      const fixedRow = (name: 'ours' | 'OPA'): string => {
        const r = fixed[name]!;
        return `| ${name === 'ours' ? 'our webhook' : 'OPA'} | ${int(r.rps)} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${ms(r.sendLagP99)} | ${r.cores.toFixed(2)} | ${r.others.toFixed(2)} | ${r.errors}${r.malformed ? ` (${r.malformed} malformed)` : ''} |`;
      };
      const mismatchLines = [...mismatches].map(([k, n]) => `- ${n} × ${k}`);
      return [
        `### Admission decisions: in-process, and over HTTPS vs OPA (${stream.length} AdmissionReviews, ${int(stream.filter((s) => s.valid).length)} valid / ${int(stream.filter((s) => !s.valid).length)} invalid)`,
        '',
        'Stream: CREATE reviews of TrainingJob v1 (≈1.3 kB each) in three namespaces under the example',
        'policies (platform-defaults, team-a with quota 16 and required label, team-b with quota 8 and',
        'allowed frameworks), existing jobs using part of each quota; invalid ones break every core rule',
        '(ranges, image-or-model, allowed images/frameworks, required label, per-job limits, quota).',
        '**Micro benchmark:** our webhook reads its facts (namespace, policies, jobs) from memory and its',
        'GPU ledger accepts and discards reservations, so this measures the webhook, not the apiserver;',
        'OPA gets the same facts as `data`. Both serve the same RSA-2048 certificate on 127.0.0.1, each in',
        `its own process (ours: one Node ${process.version} process with the production logger at info into /dev/null;`,
        `OPA: Go, all cores, \`--log-level=error --optimize-store-for-read-speed\`). The load generators share the same 2 cores: autocannon`,
        `(closed loop) in the benchmark's Node process, vegeta ${vegetaVersion} (Go, built from its module) in its own process for the fixed rate.`,
        '',
        `Verdict agreement (allowed/denied), ours vs OPA vs in-process vs expected: ${stream.length - [...mismatches.values()].reduce((a, b) => a + b, 0)} / ${stream.length} agree, ${allowedCount} allowed.`,
        ...(mismatchLines.length ? ['', 'Disagreements:', ...mismatchLines] : []),
        '',
        `#### In-process (${inProcessPasses} passes, ${int(ip.decide.length)} decisions each)`,
        '',
        '| path | p50 | p99 | max |',
        '|---|---|---|---|',
        `| \`/mutate\` handler without HTTP: JSON.parse → parseAdmissionReview → mutateTrainingJob (defaults + JSONPatch, schema, rules, quota, ledger no-op) → admissionResponse → JSON.stringify | ${ms(pct(ip.decide, 0.5))} | ${ms(pct(ip.decide, 0.99))} | ${ms(pct(ip.decide, 1))} |`,
        `| same envelope around \`evaluate()\` (mutate with defaults + JSONPatch, then validate) | ${ms(pct(ip.evaluate, 0.5))} | ${ms(pct(ip.evaluate, 0.99))} | ${ms(pct(ip.evaluate, 1))} |`,
        '',
        `#### Max throughput, closed loop (autocannon, ${connections} keep-alive connections, ${seconds} s per round, rounds interleaved)`,
        '',
        '| server | round | req/s | p50 | p99 | max | server CPU (cores) | other processes (cores) | errors |',
        '|---|---|---|---|---|---|---|---|---|',
        ...closedRows,
        '',
        `#### Fixed rate ${int(rate)} req/s, open loop, ${seconds} s (vegeta ${vegetaVersion}, HTTP/1.1 keep-alive to both servers)`,
        '',
        'vegeta\'s pacer keeps the schedule and its worker pool grows without bound, so a slow server cannot slow the sending;',
        'latency runs from vegeta\'s actual send to the last byte of the answer, exact percentiles over the 200s whose body is',
        'a well-formed AdmissionReview answer. "send lag" is how late vegeta sent against its schedule (p99): small means',
        'no request waited on the generator.',
        '',
        '| server | achieved req/s | p50 | p99 | max | send lag p99 | server CPU (cores) | other processes (cores) | errors |',
        '|---|---|---|---|---|---|---|---|---|',
        fixedRow('ours'),
        fixedRow('OPA'),
        '',
        `Goal throughput ≥ OPA's: ${tputRatio >= 1 ? '**met**' : '**not met**'} — best round ${int(oursBest.rps)} vs ${int(opaBest.rps)} req/s, ratio ours/OPA ${tputRatio.toFixed(2)}×` +
          ` (per CPU-second: ours ${int(oursBest.rps / Math.max(closed.ours!.find((r) => r === oursBest)!.cores, 0.01))}, OPA ${int(opaBest.rps / Math.max(closed.OPA!.find((r) => r === opaBest)!.cores, 0.01))} req per CPU-s).`,
        `Goal p99 ≤ 5 ms at ${int(rate)} req/s: ${p99 <= 5 ? '**met**' : '**not met**'} — ours ${ms(p99)} (OPA ${ms(fixed.OPA!.p99)}); ratio ours/OPA ${(p99 / fixed.OPA!.p99).toFixed(2)}×.`,
        '',
        `Noise: over the whole suite, ${whole}. Load average (1/5/15 min) at start ${load0.map((x) => x.toFixed(2)).join(' / ')}, at end ${load1.map((x) => x.toFixed(2)).join(' / ')}.`,
        '"other processes" = CPU used on the machine by processes outside this benchmark (other engineers\' work) during that row.',
        '',
      ].join('\n');
    } finally {
      for (const s of servers) await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
