// `trainingjob validate`: the admission webhook's verdicts on manifest files, offline, before a push.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { API_VERSION_V1, API_VERSION_V1ALPHA1, TRAININGJOB_KIND, TRAININGPOLICY_KIND } from '../api/group.ts';
import { isPlainObject } from '../api/json.ts';
import { readManifests } from '../api/manifest-documents.ts';
import type { ManifestDocument } from '../api/manifest-documents.ts';
import { policyName } from '../api/trainingpolicy.ts';
import type { TrainingPolicy } from '../api/trainingpolicy.ts';
import { validateTrainingPolicy } from '../policies/index.ts';
import { manifestSources, manifestTextReader, readErrorMessage, STDIN } from './manifest-files.ts';
import type { ManifestSource } from './manifest-files.ts';
import { offlineAdmission } from './offline-admission.ts';
import type { OfflineAdmission } from './offline-admission.ts';
import { jsonReport, textReport } from './validation-report.ts';
import type { DocumentResult, ValidationReport } from './validation-report.ts';
import { UsageError } from './usage.ts';

const help = `usage: trainingjob validate -f FILE|DIR|- [-f ...] [--policy FILE|DIR]... [options]

Runs the admission webhook's checks on TrainingJob manifests offline: CRD and policy defaults, schema,
rules, TrainingPolicies and GPU quota, with the same messages kubectl would show. Use it in a
pre-commit hook or in CI before a push.

  -f, --file FILE|DIR|-        manifests to check (repeatable); directories are searched for *.yaml and
                               *.yml, - reads standard input. TrainingPolicy documents found here apply too.
      --policy FILE|DIR        TrainingPolicies to enforce (repeatable)
      --namespace NS           namespace of jobs whose metadata names none (default "default")
      --namespace-labels [NS:]KEY=VALUE,...
                               labels of the namespace NS (of every namespace without NS:), for the
                               policies' namespaceSelector (repeatable)
      --usage [NS:]N           GPUs already in use in namespace NS (in every namespace without NS:) by
                               jobs outside the input; they count as one running job
  -o, --output text|json       text (default): one "file:line: message" line per violation,
                               "file:line: warning: message" per warning, then a summary

Jobs are admitted in file order: each valid job counts toward its namespace's quota for the jobs after it.
Exit status: 0 all valid, 1 violations, 2 unreadable input (missing file, YAML error, a document that
is neither a TrainingJob nor a TrainingPolicy) or a usage error.`;

// Label keys may hold '/' and '.', never ':', so an NS: prefix is unambiguous.
function namespacePrefix(text: string): [namespace: string | undefined, rest: string] {
  const colon = text.indexOf(':');
  const eq = text.indexOf('=');
  if (colon < 0 || (eq >= 0 && eq < colon)) return [undefined, text];
  return [text.slice(0, colon), text.slice(colon + 1)];
}

const ALL = '*';

