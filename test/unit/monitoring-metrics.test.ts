// The metrics added for the alerts and the dashboard: trainingjob_gpu_quota (controller),
// trainingjob_webhook_certificate_expiry_timestamp_seconds (webhook), and git sync series that go
// away with their repository. Asserted on the exposition text a scrape would read.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { Registry } from 'prom-client';
import type { TrainingPolicy } from '../../api/index.ts';
import { createCA, issueCertificate } from '../../certs/pki.ts';
import { namespaceGpuQuotas } from '../../controller/gpu-quota.ts';
import { createControllerMetrics, createGitSyncMetrics, forgetRepository } from '../../controller/metrics.ts';
import { createWebhookMetrics, recordServingCertificate } from '../../webhook/metrics.ts';

const policy = (name: string, spec: TrainingPolicy['spec']): TrainingPolicy => ({ apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name }, spec });

/** The samples of one metric in exposition text, as `labels → value`. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && m[1] === name) out.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}

t.test('namespaceGpuQuotas: the smallest gpuQuota of the selecting policies, per namespace', async (t) => {
  const policies = [
    policy('teams', { namespaceSelector: { matchLabels: { team: 'yes' } }, gpuQuota: 16 }),
    policy('small', { namespaceSelector: { matchLabels: { tier: 'small' } }, gpuQuota: 4 }),
    policy('limits-only', { namespaceSelector: {}, maxGPUsPerJob: 8 }),
    policy('by-name', { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'research' } }, gpuQuota: 32 }),
  ];
  const quotas = namespaceGpuQuotas(policies, [
    { name: 'team-a', labels: { team: 'yes' } },
    { name: 'team-b', labels: { team: 'yes', tier: 'small' } },
    { name: 'default' },
    { name: 'research' },
  ]);
  t.same(Object.fromEntries(quotas), { 'team-a': 16, 'team-b': 4, research: 32 }, 'strictest quota wins; a policy without gpuQuota and an unselected namespace add nothing');
  t.same(Object.fromEntries(namespaceGpuQuotas([], [{ name: 'team-a' }])), {}, 'no policies, no quota');
  t.same(Object.fromEntries(namespaceGpuQuotas([policy('zero', { gpuQuota: 0 })], [{ name: 'frozen' }])), { frozen: 0 }, 'a quota of 0 is a quota (an empty selector selects every namespace)');
});

t.test('trainingjob_gpu_quota is read from its source at each scrape, and absent while the source has none', async (t) => {
  let current: Map<string, number> | undefined = new Map([['team-a', 16], ['team-b', 4]]);
  const m = createControllerMetrics({ defaultMetrics: false, gpuQuotas: () => current });
  let text = await m.registry.metrics();
  t.match(text, /# TYPE trainingjob_gpu_quota gauge/);
  t.same(Object.fromEntries(samples(text, 'trainingjob_gpu_quota')), { '{namespace="team-a"}': 16, '{namespace="team-b"}': 4 });

  current = new Map([['team-a', 8]]);
  text = await m.registry.metrics();
  t.same(Object.fromEntries(samples(text, 'trainingjob_gpu_quota')), { '{namespace="team-a"}': 8 }, 'a namespace that lost its quota loses its series');

  current = undefined; // a standby replica
  text = await m.registry.metrics();
  t.match(text, /# TYPE trainingjob_gpu_quota gauge/, 'still declared, so the name is always exposed');
  t.equal(samples(text, 'trainingjob_gpu_quota').size, 0, 'no samples from a replica that does not lead');

  const bare = createControllerMetrics({ defaultMetrics: false });
  t.equal(samples(await bare.registry.metrics(), 'trainingjob_gpu_quota').size, 0, 'no source, no samples');
});

t.test('trainingjob_webhook_certificate_expiry_timestamp_seconds is the notAfter of the certificate last put in service', async (t) => {
  const ca = createCA('test-ca', 400);
  const first = issueCertificate(ca, { commonName: 'webhook', usage: 'server', validDays: 10 });
  const rotated = issueCertificate(ca, { commonName: 'webhook', usage: 'server', validDays: 90 });
  const m = createWebhookMetrics({ defaultMetrics: false });
  const name = 'trainingjob_webhook_certificate_expiry_timestamp_seconds';
  t.match(await m.registry.metrics(), new RegExp(`# TYPE ${name} gauge`));

  recordServingCertificate(m, first.certPem);
  const notAfter = (pem: string) => new Date(new X509Certificate(pem).validTo).getTime() / 1000;
  t.same([...samples(await m.registry.metrics(), name).values()], [notAfter(first.certPem)]);
  t.ok(Math.abs(notAfter(first.certPem) - (Date.now() / 1000 + 10 * 86400)) < 120, 'ten days from now');

  recordServingCertificate(m, `${rotated.certPem}${ca.certPem}`);
  t.same([...samples(await m.registry.metrics(), name).values()], [notAfter(rotated.certPem)], 'replaced on rotation; a chain counts by its leaf');

  t.throws(() => recordServingCertificate(m, 'not a certificate'), { code: 'InvalidPem' });
  t.same([...samples(await m.registry.metrics(), name).values()], [notAfter(rotated.certPem)], 'a bad PEM leaves the value alone');
});

t.test('forgetRepository drops a deleted repository\'s gauges, and only the timestamp of a suspended one', async (t) => {
  const registry = new Registry();
  const m = createGitSyncMetrics(registry);
  for (const [ns, name] of [['team-a', 'jobs'], ['team-b', 'jobs']] as const) {
    m.lastSuccess.set({ namespace: ns, name }, 1000);
    m.revision.set({ namespace: ns, name, revision: `${ns}-rev` }, 1);
  }
  await forgetRepository(m, 'team-a', 'jobs', { keepRevision: true });
  let text = await registry.metrics();
  t.same([...samples(text, 'trainingjob_gitsync_last_success_timestamp_seconds').keys()], ['{namespace="team-b",name="jobs"}'], 'suspended: no timestamp, so no staleness alert');
  t.equal(samples(text, 'trainingjob_gitsync_revision_info').size, 2, 'suspended: the applied revision is still true');

  await forgetRepository(m, 'team-a', 'jobs');
  text = await registry.metrics();
  t.same([...samples(text, 'trainingjob_gitsync_revision_info').keys()], ['{namespace="team-b",name="jobs",revision="team-b-rev"}'], 'deleted: its revision goes too, the other repository stays');
});
