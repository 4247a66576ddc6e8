// The Argo CD objects in argocd/ against Argo CD's own CRDs (from its Go module) on a harness apiserver,
// and against what they deploy: the rendered platform overlay (argocd/platform) and team folders
// (manifests/teams/*). Waves, ignoreDifferences and the project's limits are computed from the
// rendered objects, so a new kind, object or caBundle in the manifests makes these checks fail.
import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ensureBinaries, repoRoot } from '../../localcluster/binaries.ts';
import { runCommand } from '../../localcluster/controlplane.ts';
import { moduleFile, upstreamModules } from '../../localcluster/go-module.ts';
import { installCRDs, parseDocuments, renderKustomize, type KubeDocument } from '../harness/manifests.ts';
import { controlPlaneFor } from '../harness/tap.ts';

interface GroupKind { group: string; kind: string }
interface IgnoreDifference extends GroupKind { name?: string; jqPathExpressions?: string[]; jsonPointers?: string[] }
interface Destination { server: string; namespace: string }
interface Project extends KubeDocument { spec: { sourceRepos: string[]; destinations: Destination[]; clusterResourceWhitelist: GroupKind[]; namespaceResourceBlacklist?: GroupKind[] } }
interface AppSpec { project: string; source: { repoURL: string; path: string; targetRevision: string }; destination: Destination; syncPolicy?: { syncOptions?: string[]; automated?: { prune?: boolean; selfHeal?: boolean } }; ignoreDifferences?: IgnoreDifference[] }
interface Application extends KubeDocument { spec: AppSpec }
interface ApplicationSet extends KubeDocument { spec: { generators: Array<{ git?: { repoURL: string; directories: Array<{ path: string }> } }>; template: { metadata: { name: string }; spec: AppSpec } } }

const argocdDir = join(repoRoot, 'argocd');
const only = <T extends KubeDocument>(file: string, kind: string): T => {
  const docs = parseDocuments(readFileSync(join(argocdDir, file), 'utf8'));
  const d = docs.find((x) => x.kind === kind);
  if (!d || docs.length !== 1) throw new Error(`${file}: expected one ${kind}, found ${docs.map((x) => x.kind).join(', ')}`);
  return d as T;
};
const project = only<Project>('project.yaml', 'AppProject');
const platformApp = only<Application>('platform-application.yaml', 'Application');
const teamsAppSet = only<ApplicationSet>('teams-applicationset.yaml', 'ApplicationSet');

