// TrainingJob create latency through a real kube-apiserver (etcd + kube-apiserver on loopback,
// the platform's CRDs and example TrainingPolicies), three admission setups side by side in one
// run, in interleaved rounds so drift on the shared machine hits all three alike:
//   none    — no admission beyond the CRD schema;
//   webhook — our mutating + validating webhooks (installPlatform: HTTPS by URL + caBundle; a named create calls the mutating one only);
//   vap     — a ValidatingAdmissionPolicy (CEL) with the core rules, TrainingPolicies as params;
//   quota   — our webhooks in a namespace with a GPU quota, so every create reserves in the ledger
//             (registered under their own webhook names, so the apiserver's metrics tell them apart).
// Each setup owns a namespace (selected by label), so all four stay registered the whole time.
// Goal: our webhooks ≤ 1.5× the no-webhook median, in the namespace without a quota.
import { AdmissionregistrationV1Api, CoreV1Api, CustomObjectsApi, ApiException, type V1ValidatingAdmissionPolicy, type V1ValidatingAdmissionPolicyBinding } from '@kubernetes/client-node';
import { writeFileSync } from 'node:fs';
import { Agent, get } from 'node:https';
import { GROUP, TRAININGJOB_PLURAL, TRAININGPOLICY_PLURAL, V1 } from '../api/index.ts';
import { startControlPlane } from '../localcluster/controlplane.ts';
import { getText } from '../localcluster/http.ts';
import { installPlatform } from '../localcluster/platform.ts';
import { mutatingConfigName, validatingConfigName } from '../webhook/registration.ts';
import { describeLoad, startMeter } from './machine.ts';
import { metricSum, summarize } from './stats.ts';
import type { Suite } from './run.ts';

const creates = Number(process.env.BENCH_CREATES ?? 200);
const warmup = Number(process.env.BENCH_CREATES_WARMUP ?? 10);
const modes = ['none', 'webhook', 'vap', 'quota'] as const;
type Mode = (typeof modes)[number];
const modeLabel = 'bench.ml.example.com/admission';
const log = (l: string): void => void process.stderr.write(`  ${l}\n`);
// Far above what one round holds (each round's jobs are deleted), so every create is admitted and reserves.
const benchQuotaGpus = 1000;
const quotaWebhookPrefix = 'quota.';

