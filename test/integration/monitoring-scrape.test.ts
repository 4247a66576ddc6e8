// Our /metrics endpoints, scraped for real on a local control plane: the webhook (HTTPS, as the
// ServiceMonitor does) reports the expiry of the certificate it serves and follows a rotation; the
// leading controller, and only it, reports each namespace's GPU quota; and every metric name the
// alerts and the dashboard use is one these endpoints expose.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { pino } from 'pino';
import { parse } from 'yaml';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, TRAININGPOLICY_PLURAL, V1 } from '../../api/index.ts';
import { DEFAULT_SECRET } from '../../certs/names.ts';
import { SECRET_KEYS } from '../../certs/secret-store.ts';
import { startController, type RunningController } from '../../controller/start.ts';
import { platformNamespace } from '../../webhook/registration.ts';
import { repoRoot } from '../../localcluster/binaries.ts';
import { runCommand } from '../../localcluster/controlplane.ts';
import { getText } from '../../localcluster/http.ts';
import { installPlatform } from '../../localcluster/platform.ts';
import { controlPlaneFor, eventually } from '../harness/tap.ts';
import { dashboardQueries, metricNames, ruleExpressions, type DashboardQuery, type RuleSpec } from '../harness/monitoring-promql.ts';

const CERT_METRIC = 'trainingjob_webhook_certificate_expiry_timestamp_seconds';
const QUOTA_METRIC = 'trainingjob_gpu_quota';

const cp = await controlPlaneFor(t);
const kc = cp.kubeConfig();
const platform = await installPlatform({ kubeConfig: kc, progress: (l) => t.comment(l) });
t.teardown(() => platform.stop());
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const webhook = platform.replicas[0]!;

const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const startReplica = (identity: string): Promise<RunningController> => startController({
  kubeConfig: kc, logger: log.child({ identity }),
  metricsAddress: '127.0.0.1:0', healthAddress: '127.0.0.1:0', hooksAddress: '127.0.0.1:0',
  onNonLoopbackDial: (err) => t.fail(err.message),
  leaderElection: { namespace: platformNamespace, identity, leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 250 },
});
// Two replicas, as a rollout briefly has: one leads, one stands by.
const replicas = [await startReplica('replica-1'), await startReplica('replica-2')];
t.teardown(() => Promise.all(replicas.map((r) => r.stop())));

const scrape = async (url: string, tls?: { caPem: string }): Promise<string> => {
  const r = await getText(`${url}/metrics`, tls);
  if (r.status !== 200) throw new Error(`GET ${url}/metrics answered ${r.status}`);
  return r.body;
};
const scrapeWebhook = (): Promise<string> => scrape(webhook.url, { caPem: platform.caPem });
/** `labels → value` of one metric's samples. */
const samples = (text: string, name: string): Record<string, number> =>
  Object.fromEntries(text.split('\n').flatMap((line) => {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    return m && m[1] === name ? [[m[2] ?? '', Number(m[3])]] : [];
  }));
const quotas = (text: string): Record<string, number> =>
  Object.fromEntries(Object.entries(samples(text, QUOTA_METRIC)).map(([labels, v]) => [/namespace="([^"]*)"/.exec(labels)?.[1] ?? labels, v]));
/** Every series name an exposition can hold, from its # TYPE lines (histograms as _bucket, _sum, _count). */
const exposedNames = (text: string): Set<string> => {
  const out = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(name! + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) out.add(name! + s);
    else out.add(name!);
  }
  return out;
};
const storedCertificate = async (): Promise<X509Certificate> => {
  const secret = await core.readNamespacedSecret({ name: DEFAULT_SECRET.name, namespace: DEFAULT_SECRET.namespace });
  return new X509Certificate(Buffer.from(secret.data![SECRET_KEYS.tlsCert]!, 'base64'));
};
/** The certificate the webhook presents on a new connection. */
const servedCertificate = (url: string): Promise<X509Certificate> => new Promise((resolve, reject) => {
  const u = new URL(url);
  const socket = connect({ host: u.hostname, port: Number(u.port), ca: platform.caPem, servername: 'localhost' }, () => {
    const cert = socket.getPeerX509Certificate();
    socket.end();
    if (cert) resolve(cert);
    else reject(new Error('no peer certificate'));
  });
  socket.on('error', reject);
});
const seconds = (x: X509Certificate): number => new Date(x.validTo).getTime() / 1000;