const platform = parseDocuments(await renderKustomize(join(repoRoot, platformApp.spec.source.path)));
const teamsGlob = teamsAppSet.spec.generators[0]?.git?.directories[0]?.path ?? '';
const teamsParent = teamsGlob.replace(/\/\*$/, '');
const teamDirs = readdirSync(join(repoRoot, teamsParent), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const teams = new Map<string, KubeDocument[]>();
for (const team of teamDirs) teams.set(team, parseDocuments(await renderKustomize(join(repoRoot, teamsParent, team))));

const WAVE = 'argocd.argoproj.io/sync-wave';
const wave = (d: KubeDocument): number => Number(d.metadata.annotations?.[WAVE] ?? '0');
const groupOf = (d: KubeDocument): string => (d.apiVersion.includes('/') ? d.apiVersion.split('/')[0]! : '');
const id = (d: KubeDocument): string => `${d.kind}/${d.metadata.name}`;
// Argo CD matches destination namespaces and kinds as globs.
const glob = (pattern: string, value: string): boolean => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(value);

t.test('the rendered platform and team folders are what the Argo CD objects point at', async (t) => {
  t.ok(platform.length > 10, `argocd/platform renders (${platform.length} objects)`);
  t.equal(teamsGlob, 'manifests/teams/*', 'the ApplicationSet walks the team folders');
  t.ok(teamDirs.length >= 1, `team folders: ${teamDirs.join(', ')}`);
  for (const team of teamDirs) t.ok(existsSync(join(repoRoot, teamsParent, team, 'kustomization.yaml')), `${team} is a kustomization`);
});

t.test('sync waves: CRDs, then the webhook, then its configurations, then the controller', async (t) => {
  const of = (pred: (d: KubeDocument) => boolean, what: string): KubeDocument[] => {
    const found = platform.filter(pred);
    t.ok(found.length > 0, `the platform has ${what}`);
    return found;
  };
  const crds = of((d) => d.kind === 'CustomResourceDefinition', 'CRDs');
  const webhook = of((d) => d.kind === 'Deployment' && d.metadata.labels?.['app.kubernetes.io/component'] === 'webhook', 'a webhook Deployment');
  const webhookService = of((d) => d.kind === 'Service' && d.metadata.labels?.['app.kubernetes.io/component'] === 'webhook', 'a webhook Service');
  const configurations = of((d) => d.kind === 'MutatingWebhookConfiguration' || d.kind === 'ValidatingWebhookConfiguration', 'webhook configurations');
  const controller = of((d) => d.kind === 'Deployment' && d.metadata.labels?.['app.kubernetes.io/component'] === 'controller', 'a controller Deployment');
  const last = (ds: KubeDocument[]) => Math.max(...ds.map(wave));
  const first = (ds: KubeDocument[]) => Math.min(...ds.map(wave));
  t.ok(last(crds) < first([...webhook, ...webhookService]), `CRDs (${last(crds)}) before the webhook (${first(webhook)})`);
  t.ok(last([...webhook, ...webhookService]) < first(configurations), `webhook (${last(webhook)}) before its configurations (${first(configurations)})`);
  t.ok(last(configurations) < first(controller), `configurations (${last(configurations)}) before the controller (${first(controller)})`);
  const lowest = Math.min(...platform.map(wave));
  for (const d of platform.filter((x) => x.kind === 'Namespace' || x.kind === 'CustomResourceDefinition')) {
    t.equal(wave(d), lowest, `${id(d)} in the first wave`);
    t.equal(d.metadata.annotations?.['argocd.argoproj.io/sync-options'], 'Prune=false,Delete=false', `${id(d)} is never pruned or deleted by Argo CD`);
  }
  const notIntegers = platform.filter((d) => !Number.isInteger(wave(d))).map((d) => `${id(d)}: ${d.metadata.annotations?.[WAVE]}`);
  t.same(notIntegers, [], 'every wave is an integer');
});

t.test('the platform Application syncs server-side and never writes back an injected caBundle', async (t) => {
  const opts = platformApp.spec.syncPolicy?.syncOptions ?? [];
  t.ok(opts.includes('ServerSideApply=true'), 'ServerSideApply');
  t.ok(opts.includes('RespectIgnoreDifferences=true'), 'RespectIgnoreDifferences: a sync leaves ignored fields alone');
  t.equal(platformApp.spec.project, project.metadata.name);
  t.equal(teamsAppSet.spec.template.spec.project, project.metadata.name);
});

// Every place a caBundle gets injected in the rendered platform: each webhook's clientConfig, and a CRD's conversion webhook.
const caBundleTargets = platform.filter((d) => d.kind === 'MutatingWebhookConfiguration' || d.kind === 'ValidatingWebhookConfiguration' || (d.kind === 'CustomResourceDefinition' && (d.spec as { conversion?: { strategy?: string } }).conversion?.strategy === 'Webhook'));
function injected(d: KubeDocument): KubeDocument {
  const copy = structuredClone(d) as KubeDocument & { webhooks?: Array<{ clientConfig: Record<string, unknown> }>; spec?: { conversion?: { webhook?: { clientConfig?: Record<string, unknown> } } } };
  for (const w of copy.webhooks ?? []) w.clientConfig.caBundle = 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==';
  const conversion = copy.spec?.conversion?.webhook?.clientConfig;
  if (conversion) conversion.caBundle = 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==';
  return copy;
}

t.test('ignoreDifferences covers every injected caBundle, as Argo CD\'s own normalizer applies it', async (t) => {
  const { argocd } = await ensureBinaries({ only: ['argocd'], progress: (l) => t.comment(l) });
  const dir = mkdtempSync(join(tmpdir(), 'argocd-ignore-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.ok(caBundleTargets.length >= 3, `caBundle targets: ${caBundleTargets.map(id).join(', ')}`);
  const entries = platformApp.spec.ignoreDifferences ?? [];
  for (const target of caBundleTargets) {
    const matching = entries.filter((e) => e.group === groupOf(target) && e.kind === target.kind && (!e.name || e.name === target.metadata.name));
    t.equal(matching.length, 1, `${id(target)}: one ignoreDifferences entry`);
    const entry = matching[0];
    if (!entry) continue;
    // The CLI applies argocd-cm's per-kind ignoreDifferences with the same normalizer as an Application's.
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'argocd-cm', namespace: 'argocd' }, data: { [`resource.customizations.ignoreDifferences.${groupOf(target)}_${target.kind}`]: stringify({ ...(entry.jqPathExpressions ? { jqPathExpressions: entry.jqPathExpressions } : {}), ...(entry.jsonPointers ? { jsonPointers: entry.jsonPointers } : {}) }) } };
    const cmPath = join(dir, `cm-${target.metadata.name}.yaml`);
    const objPath = join(dir, `live-${target.metadata.name}.yaml`);
    writeFileSync(cmPath, stringify(cm));
    writeFileSync(objPath, stringify(injected(target)));
    const r = await runCommand(argocd!, ['admin', 'settings', 'resource-overrides', 'ignore-differences', objPath, '--argocd-cm-path', cmPath], { PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: join(dir, 'none'), KUBECTL_EXTERNAL_DIFF: 'sh -c \'cat "$2"\' normalized' });
    t.equal(r.code, 0, `${id(target)}: argocd ran`, { stderr: r.stderr });
    const marker = 'Following fields are ignored:';
    t.ok(r.stdout.includes(marker), `${id(target)}: some field is ignored`, { stdout: r.stdout });
    const normalized = parse(r.stdout.slice(r.stdout.indexOf(marker) + marker.length)) as unknown;
    // Ignoring exactly the injected caBundles leaves the object as Git has it.
    t.same(normalized, target, `${id(target)}: only the injected caBundle is ignored`);
  }
});

// Scope of every kind the platform and teams ship, from the apiserver's discovery (our CRDs installed).
async function scopes(cp: Awaited<ReturnType<typeof controlPlaneFor>>, docs: KubeDocument[]): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  for (const apiVersion of new Set(docs.map((d) => d.apiVersion))) {
    const r = await cp.kubectl(['get', '--raw', apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`]);
    if (r.code !== 0) throw new Error(`discovery of ${apiVersion}: ${r.stderr}`);
    for (const res of (JSON.parse(r.stdout) as { resources: Array<{ name: string; kind: string; namespaced: boolean }> }).resources) {
      if (!res.name.includes('/')) out.set(`${apiVersion}/${res.kind}`, res.namespaced);
    }
  }
  return out;
}

const cp = await controlPlaneFor(t);

t.test('the project admits exactly what the platform and the team folders deploy', async (t) => {
  const crds = await installCRDs(cp, platform.filter((d) => d.kind === 'CustomResourceDefinition').map((d) => stringify(d)).join('---\n'));
  t.equal(crds.code, 0, 'our CRDs installed', { stderr: crds.stderr });
  const deployed: Array<{ doc: KubeDocument; namespace: string }> = [
    ...platform.map((doc) => ({ doc, namespace: platformApp.spec.destination.namespace })),
    ...[...teams].flatMap(([team, docs]) => docs.map((doc) => ({ doc, namespace: team }))),
  ];
  const scope = await scopes(cp, deployed.map((d) => d.doc));
  const whitelist = project.spec.clusterResourceWhitelist;
  const blacklist = project.spec.namespaceResourceBlacklist ?? [];
  const clusterKinds = new Set<string>();
  for (const { doc, namespace } of deployed) {
    const namespaced = scope.get(`${doc.apiVersion}/${doc.kind}`);
    t.not(namespaced, undefined, `${id(doc)}: ${doc.apiVersion} ${doc.kind} is served`);
    if (namespaced === false) {
      clusterKinds.add(`${groupOf(doc)}/${doc.kind}`);
      t.ok(whitelist.some((w) => glob(w.group, groupOf(doc)) && glob(w.kind, doc.kind)), `${id(doc)}: cluster-scoped ${groupOf(doc) || 'core'}/${doc.kind} is whitelisted`);
    } else {
      const ns = doc.metadata.namespace ?? namespace;
      t.ok(project.spec.destinations.some((d) => d.server === 'https://kubernetes.default.svc' && glob(d.namespace, ns)), `${id(doc)}: namespace ${ns} is a destination`);
      t.notOk(blacklist.some((b) => glob(b.group, groupOf(doc)) && glob(b.kind, doc.kind)), `${id(doc)}: not blacklisted`);
    }
  }
  // Nothing whitelisted beyond what is deployed: the list stays least privilege.
  for (const w of whitelist) t.ok(clusterKinds.has(`${w.group}/${w.kind}`), `${w.group || 'core'}/${w.kind} is whitelisted because something deploys it`);
  const repos = [platformApp.spec.source.repoURL, teamsAppSet.spec.template.spec.source.repoURL, ...teamsAppSet.spec.generators.map((g) => g.git?.repoURL ?? '')];
  for (const repo of repos) t.ok(project.spec.sourceRepos.includes(repo), `${repo} is a source repository of the project`);
  t.ok(project.spec.destinations.some((d) => d.namespace === platformApp.spec.destination.namespace), 'the platform namespace is a destination');
  for (const team of teamDirs) t.ok(project.spec.destinations.some((d) => glob(d.namespace, team)), `team namespace ${team} (the ApplicationSet's destination) is a destination`);
});

t.test('Argo CD\'s CRDs accept our AppProject, Application, ApplicationSet and argocd-cm', async (t) => {
  const files = ['application-crd.yaml', 'applicationset-crd.yaml', 'appproject-crd.yaml'].map((f) => readFileSync(moduleFile(upstreamModules.argoCd, `manifests/crds/${f}`), 'utf8'));
  const installed = await installCRDs(cp, files.join('\n---\n'));
  t.equal(installed.code, 0, `Argo CD CRDs established: ${installed.names.join(', ')}`, { stderr: installed.stderr });
  t.equal((await cp.kubectl(['create', 'namespace', 'argocd'])).code, 0, 'namespace argocd');
  for (const file of ['project.yaml', 'platform-application.yaml', 'teams-applicationset.yaml', 'argocd-cm.yaml']) {
    const r = await cp.kubectl(['apply', '--server-side', '--field-manager=argocd-tests', '--validate=strict', '-f', join(argocdDir, file)]);
    t.equal(r.code, 0, `${file} created (strict field validation)`, { stderr: r.stderr });
  }
  const stored = await cp.kubectl(['get', 'appprojects,applications,applicationsets,configmaps', '-n', 'argocd', '-o', 'name']);
  t.match(stored.stdout, /appproject\.argoproj\.io\/trainingjob-platform/);
  t.match(stored.stdout, /application\.argoproj\.io\/trainingjob-platform/);
  t.match(stored.stdout, /applicationset\.argoproj\.io\/trainingjob-teams/);
  t.match(stored.stdout, /configmap\/argocd-cm/);
  const app = JSON.parse((await cp.kubectl(['get', 'application', 'trainingjob-platform', '-n', 'argocd', '-o', 'json'])).stdout) as Application;
  t.same(app.spec.ignoreDifferences, platformApp.spec.ignoreDifferences, 'ignoreDifferences stored as written (no field dropped by the schema)');

  // The schemas really validate: a wrong type and an unknown field are refused.
  const badType = structuredClone(platformApp) as unknown as { spec: { syncPolicy: { automated: { prune: unknown } } } };
  // Not "yes": kubectl reads YAML 1.1, where that is a boolean.
  badType.spec.syncPolicy.automated.prune = 'sometimes';
  const refused = await cp.kubectl(['apply', '--server-side', '--dry-run=server', '--field-manager=argocd-tests', '-f', '-'], { input: stringify(badType) });
  t.not(refused.code, 0, 'automated.prune: "sometimes" is refused');
  t.match(refused.stderr, /prune/);
  const unknown = structuredClone(teamsAppSet) as unknown as { spec: Record<string, unknown> };
  unknown.spec.generator = unknown.spec.generators;
  const strict = await cp.kubectl(['apply', '--server-side', '--dry-run=server', '--validate=strict', '--field-manager=argocd-tests', '-f', '-'], { input: stringify(unknown) });
  t.not(strict.code, 0, 'an unknown field (spec.generator) is refused');
  t.match(strict.stderr, /generator/);
});