function labelTable(args: readonly string[]): Map<string, Record<string, string>> {
  const table = new Map<string, Record<string, string>>();
  for (const arg of args) {
    const [ns, rest] = namespacePrefix(arg);
    const labels = table.get(ns ?? ALL) ?? {};
    for (const pair of rest.split(',')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new UsageError(`--namespace-labels wants [NS:]KEY=VALUE,..., got "${arg}"`);
      labels[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    table.set(ns ?? ALL, labels);
  }
  return table;
}

function usageTable(args: readonly string[]): Map<string, number> {
  const table = new Map<string, number>();
  for (const arg of args) {
    const [ns, rest] = namespacePrefix(arg);
    const n = Number(rest);
    if (rest === '' || !Number.isInteger(n) || n < 0) throw new UsageError(`--usage wants [NS:]N with N a whole number ≥ 0, got "${arg}"`);
    table.set(ns ?? ALL, n);
  }
  return table;
}

function describeKind(obj: unknown): string {
  if (!isPlainObject(obj)) return 'not a Kubernetes object';
  const kind = typeof obj.kind === 'string' ? `kind ${obj.kind}` : 'no kind';
  return typeof obj.apiVersion === 'string' ? `${kind}, apiVersion ${obj.apiVersion}` : kind;
}

type Classified =
  | { kind: 'TrainingJob'; object: Record<string, unknown>; apiVersion: string }
  | { kind: 'TrainingPolicy'; object: TrainingPolicy; apiVersion: string }
  | { kind: 'other'; message: string };

function classify(obj: unknown, allowJobs: boolean): Classified {
  const wanted = allowJobs ? 'a TrainingJob or TrainingPolicy' : 'a TrainingPolicy';
  if (!isPlainObject(obj)) return { kind: 'other', message: `not ${wanted}: ${describeKind(obj)}` };
  const apiVersion = String(obj.apiVersion ?? '');
  if (obj.kind === TRAININGPOLICY_KIND) {
    if (apiVersion !== API_VERSION_V1) return { kind: 'other', message: `TrainingPolicy apiVersion "${apiVersion}" is not served; use ${API_VERSION_V1}` };
    return { kind: 'TrainingPolicy', object: obj as unknown as TrainingPolicy, apiVersion };
  }
  if (allowJobs && obj.kind === TRAININGJOB_KIND) {
    if (apiVersion !== API_VERSION_V1 && apiVersion !== API_VERSION_V1ALPHA1) {
      return { kind: 'other', message: `TrainingJob apiVersion "${apiVersion}" is not served; use ${API_VERSION_V1} or ${API_VERSION_V1ALPHA1}` };
    }
    return { kind: 'TrainingJob', object: obj, apiVersion };
  }
  return { kind: 'other', message: `not ${wanted}: ${describeKind(obj)}` };
}

function policyResult(doc: ManifestDocument, policy: TrainingPolicy): DocumentResult {
  const r = validateTrainingPolicy(policy);
  return {
    file: doc.file, line: doc.line, kind: 'TrainingPolicy', apiVersion: API_VERSION_V1, name: policyName(policy), allowed: r.allowed,
    violations: r.denials.map((d) => ({ line: doc.lineOf(d.field), field: d.field, message: d.message, reason: d.reason })),
    warnings: r.warnings.map((message) => ({ line: doc.line, message })),
  };
}

function jobResult(doc: ManifestDocument, object: Record<string, unknown>, apiVersion: string, admission: OfflineAdmission): DocumentResult {
  const v = admission.admit(object);
  return {
    file: doc.file, line: doc.line, kind: 'TrainingJob', apiVersion, name: v.name, namespace: v.namespace, allowed: v.allowed,
    violations: v.denials.map((d) => ({ line: doc.lineOf(d.at), field: d.field, message: d.message, reason: d.reason })),
    warnings: v.warnings.map((w) => ({ line: doc.lineOf(w.at), message: w.message })),
    ...(v.queued !== undefined ? { queued: v.queued } : {}),
  };
}

const sameSource = (a: ManifestSource, b: ManifestSource): boolean => (a.path === STDIN || b.path === STDIN ? a.path === b.path : resolve(a.path) === resolve(b.path));

type ReadText = (source: ManifestSource) => Promise<string>;

// One file's documents, or undefined after reporting why it could not be read.
async function documentsOf(source: ManifestSource, read: ReadText, report: ValidationReport): Promise<ManifestDocument[] | undefined> {
  if (source.error !== undefined) {
    report.error({ file: source.name, message: `cannot read: ${source.error}` });
    return undefined;
  }
  let text: string;
  try {
    text = await read(source);
  } catch (err) {
    report.error({ file: source.name, message: `cannot read: ${readErrorMessage(err)}` });
    return undefined;
  }
  const { documents, problems } = readManifests(text, source.name);
  for (const p of problems) report.error({ file: p.file, line: p.line, col: p.col, message: `YAML error: ${p.message}` });
  return documents;
}

// Policies are known before any job is judged, wherever they sit, as in a cluster where they were applied first.
async function collectPolicies(policySources: readonly ManifestSource[], jobSources: readonly ManifestSource[], read: ReadText, report: ValidationReport): Promise<TrainingPolicy[]> {
  const byName = new Map<string, TrainingPolicy>();
  for (const source of policySources) {
    for (const doc of (await documentsOf(source, read, report)) ?? []) {
      const c = classify(doc.object, false);
      if (c.kind === 'other') {
        report.error({ file: doc.file, line: doc.line, message: c.message });
        continue;
      }
      if (c.kind !== 'TrainingPolicy') continue;
      const result = policyResult(doc, c.object);
      report.document(result);
      if (result.allowed) byName.set(result.name, c.object);
    }
  }
  // Files under -f are reported when their turn comes; here only their valid policies are taken.
  for (const source of jobSources) {
    if (source.error !== undefined) continue;
    const text = await read(source).catch(() => '');
    if (!text.includes(TRAININGPOLICY_KIND)) continue;
    for (const doc of readManifests(text, source.name).documents) {
      const c = classify(doc.object, true);
      if (c.kind === 'TrainingPolicy' && validateTrainingPolicy(c.object).allowed) byName.set(policyName(c.object), c.object);
    }
  }
  return [...byName.values()];
}

const OPTIONS = {
  file: { type: 'string', short: 'f', multiple: true },
  policy: { type: 'string', multiple: true },
  namespace: { type: 'string' },
  'namespace-labels': { type: 'string', multiple: true },
  usage: { type: 'string', multiple: true },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

// parseArgs throws TypeErrors; exit status 1 means violations here, so a bad flag must become a usage error (2).
function parseOptions(args: string[]) {
  try {
    return parseArgs({ args, options: OPTIONS, strict: true }).values;
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}\n${help}`);
  }
}

export async function validateCommand(args: string[]): Promise<number> {
  const values = parseOptions(args);
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  if (!values.file?.length) throw new UsageError(`no manifests given: use -f FILE|DIR|-\n${help}`);
  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'json') throw new UsageError(`-o must be text or json, got "${output}"`);
  const labels = labelTable(values['namespace-labels'] ?? []);
  const usage = usageTable(values.usage ?? []);

  const write = (text: string): void => void process.stdout.write(text);
  const report = output === 'json' ? jsonReport(write) : textReport(write);
  const read = manifestTextReader();
  const jobSources = manifestSources(values.file);
  const policySources = manifestSources(values.policy ?? []);
  const policies = await collectPolicies(policySources, jobSources, read, report);
  const admission = offlineAdmission({
    policies,
    defaultNamespace: values.namespace ?? 'default',
    namespaceLabels: (ns) => ({ ...labels.get(ALL), ...labels.get(ns) }),
    gpusInUse: (ns) => usage.get(ns) ?? usage.get(ALL) ?? 0,
  });

  // One file at a time, reported as soon as it is done: a large repository never sits in memory at once.
  for (const source of jobSources) {
    report.file();
    const policiesReported = policySources.some((p) => sameSource(p, source));
    for (const doc of (await documentsOf(source, read, report)) ?? []) {
      const c = classify(doc.object, true);
      if (c.kind === 'other') report.error({ file: doc.file, line: doc.line, message: c.message });
      else if (c.kind === 'TrainingPolicy') {
        if (!policiesReported) report.document(policyResult(doc, c.object));
      } else report.document(jobResult(doc, c.object, c.apiVersion, admission));
    }
  }
  return report.finish();
}
