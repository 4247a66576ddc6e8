// The monitoring overlay as shipped: its PrometheusRule checked and unit-tested by promtool (Debian's
// prometheus package), every alert documented and tested both ways, the ServiceMonitors aimed at real
// Services and ports, and the dashboard ConfigMap carrying the dashboard whose queries promtool parses.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { DEFAULT_LIFETIMES } from '../../certs/lifetimes.ts';
import { DEFAULT_SECRET, serviceNames } from '../../certs/names.ts';
import { SECRET_KEYS } from '../../certs/secret-store.ts';
import { repoRoot } from '../../localcluster/binaries.ts';
import { runCommand, type CommandResult } from '../../localcluster/controlplane.ts';
import { parseDocuments, renderKustomize, type KubeDocument } from '../harness/manifests.ts';
import { dashboardQueries, withGrafanaVariables, type RuleSpec } from '../harness/monitoring-promql.ts';

const monitoringDir = join(repoRoot, 'manifests', 'monitoring');
const RUNBOOK_BASE = 'https://git.example.com/platform/trainingjob/blob/main/manifests/monitoring/RUNBOOK.md#';

const promtool = async (args: string[], cwd: string): Promise<CommandResult> => {
  try {
    return await runCommand('sh', ['-c', 'cd "$0" && exec promtool "$@"', cwd, ...args], process.env);
  } catch (err) {
    throw new Error(`promtool could not run (${String(err)}); scripts/ensure-deps.sh installs Debian's prometheus package`);
  }
};
const version = await runCommand('sh', ['-c', 'command -v promtool >/dev/null && promtool --version'], process.env);
if (version.code !== 0) throw new Error('promtool is not on PATH: run scripts/ensure-deps.sh (Debian package prometheus)');
t.comment(version.stdout.split('\n')[0] ?? '');

const docs = parseDocuments(await renderKustomize(join(repoRoot, 'manifests', 'overlays', 'with-monitoring')));
const find = (kind: string, name: string): KubeDocument | undefined => docs.find((d) => d.kind === kind && d.metadata.name === name);
const rule = find('PrometheusRule', 'trainingjob-alerts');
if (!rule) throw new Error('the with-monitoring overlay renders no PrometheusRule trainingjob-alerts');
const spec = rule.spec as RuleSpec;
const alerts = spec.groups.flatMap((g) => g.rules.filter((r) => r.alert));

const work = mkdtempSync(join(tmpdir(), 'trainingjob-promtool-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const testFile = readFileSync(join(monitoringDir, 'tests', 'alerts.test.yaml'), 'utf8');
// The rule file promtool reads is the PrometheusRule's spec, taken from the rendered overlay.
const writeRules = (dir: string, s: RuleSpec): void => {
  writeFileSync(join(dir, 'rules.yaml'), stringify(s, { lineWidth: 0 }));
  writeFileSync(join(dir, 'alerts.test.yaml'), testFile);
};
writeRules(work, spec);

t.test('promtool check rules accepts the PrometheusRule', async (t) => {
  const r = await promtool(['check', 'rules', 'rules.yaml'], work);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match(r.stdout, `SUCCESS: ${spec.groups.reduce((n, g) => n + g.rules.length, 0)} rules found`);
  t.ok(alerts.length >= 12, `${alerts.length} alerts`);
});

t.test('promtool test rules: every unit test in tests/alerts.test.yaml passes', async (t) => {
  const r = await promtool(['test', 'rules', 'alerts.test.yaml'], work);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match(r.stdout, 'SUCCESS');
});

t.test('every alert is tested firing and not firing', async (t) => {
  const tests = (parse(testFile) as { tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[] }).tests.flatMap((x) => x.alert_rule_test ?? []);
  for (const a of alerts) {
    const mine = tests.filter((x) => x.alertname === a.alert);
    t.ok(mine.some((x) => (x.exp_alerts ?? []).length > 0), `${a.alert}: a case where it fires`);
    t.ok(mine.some((x) => (x.exp_alerts ?? []).length === 0), `${a.alert}: a case where it does not`);
  }
  const known = new Set(alerts.map((a) => a.alert));
  for (const x of tests) t.ok(known.has(x.alertname), `test names an existing alert: ${x.alertname}`);
});

t.test('the certificate alert fires exactly inside the rotation lookahead', async (t) => {
  const cert = alerts.find((a) => a.alert === 'TrainingJobWebhookCertificateExpiring');
  const days = Number(/<\s*(\d+)\s*\*\s*86400/.exec(cert?.expr ?? '')?.[1]);
  t.equal(days, DEFAULT_LIFETIMES.servingLookaheadDays, 'threshold = servingLookaheadDays of certs/lifetimes.ts');
  const certificate = parse(readFileSync(join(repoRoot, 'manifests', 'overlays', 'cert-manager', 'certificate.yaml'), 'utf8')) as { spec: { renewBefore: string } };
  t.equal(certificate.spec.renewBefore, `${days * 24}h`, 'and = renewBefore of the cert-manager Certificate');

  // The unit tests must notice a wrong threshold: with 28 days the 29-day certificate no longer alerts.
  const mutated = mkdtempSync(join(work, 'mutated-'));
  const broken = structuredClone(spec);
  for (const r of broken.groups.flatMap((g) => g.rules)) if (r.alert === cert?.alert) r.expr = r.expr.replace(`${days} * 86400`, '28 * 86400');
  writeRules(mutated, broken);
  const r = await promtool(['test', 'rules', 'alerts.test.yaml'], mutated);
  t.not(r.code, 0, 'promtool test rules fails on a rule with the wrong lookahead');
  t.match(r.stdout + r.stderr, 'TrainingJobWebhookCertificateExpiring');
});

t.test('every alert has a severity, a summary and description naming the namespace, and a runbook section', async (t) => {
  const runbook = readFileSync(join(monitoringDir, 'RUNBOOK.md'), 'utf8');
  // GitHub's heading anchors: lower case, spaces to dashes, punctuation dropped.
  const anchors = new Set([...runbook.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^\w\s-]/g, '').replace(/\s+/g, '-')));
  for (const a of alerts) {
    const at = a.alert!;
    t.ok(['critical', 'warning', 'info'].includes(a.labels?.severity ?? ''), `${at}: severity ${a.labels?.severity}`);
    for (const k of ['summary', 'description'] as const) t.match(a.annotations?.[k] ?? '', /\{\{ \$labels\.namespace \}\}/, `${at}: ${k} names the namespace`);
    const url = a.annotations?.runbook_url ?? '';
    t.ok(url.startsWith(RUNBOOK_BASE), `${at}: runbook_url points into RUNBOOK.md`);
    t.ok(anchors.has(url.slice(RUNBOOK_BASE.length)), `${at}: RUNBOOK.md has the section #${url.slice(RUNBOOK_BASE.length)}`);
    t.equal(url.slice(RUNBOOK_BASE.length), at.toLowerCase(), `${at}: its section is named after it`);
  }
});