t.test('the webhook reports the expiry of the certificate it serves, and follows a rotation', async (t) => {
  const before = await storedCertificate();
  t.equal((await servedCertificate(webhook.url)).serialNumber, before.serialNumber, 'serving the stored certificate');
  t.same(Object.values(samples(await scrapeWebhook(), CERT_METRIC)), [seconds(before)], 'its notAfter, in Unix seconds');

  // notAfter has one-second resolution: a rotation in the same second would look unchanged.
  await new Promise((r) => setTimeout(r, 1100));
  const rotated = await runCommand(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), 'certs', 'rotate', '--kubeconfig', cp.kubeconfigPath], process.env);
  t.equal(rotated.code, 0, `trainingjob certs rotate: ${rotated.stdout}${rotated.stderr}`);
  const after = await storedCertificate();
  t.not(after.serialNumber, before.serialNumber, 'a new certificate in the Secret');
  t.ok(seconds(after) > seconds(before), 'expiring later');
  const served = await eventually(async () => ((await servedCertificate(webhook.url)).serialNumber === after.serialNumber ? true : undefined), 30_000);
  t.ok(served, 'the webhook serves the rotated certificate without a restart');
  t.same(Object.values(samples(await scrapeWebhook(), CERT_METRIC)), [seconds(after)], 'and the gauge moved with it');
});

t.test('trainingjob_gpu_quota: the strictest policy per namespace, from the leading controller only', async (t) => {
  const policy = (name: string, matchLabels: Record<string, string>, gpuQuota: number) =>
    custom.createClusterCustomObject({ group: GROUP, version: V1, plural: TRAININGPOLICY_PLURAL, body: { apiVersion: `${GROUP}/${V1}`, kind: 'TrainingPolicy', metadata: { name }, spec: { namespaceSelector: { matchLabels }, gpuQuota } } });
  await policy('monitoring-teams', { 'monitoring-test/team': 'yes' }, 16);
  await policy('monitoring-small', { 'monitoring-test/tier': 'small' }, 4);
  await core.createNamespace({ body: { metadata: { name: 'mon-a', labels: { 'monitoring-test/team': 'yes' } } } });
  await core.createNamespace({ body: { metadata: { name: 'mon-b', labels: { 'monitoring-test/team': 'yes', 'monitoring-test/tier': 'small' } } } });
  await core.createNamespace({ body: { metadata: { name: 'mon-c' } } });

  const leaderNow = async (): Promise<RunningController | undefined> => replicas.find((r) => r.manager.isLeader());
  const leader = await eventually(leaderNow, 30_000);
  if (!leader) throw new Error('no controller replica took the lease within 30s');
  const standby = replicas.find((r) => r !== leader)!;
  /** Polls the leader's scrape until it equals `want`; returns the last one seen. */
  const settles = async (from: RunningController, want: Record<string, number>): Promise<Record<string, number>> => {
    let last: Record<string, number> = {};
    await eventually(async () => {
      last = quotas(await scrape(from.metricsUrl));
      return JSON.stringify(last) === JSON.stringify(want) ? true : undefined;
    }, 30_000);
    return last;
  };

  t.same(await settles(leader, { 'mon-a': 16, 'mon-b': 4 }), { 'mon-a': 16, 'mon-b': 4 }, 'mon-b: the smaller of two quotas; mon-c: no policy, no series');
  const standbyText = await scrape(standby.metricsUrl);
  t.match(standbyText, `# TYPE ${QUOTA_METRIC} gauge`, 'the standby declares the metric');
  t.same(quotas(standbyText), {}, 'but exports no series: one per namespace across replicas');

  await custom.deleteClusterCustomObject({ group: GROUP, version: V1, plural: TRAININGPOLICY_PLURAL, name: 'monitoring-small' });
  t.same(await settles(leader, { 'mon-a': 16, 'mon-b': 16 }), { 'mon-a': 16, 'mon-b': 16 }, 'a deleted policy stops counting');
  await core.patchNamespace({ name: 'mon-a', body: [{ op: 'remove', path: '/metadata/labels/monitoring-test~1team' }] });
  t.same(await settles(leader, { 'mon-b': 16 }), { 'mon-b': 16 }, 'a namespace no policy selects any more loses its series');

  // Failover: the leader steps down (releasing the lease) and the standby reports the same numbers.
  await leader.stop();
  const next = await eventually(async () => (standby.manager.isLeader() ? standby : undefined), 30_000);
  t.ok(next, 'the standby took over');
  t.same(await settles(standby, { 'mon-b': 16 }), { 'mon-b': 16 }, 'the new leader exports the quota');
});