// CEL for the core rules. Kubernetes CEL cannot list other objects, so GPU quota (usage of the
// namespace's jobs) and max concurrent jobs are out of its reach; everything stateless is here.
// Each TrainingPolicy is a param; `applies` evaluates its namespaceSelector against the namespace.
const sel = 'params.spec.namespaceSelector';
const nsl = 'namespaceObject.metadata.labels';
const vapPolicy: V1ValidatingAdmissionPolicy = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicy',
  metadata: { name: 'trainingjob-core.bench.ml.example.com' },
  spec: {
    failurePolicy: 'Fail',
    paramKind: { apiVersion: `${GROUP}/${V1}`, kind: 'TrainingPolicy' },
    matchConstraints: { resourceRules: [{ apiGroups: [GROUP], apiVersions: [V1], operations: ['CREATE', 'UPDATE'], resources: [TRAININGJOB_PLURAL] }] },
    variables: [
      { name: 'workers', expression: 'has(object.spec.numWorkers) ? object.spec.numWorkers : 1' },
      { name: 'gpus', expression: 'has(object.spec.gpusPerWorker) ? object.spec.gpusPerWorker : 1' },
      { name: 'framework', expression: "has(object.spec.framework) ? object.spec.framework : 'pytorch'" },
      {
        name: 'applies',
        expression: `!has(${sel}) || ((!has(${sel}.matchLabels) || ${sel}.matchLabels.all(k, k in ${nsl} && ${nsl}[k] == ${sel}.matchLabels[k])) && ` +
          `(!has(${sel}.matchExpressions) || ${sel}.matchExpressions.all(e, e.operator == 'In' ? (e.key in ${nsl} && ${nsl}[e.key] in e.values) : ` +
          `e.operator == 'NotIn' ? !(e.key in ${nsl} && ${nsl}[e.key] in e.values) : e.operator == 'Exists' ? e.key in ${nsl} : !(e.key in ${nsl}))))`,
      },
    ],
    validations: [
      { expression: 'variables.workers >= 1 && variables.workers <= 32', messageExpression: "'spec.numWorkers: ' + string(variables.workers) + ' must be between 1 and 32'" },
      { expression: 'variables.gpus >= 0 && variables.gpus <= 8', messageExpression: "'spec.gpusPerWorker: ' + string(variables.gpus) + ' must be between 0 and 8'" },
      { expression: 'has(object.spec.image) || has(object.spec.model)', message: 'spec: either image or model must be given' },
      {
        expression: '!variables.applies || !has(params.spec.maxGPUsPerJob) || variables.workers * variables.gpus <= params.spec.maxGPUsPerJob',
        messageExpression: "'spec: ' + string(variables.workers * variables.gpus) + ' GPUs exceeds the maximum ' + string(params.spec.maxGPUsPerJob) + ' GPUs per job (TrainingPolicy ' + params.metadata.name + ')'",
      },
      {
        expression: '!variables.applies || !has(params.spec.maxWorkers) || variables.workers <= params.spec.maxWorkers',
        messageExpression: "'spec.numWorkers: ' + string(variables.workers) + ' exceeds the maximum ' + string(params.spec.maxWorkers) + ' (TrainingPolicy ' + params.metadata.name + ')'",
      },
      {
        // Prefixes, and globs with a trailing * (all the example policies use); a * mid-pattern is not expressible simply.
        expression: "!variables.applies || !has(params.spec.allowedImages) || size(params.spec.allowedImages) == 0 || !has(object.spec.image) || params.spec.allowedImages.exists(p, p.endsWith('*') ? object.spec.image.startsWith(p.substring(0, size(p) - 1)) : object.spec.image.startsWith(p))",
        messageExpression: "'spec.image: ' + object.spec.image + ' is not allowed (TrainingPolicy ' + params.metadata.name + ')'",
      },
      {
        expression: '!variables.applies || !has(params.spec.allowedFrameworks) || size(params.spec.allowedFrameworks) == 0 || variables.framework in params.spec.allowedFrameworks',
        messageExpression: "'spec.framework: ' + variables.framework + ' is not allowed (TrainingPolicy ' + params.metadata.name + ')'",
      },
      {
        expression: '!variables.applies || !has(params.spec.requiredLabels) || params.spec.requiredLabels.all(l, has(object.metadata.labels) && l in object.metadata.labels)',
        messageExpression: "'metadata.labels: required labels ' + params.spec.requiredLabels.join(', ') + ' (TrainingPolicy ' + params.metadata.name + ')'",
      },
    ],
  },
};

const vapBinding: V1ValidatingAdmissionPolicyBinding = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicyBinding',
  metadata: { name: 'trainingjob-core.bench.ml.example.com' },
  spec: {
    policyName: vapPolicy.metadata!.name!,
    validationActions: ['Deny'],
    // Every TrainingPolicy is a param; the policy is evaluated once per param.
    paramRef: { selector: {}, parameterNotFoundAction: 'Deny' },
    matchResources: { namespaceSelector: { matchLabels: { [modeLabel]: 'vap' } } },
  },
};

const job = (name: string, namespace: string, spec: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: `${GROUP}/${V1}`,
  kind: 'TrainingJob',
  metadata: { name, namespace, labels: { app: 'bench' } },
  spec: { model: 'resnet50', framework: 'pytorch', numWorkers: 2, gpusPerWorker: 1, hyperparameters: { learningRate: 0.001, batchSize: 64, epochs: 10 }, ...spec },
});


async function timeEach(n: number, run: () => Promise<unknown>): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run();
    out.push(performance.now() - t0);
  }
  return summarize(out).median;
}

function httpsGet(url: string, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`GET ${url}: ${res.statusCode}`))));
    }).on('error', reject);
  });
}