t.test('the ServiceMonitors select the metrics Services and ports of the platform', async (t) => {
  interface Endpoint { port: string; scheme: string; path: string; honorLabels?: boolean; tlsConfig?: { serverName?: string; ca?: { secret?: { name: string; key: string } } } }
  const services = docs.filter((d) => d.kind === 'Service') as (KubeDocument & { spec: { ports: { name: string; targetPort: string | number }[] } })[];
  const selected = (name: string): { monitor: KubeDocument; endpoint: Endpoint; service: (typeof services)[number] } => {
    const monitor = find('ServiceMonitor', name)!;
    const m = monitor.spec as { selector: { matchLabels: Record<string, string> }; endpoints: Endpoint[] };
    const matches = services.filter((s) => Object.entries(m.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v));
    t.equal(matches.length, 1, `ServiceMonitor ${name} selects one Service: ${matches.map((s) => s.metadata.name).join(', ')}`);
    t.equal(m.endpoints.length, 1);
    return { monitor, endpoint: m.endpoints[0]!, service: matches[0]! };
  };

  const controller = selected('controller-manager');
  t.equal(controller.service.metadata.name, 'controller-manager-metrics-service', "seed 000's metrics Service");
  t.same(controller.service.spec.ports.find((p) => p.name === controller.endpoint.port)?.targetPort, 'metrics', 'port `metrics`');
  t.same([controller.endpoint.scheme, controller.endpoint.path, controller.endpoint.honorLabels], ['http', '/metrics', true], 'plain HTTP; our namespace label wins over the target\'s');

  const webhook = selected('webhook');
  t.equal(webhook.service.metadata.name, 'trainingjob-webhook');
  t.same(webhook.service.spec.ports.find((p) => p.name === webhook.endpoint.port)?.targetPort, 'https', 'the HTTPS port, where /metrics is served');
  t.same([webhook.endpoint.scheme, webhook.endpoint.path], ['https', '/metrics']);
  t.same(webhook.endpoint.tlsConfig?.ca?.secret, { name: DEFAULT_SECRET.name, key: SECRET_KEYS.caBundle }, 'verified with the CA bundle the certificate manager keeps');
  t.ok(serviceNames().dnsNames.includes(webhook.endpoint.tlsConfig?.serverName ?? ''), `serverName ${webhook.endpoint.tlsConfig?.serverName} is on the serving certificate`);
  t.ok(find('Secret', DEFAULT_SECRET.name) === undefined, 'the Secret is the webhook\'s to create, not the overlay\'s');

  for (const d of docs.filter((x) => ['ServiceMonitor', 'PrometheusRule', 'ConfigMap'].includes(x.kind) && x.metadata.labels?.['app.kubernetes.io/component'] === 'monitoring')) {
    t.equal(d.metadata.namespace, 'trainingjob-system', `${d.kind}/${d.metadata.name} lives in the platform namespace`);
  }
});

t.test('the dashboard ships as ConfigMap trainingjob-dashboard for the Grafana sidecar, and promtool parses its queries', async (t) => {
  const file = readFileSync(join(monitoringDir, 'dashboards', 'trainingjob.json'), 'utf8');
  const cm = find('ConfigMap', 'trainingjob-dashboard') as (KubeDocument & { data?: Record<string, string> }) | undefined;
  t.ok(cm, 'a fixed name, no hash suffix');
  t.equal(cm?.metadata.labels?.grafana_dashboard, '1', 'label grafana_dashboard: "1"');
  t.equal(cm?.data?.['trainingjob.json'], file, 'the JSON file, byte for byte');

  const dashboard = JSON.parse(file) as { uid?: string; title?: string };
  t.ok(dashboard.uid && dashboard.title, 'uid and title');
  const queries = dashboardQueries(dashboard);
  t.ok(queries.length >= 25, `${queries.length} queries`);
  // promtool parses rule files only: each query becomes a recording rule.
  const dir = mkdtempSync(join(work, 'dashboard-'));
  const asRules = { groups: [{ name: 'dashboard', rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: withGrafanaVariables(q.expr) })) }] };
  writeFileSync(join(dir, 'queries.yaml'), stringify(asRules, { lineWidth: 0 }));
  const r = await promtool(['check', 'rules', 'queries.yaml'], dir);
  t.equal(r.code, 0, `every dashboard query parses:\n${r.stdout}${r.stderr}`);
});