t.test('every metric named by the alerts and the dashboard is exposed by our /metrics endpoints', async (t) => {
  const running = replicas.find((r) => r.manager.isLeader()) ?? replicas[0]!;
  const exposed = new Set([...exposedNames(await scrapeWebhook()), ...exposedNames(await scrape(running.metricsUrl))]);
  t.ok(exposed.has('trainingjob_admission_duration_seconds_bucket') && exposed.has('trainingjob_state') && exposed.has(CERT_METRIC), `${exposed.size} names exposed, from both components`);

  const rules = parse(readFileSync(join(repoRoot, 'manifests', 'monitoring', 'prometheusrule.yaml'), 'utf8')) as { spec: RuleSpec };
  const dashboard = JSON.parse(readFileSync(join(repoRoot, 'manifests', 'monitoring', 'dashboards', 'trainingjob.json'), 'utf8')) as unknown;
  const queries: DashboardQuery[] = [...ruleExpressions(rules.spec), ...dashboardQueries(dashboard)];
  const missing = (qs: DashboardQuery[]): string[] => qs.flatMap((q) => metricNames(q.expr).filter((n) => !exposed.has(n)).map((n) => `${q.where}: ${n}`));

  const used = new Set(queries.flatMap((q) => metricNames(q.expr)));
  t.ok(used.size >= 20, `${used.size} distinct metrics used: ${[...used].sort().join(', ')}`);
  for (const q of queries) t.ok(metricNames(q.expr).length > 0, `${q.where} selects at least one metric`);
  t.same(missing(queries), [], 'no alert or panel queries a metric we do not expose');

  // The check itself: a name we do not expose is reported, wherever it hides in an expression.
  const made = { panels: [{ title: 'made up', targets: [{ refId: 'A', expr: 'sum by (le) (rate(trainingjob_made_up_seconds_bucket{namespace=~"$namespace"}[$__rate_interval])) / on (namespace) group_left () trainingjob_state' }] }] };
  t.same(missing(dashboardQueries(made)), ['panel "made up" A: trainingjob_made_up_seconds_bucket']);
  t.same(missing([{ where: 'suffix', expr: 'rate(trainingjob_admission_duration_seconds[5m])' }]), ['suffix: trainingjob_admission_duration_seconds'], 'a histogram is exposed only with its suffixes');
});

t.test('metricNames reads names past functions, matchers, label lists, strings and numbers', async (t) => {
  t.same(metricNames('histogram_quantile(0.99, sum by (le, webhook) (rate(a_bucket{le!="+Inf", x=~"y|z"}[5m])))'), ['a_bucket']);
  t.same(metricNames('sum(rate(a_total[1h30m] offset 5m)) by (namespace) / ignoring (pod) group_right (name) b > bool 0.5 and on (n) c unless d'), ['a_total', 'b', 'c', 'd']);
  t.same(metricNames('time() - max by (namespace, name) (x_seconds) > 30 * 86400 or vector(1e3)'), ['x_seconds']);
  t.same(metricNames('label_replace(up_v2, "dst", "$1", "src", "(by|on)") + {__name__="named_metric"}'), ['named_metric', 'up_v2']);
  t.same(metricNames('max_over_time(g[10m:1m]) + avg_over_time(h{state="Running"}[$__rate_interval])'), ['g', 'h']);
  t.same(dashboardQueries({ templating: { list: [{ name: 'namespace', type: 'query', query: { query: 'label_values(trainingjob_state{state="Running"}, namespace)' } }, { name: 'ds', type: 'datasource', query: 'prometheus' }] } }),
    [{ where: 'variable $namespace', expr: 'trainingjob_state{state="Running"}' }], 'a variable query counts by its selector only');
});
