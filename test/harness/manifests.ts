// Deployable manifests against the real tools: `kubectl kustomize` renders them, a harness apiserver
// checks them with a server-side dry run. Used by test/tools/manifests-*.test.ts (and the monitoring overlay's tests).
import { parseAllDocuments, stringify } from 'yaml';
import { ensureBinaries } from '../../localcluster/binaries.ts';
import { runCommand, type CommandResult, type ControlPlane } from '../../localcluster/controlplane.ts';
import { LocalClusterError } from '../../localcluster/errors.ts';
import { moduleFile, upstreamModules } from '../../localcluster/go-module.ts';

export interface KubeDocument {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** The upstream CRDs our overlays use (cert-manager's Issuer/Certificate, prometheus-operator's ServiceMonitor/PrometheusRule), from their pinned Go modules. */
export function upstreamCRDFiles(): string[] {
  return [
    ...['cert-manager.io_issuers.yaml', 'cert-manager.io_clusterissuers.yaml', 'cert-manager.io_certificates.yaml'].map((f) => moduleFile(upstreamModules.certManager, `deploy/crds/${f}`)),
    ...['monitoring.coreos.com_servicemonitors.yaml', 'monitoring.coreos.com_podmonitors.yaml', 'monitoring.coreos.com_prometheusrules.yaml'].map((f) => moduleFile(upstreamModules.prometheusOperator, `example/prometheus-operator-crd/${f}`)),
  ];
}

let kubectlPath: string | undefined;
async function kubectl(): Promise<string> {
  kubectlPath ??= (await ensureBinaries({ only: ['kubectl'] })).kubectl!;
  return kubectlPath;
}

/** `kubectl kustomize <dir>` with our kubectl (binary cache); the rendered YAML, or a LocalClusterError (ProcessExited) carrying kubectl's message. */
export async function renderKustomize(dir: string): Promise<string> {
  const r = await runCommand(await kubectl(), ['kustomize', dir], process.env);
  if (r.code !== 0) throw new LocalClusterError('ProcessExited', `kubectl kustomize ${dir} failed (exit ${r.code}): ${r.stderr.trim()}`, { dir, code: r.code });
  return r.stdout;
}

/** Every non-empty document of a multi-document YAML text, as plain objects; throws on invalid YAML or a document without kind/name. */
export function parseDocuments(yamlText: string): KubeDocument[] {
  const out: KubeDocument[] = [];
  for (const doc of parseAllDocuments(yamlText)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    const d = value as Partial<KubeDocument>;
    if (typeof d.kind !== 'string' || typeof d.apiVersion !== 'string' || typeof d.metadata?.name !== 'string') {
      throw new Error(`a document lacks apiVersion, kind or metadata.name: ${JSON.stringify(value).slice(0, 200)}`);
    }
    out.push(d as KubeDocument);
  }
  return out;
}

const toYaml = (docs: KubeDocument[]): string => docs.map((d) => stringify(d, { aliasDuplicateObjects: false, lineWidth: 0 })).join('---\n');

const applyArgs = (fieldManager: string, ...extra: string[]): string[] => ['apply', '--server-side', `--field-manager=${fieldManager}`, '--validate=strict', ...extra, '-f', '-'];

/**
 * Applies the CustomResourceDefinitions in `yamlText` for real (server-side apply) and waits until each is
 * Established; other documents are ignored. Resolves with their names; the result of the failing kubectl call otherwise.
 */
export async function installCRDs(cp: ControlPlane, yamlText: string, opts: { fieldManager?: string } = {}): Promise<{ names: string[] } & CommandResult> {
  const crds = parseDocuments(yamlText).filter((d) => d.kind === 'CustomResourceDefinition');
  const names = crds.map((d) => d.metadata.name);
  if (crds.length === 0) return { names, code: 0, stdout: '', stderr: '' };
  const applied = await cp.kubectl(applyArgs(opts.fieldManager ?? 'trainingjob-tests'), { input: toYaml(crds) });
  if (applied.code !== 0) return { names, ...applied };
  // A CRD created a moment ago may have no status.conditions yet, which `kubectl wait` reports as an error.
  let waited = await cp.kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...names.map((n) => `crd/${n}`)]);
  for (let attempt = 0; waited.code !== 0 && /accessor error|conditions/.test(waited.stderr) && attempt < 20; attempt++) {
    await new Promise((r) => setTimeout(r, 250));
    waited = await cp.kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...names.map((n) => `crd/${n}`)]);
  }
  return { names, ...waited };
}

/**
 * Server-side apply of every document with `--dry-run=server`: the apiserver validates, defaults and
 * admits each object without persisting it. CRDs and Namespaces among them are first applied for real,
 * since a dry run cannot create a type or a namespace that the other objects in the same pass then use.
 * Resolves with the result of the dry run (code 0 when every object was accepted), or of the failing
 * preparatory step.
 */
export async function serverDryRun(cp: ControlPlane, yamlText: string, opts: { fieldManager?: string } = {}): Promise<CommandResult> {
  const fieldManager = opts.fieldManager ?? 'trainingjob-tests';
  const docs = parseDocuments(yamlText);
  const crds = await installCRDs(cp, yamlText, { fieldManager });
  if (crds.code !== 0) return { ...crds, stderr: `installing the CRDs: ${crds.stderr}` };
  const namespaces = docs.filter((d) => d.kind === 'Namespace' && d.apiVersion === 'v1');
  if (namespaces.length > 0) {
    const r = await cp.kubectl(applyArgs(fieldManager), { input: toYaml(namespaces) });
    if (r.code !== 0) return { ...r, stderr: `creating the namespaces: ${r.stderr}` };
  }
  return cp.kubectl(applyArgs(fieldManager, '--dry-run=server'), { input: yamlText });
}