export const apiserverCreateSuite: Suite = {
  name: 'apiserver-create',
  // A control plane and ~600 creates: minutes.
  explicitOnly: true,
  async run() {
    log('starting etcd + kube-apiserver');
    const cp = await startControlPlane({ progress: log });
    try {
      const kc = cp.kubeConfig();
      log('installing the platform (CRDs, webhook, example policies)');
      const platform = await installPlatform({ kubeConfig: kc, examplePolicies: true, progress: log });
      try {
        const core = kc.makeApiClient(CoreV1Api);
        const reg = kc.makeApiClient(AdmissionregistrationV1Api);
        const custom = kc.makeApiClient(CustomObjectsApi);
        const ns: Record<Mode, string> = { none: 'bench-none', webhook: 'bench-webhook', vap: 'bench-vap', quota: 'bench-quota' };
        for (const m of modes) await core.createNamespace({ body: { metadata: { name: ns[m], labels: { [modeLabel]: m } } } });

        // Our webhook configurations as installed, narrowed to the webhook namespace; a copy of each,
        // under other names, for the quota namespace.
        const narrowed = <T extends { namespaceSelector?: { matchLabels?: Record<string, string> } }>(w: T, m: Mode): T => ({ ...w, namespaceSelector: { ...w.namespaceSelector, matchLabels: { ...w.namespaceSelector?.matchLabels, [modeLabel]: m } } });
        const mwc = await reg.readMutatingWebhookConfiguration({ name: mutatingConfigName });
        const mutating = mwc.webhooks ?? [];
        mwc.webhooks = mutating.map((w) => narrowed(w, 'webhook'));
        await reg.replaceMutatingWebhookConfiguration({ name: mutatingConfigName, body: mwc });
        await reg.createMutatingWebhookConfiguration({ body: { metadata: { name: `${mutatingConfigName}-bench-quota` }, webhooks: mutating.map((w) => ({ ...narrowed(w, 'quota'), name: `${quotaWebhookPrefix}${w.name}` })) } });
        const vwc = await reg.readValidatingWebhookConfiguration({ name: validatingConfigName });
        const jobHooks = (vwc.webhooks ?? []).filter((w) => w.rules?.some((r) => r.resources?.includes(TRAININGJOB_PLURAL)));
        vwc.webhooks = (vwc.webhooks ?? []).map((w) => (jobHooks.includes(w) ? narrowed(w, 'webhook') : w));
        await reg.replaceValidatingWebhookConfiguration({ name: validatingConfigName, body: vwc });
        await reg.createValidatingWebhookConfiguration({ body: { metadata: { name: `${validatingConfigName}-bench-quota` }, webhooks: jobHooks.map((w) => ({ ...narrowed(w, 'quota'), name: `${quotaWebhookPrefix}${w.name}` })) } });
        await custom.createClusterCustomObject({
          group: GROUP, version: V1, plural: TRAININGPOLICY_PLURAL,
          body: { apiVersion: `${GROUP}/${V1}`, kind: 'TrainingPolicy', metadata: { name: 'bench-quota' }, spec: { namespaceSelector: { matchLabels: { [modeLabel]: 'quota' } }, gpuQuota: benchQuotaGpus, overQuota: 'Reject' } },
        });
        await reg.createValidatingAdmissionPolicy({ body: vapPolicy });
        await reg.createValidatingAdmissionPolicyBinding({ body: vapBinding });

        const create = async (mode: Mode, name: string, spec?: Record<string, unknown>): Promise<number> => {
          const t0 = performance.now();
          await custom.createNamespacedCustomObject({ group: GROUP, version: V1, namespace: ns[mode], plural: TRAININGJOB_PLURAL, body: job(name, ns[mode], spec) });
          return performance.now() - t0;
        };
        const remove = (mode: Mode, name: string): Promise<unknown> => custom.deleteNamespacedCustomObject({ group: GROUP, version: V1, namespace: ns[mode], plural: TRAININGJOB_PLURAL, name });
        const refused = async (mode: Mode, name: string, spec: Record<string, unknown>): Promise<string | undefined> => {
          try {
            await create(mode, name, spec);
            await remove(mode, name);
            return undefined;
          } catch (err) {
            if (err instanceof ApiException) return String((JSON.parse(String(err.body)) as { message?: string }).message);
            throw err;
          }
        };

        // Every setup must be in force before timing: a disallowed image is refused by the webhook
        // and by the VAP, and accepted where no admission runs (the informers take a moment).
        log('waiting until the webhook and the ValidatingAdmissionPolicy are in force');
        const probe = { image: 'docker.io/someone/miner:1' };
        const verdicts: Record<Mode, string | undefined> = { none: undefined, webhook: undefined, vap: undefined, quota: undefined };
        const deadline = Date.now() + 60_000;
        for (let i = 0; ; i++) {
          for (const m of modes) verdicts[m] = await refused(m, `probe-${m}-${i}`, probe);
          if (verdicts.none === undefined && verdicts.webhook && verdicts.vap && verdicts.quota) break;
          if (Date.now() > deadline) throw new Error(`admission setups not in force after 60 s: ${JSON.stringify(verdicts)}`);
          await new Promise((r) => setTimeout(r, 500));
        }

        // The webhook reads policies through a cache of a few seconds: let it see bench-quota before timing.
        await new Promise((r) => setTimeout(r, 2500));
        const samples: Record<Mode, number[]> = { none: [], webhook: [], vap: [], quota: [] };
        const scrape = async (): Promise<{ api: string; ours: string }> => ({
          api: (await getText(`${cp.server}/metrics`, cp.admin, 10_000)).body,
          ours: await platform.replicas[0]!.metrics.registry.metrics(),
        });
        let before: { api: string; ours: string } | undefined;
        let meter: (() => ReturnType<ReturnType<typeof startMeter>>) | undefined;
        log(`${warmup} warm-up rounds, then ${creates} interleaved rounds (one create per setup per round)`);
        for (let round = -warmup; round < creates; round++) {
          if (round === 0) {
            before = await scrape();
            meter = startMeter();
          }
          // Rotate the order, so no setup always goes first after the previous round's deletes.
          const order = modes.map((_, i) => modes[(i + round + warmup) % modes.length]!);
          const names: Array<[Mode, string]> = [];
          for (const m of order) {
            const name = `bench-${m}-${round + warmup}`;
            const ms = await create(m, name);
            if (round >= 0) samples[m].push(ms);
            names.push([m, name]);
          }
          // Untimed: keep each namespace small, so every round meets the same state.
          await Promise.all(names.map(([m, name]) => remove(m, name)));
          if (round >= 0 && round % 50 === 49) log(`  ${round + 1} rounds`);
        }
        const load = meter!();
        const after = await scrape();
        if (process.env.BENCH_DUMP_METRICS) writeFileSync(process.env.BENCH_DUMP_METRICS, after.api);

        // One apiserver read as our webhook's facts make it (client-node), and the same GET over a
        // keep-alive HTTPS connection, to tell request overhead from apiserver work.
        const clientNodeGet = await timeEach(50, () => core.readNamespace({ name: ns.webhook }));
        const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: cp.admin.caPem, cert: cp.admin.certPem, key: cp.admin.keyPem });
        const keepAliveGet = await timeEach(50, () => httpsGet(`${cp.server}/api/v1/namespaces/${ns.webhook}`, agent));
        agent.destroy();
        const delta = (key: 'api' | 'ours', name: string, match: Record<string, string> = {}): number => metricSum(after[key], name, match) - metricSum(before![key], name, match);

        const s = { none: summarize(samples.none), webhook: summarize(samples.webhook), vap: summarize(samples.vap), quota: summarize(samples.quota) };
        const ratio = s.webhook.median / s.none.median;
        const quotaCreates = samples.quota.length;
        // Where our time goes, per create: inside our handlers (our metric), each webhook call as the
        // apiserver sees it (adds HTTPS), and the apiserver requests our handlers made.
        const inside = (hook: string): number => (delta('ours', 'trainingjob_admission_duration_seconds_sum', { webhook: hook }) / Math.max(1, delta('ours', 'trainingjob_admission_duration_seconds_count', { webhook: hook }))) * 1000;
        const apiSide = (type: string, name: string): number => (delta('api', 'apiserver_admission_webhook_admission_duration_seconds_sum', { type, name }) / Math.max(1, delta('api', 'apiserver_admission_webhook_admission_duration_seconds_count', { type, name }))) * 1000;
        const hook = 'trainingjob.ml.example.com';
        const calls = (type: string, name: string, timed: number): string => (delta('api', 'apiserver_admission_webhook_admission_duration_seconds_count', { type, name }) / Math.max(1, timed)).toFixed(2);
        // Only the quota namespace's admissions touch the ledger; ResourceQuotas and job lists would show for both.
        const reqs = (match: Record<string, string>): string => (delta('api', 'apiserver_request_total', match) / Math.max(1, quotaCreates)).toFixed(1);
        const f = (x: number): string => `${x.toFixed(1)} ms`;
        const row = (label: string, m: Mode): string => `| ${label} | ${s[m].n} | ${f(s[m].min)} | **${f(s[m].median)}** | ${f(s[m].p95)} | ${f(s[m].max)} | ${(s[m].median / s.none.median).toFixed(2)}× |`;
        return [
          `### TrainingJob create latency through kube-apiserver v1.34.4 (${creates} interleaved rounds, ${warmup} warm-up)`,
          '',
          'Each round creates one small valid TrainingJob (model, 2 workers × 1 GPU) per setup with',
          '`@kubernetes/client-node` (client time: request → 201), order rotated per round; the jobs are deleted',
          'after each round (untimed), so every create meets the same namespace state. Example TrainingPolicies',
          'installed; only platform-defaults selects the bench namespaces, and bench-quota (a GPU quota) the',
          'quota one. etcd runs with `--unsafe-no-fsync` (test harness default), so storage is cheaper than on',
          'a real cluster and admission weighs more.',
          '',
          '| setup | creates | min | median | p95 | max | median vs none |',
          '|---|---|---|---|---|---|---|',
          row('no admission webhook (CRD schema only)', 'none'),
          row('our webhooks: the mutating one decides (the validating one is called for generateName creates only), HTTPS on loopback (namespace without a quota)', 'webhook'),
          row('ValidatingAdmissionPolicy (CEL, 3 TrainingPolicy params)', 'vap'),
          row(`our webhooks in a namespace with a GPU quota (TrainingPolicy gpuQuota ${benchQuotaGpus}): every create reserves in the ledger`, 'quota'),
          '',
          `Goal ours ≤ 1.5× no-webhook: ${ratio <= 1.5 ? '**met**' : '**not met**'} — ${ratio.toFixed(2)}× (${f(s.webhook.median)} vs ${f(s.none.median)}, +${f(s.webhook.median - s.none.median)}).`,
          `VAP: ${(s.vap.median / s.none.median).toFixed(2)}× the baseline. With a GPU quota (not part of the goal): ${(s.quota.median / s.none.median).toFixed(2)}×.`,
          '',
          'Where the webhook time goes (means per create over the timed rounds):',
          '',
          '| part | time / count |',
          '|---|---|',
          `| mutating call as the apiserver sees it (HTTPS, JSON, our handler; with a quota it writes the ledger), no quota / with quota | ${f(apiSide('admit', hook))} / ${f(apiSide('admit', `${quotaWebhookPrefix}${hook}`))} |`,
          `| validating calls per create (its matchConditions admit generateName creates only), no quota / with quota | ${calls('validating', hook, s.webhook.n)} / ${calls('validating', `${quotaWebhookPrefix}${hook}`, quotaCreates)} |`,
          `| inside our mutate handler (facts + engine, + ledger write with a quota), both namespaces | ${f(inside('mutate-trainingjob'))} |`,
          `| ledger requests per create with a quota: GET configmaps / PUT+POST configmaps (none without a quota) | ${reqs({ resource: 'configmaps', verb: 'GET' })} / ${(Number(reqs({ resource: 'configmaps', verb: 'PUT' })) + Number(reqs({ resource: 'configmaps', verb: 'POST' }))).toFixed(1)} |`,
          `| other apiserver requests by our handlers per create with a quota: LIST trainingjobs / LIST resourcequotas | ${reqs({ resource: 'trainingjobs', verb: 'LIST' })} / ${reqs({ resource: 'resourcequotas', verb: 'LIST' })} |`,
          `| one GET namespace through @kubernetes/client-node, as the webhook's facts read (median of 50) | ${f(clientNodeGet)} |`,
          `| the same GET over a keep-alive HTTPS connection (median of 50) | ${f(keepAliveGet)} |`,
          '',
          `Noise: ${describeLoad(load)} (this benchmark = client, webhook, etcd, kube-apiserver).`,
          '',
        ].join('\n');
      } finally {
        await platform.stop();
      }
    } finally {
      await cp.stop();
    }
  },
};
