// Puts the CA bundle into every webhook entry of the webhook configurations and into CRD conversion webhooks.
import { AdmissionregistrationV1Api, ApiextensionsV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { apiFailure, apiStatus } from './errors.ts';
import type { InjectionTargets } from './names.ts';

export type InjectionKind = 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration' | 'CustomResourceDefinition';

export interface InjectionResult {
  kind: InjectionKind;
  name: string;
  /** `missing`: the object does not exist (yet); `no-webhook`: a CRD without webhook conversion; `stale`: differs (dry run only). */
  outcome: 'injected' | 'unchanged' | 'stale' | 'missing' | 'no-webhook' | 'failed';
  error?: string;
}

export interface JsonPatchOp {
  op: 'test' | 'add';
  path: string;
  value: unknown;
}

interface WebhookEntry {
  name: string;
  clientConfig?: { caBundle?: string };
}

export function caBundleBase64(caBundlePem: string): string {
  return Buffer.from(caBundlePem, 'utf8').toString('base64');
}

/** JSON Patch setting caBundle on every entry that differs; each write is guarded by a test of the entry's name. */
export function webhookCABundlePatch(webhooks: WebhookEntry[] | undefined, caBundle: string): JsonPatchOp[] {
  return (webhooks ?? []).flatMap((w, i): JsonPatchOp[] =>
    w.clientConfig?.caBundle === caBundle
      ? []
      : [
          { op: 'test', path: `/webhooks/${i}/name`, value: w.name },
          { op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle },
        ],
  );
}

/** JSON Patch for a CRD's conversion webhook caBundle; undefined when the CRD does not convert through a webhook. */
export function crdCABundlePatch(crd: V1CustomResourceDefinition, caBundle: string): JsonPatchOp[] | undefined {
  const conversion = crd.spec.conversion;
  if (conversion?.strategy !== 'Webhook' || !conversion.webhook?.clientConfig) return undefined;
  if (conversion.webhook.clientConfig.caBundle === caBundle) return [];
  return [
    { op: 'test', path: '/spec/conversion/strategy', value: 'Webhook' },
    { op: 'add', path: '/spec/conversion/webhook/clientConfig/caBundle', value: caBundle },
  ];
}

interface Target {
  kind: InjectionKind;
  name: string;
  /** The patch to send, [] when in sync, undefined when the object has nothing to inject; throws the API error on read failure. */
  plan(): Promise<JsonPatchOp[] | undefined>;
  patch(ops: JsonPatchOp[]): Promise<unknown>;
}

const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
// A failed `test` (the object changed between read and patch) comes back as 422 or 409; read again and retry.
const retryable = (status: number | undefined): boolean => status === 409 || status === 422;
const ATTEMPTS = 3;

async function injectOne(t: Target, dryRun: boolean): Promise<InjectionResult> {
  const result = (outcome: InjectionResult['outcome'], error?: string): InjectionResult => ({ kind: t.kind, name: t.name, outcome, ...(error ? { error } : {}) });
  for (let attempt = 1; ; attempt++) {
    let ops: JsonPatchOp[] | undefined;
    try {
      ops = await t.plan();
    } catch (err) {
      if (apiStatus(err) === 404) return result('missing');
      return result('failed', apiFailure(`reading ${t.kind} ${t.name}`, err).message);
    }
    if (ops === undefined) return result('no-webhook');
    if (!ops.length) return result('unchanged');
    if (dryRun) return result('stale');
    try {
      await t.patch(ops);
      return result('injected');
    } catch (err) {
      const status = apiStatus(err);
      if (status === 404) return result('missing');
      if (!retryable(status) || attempt >= ATTEMPTS) return result('failed', apiFailure(`patching ${t.kind} ${t.name}`, err).message);
    }
  }
}

/** Injects `caBundlePem` everywhere in `targets`, writing only where it differs (nowhere on a dry run); never throws for one target's failure. */
export async function injectCABundle({ kubeConfig, caBundlePem, targets, dryRun = false }: { kubeConfig: KubeConfig; caBundlePem: string; targets: InjectionTargets; dryRun?: boolean }): Promise<InjectionResult[]> {
  const admission = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const apiext = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const caBundle = caBundleBase64(caBundlePem);
  const all: Target[] = [
    ...targets.mutatingWebhookConfigurations.map((name): Target => ({
      kind: 'MutatingWebhookConfiguration',
      name,
      plan: async () => webhookCABundlePatch((await admission.readMutatingWebhookConfiguration({ name })).webhooks, caBundle),
      patch: (body) => admission.patchMutatingWebhookConfiguration({ name, body }, jsonPatch),
    })),
    ...targets.validatingWebhookConfigurations.map((name): Target => ({
      kind: 'ValidatingWebhookConfiguration',
      name,
      plan: async () => webhookCABundlePatch((await admission.readValidatingWebhookConfiguration({ name })).webhooks, caBundle),
      patch: (body) => admission.patchValidatingWebhookConfiguration({ name, body }, jsonPatch),
    })),
    ...targets.crds.map((name): Target => ({
      kind: 'CustomResourceDefinition',
      name,
      plan: async () => crdCABundlePatch(await apiext.readCustomResourceDefinition({ name }), caBundle),
      patch: (body) => apiext.patchCustomResourceDefinition({ name, body }, jsonPatch),
    })),
  ];
  const results: InjectionResult[] = [];
  for (const t of all) results.push(await injectOne(t, dryRun));
  return results;
}
