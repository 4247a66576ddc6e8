// Puts the CA bundle into every webhook entry of the webhook configurations and into CRD conversion webhooks.
import type { V1CustomResourceDefinition } from '@kubernetes/client-node';
import { isNotFound, statusCode, type KubeClient, type ResourceRef } from '../kube/index.ts';
import { apiFailure } from './errors.ts';
import type { InjectionTargets } from './names.ts';

export type InjectionKind = 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration' | 'CustomResourceDefinition';

/** Where each kind of injection target lives (all cluster-scoped). */
export const INJECTION_RESOURCES: Record<InjectionKind, ResourceRef> = {
  MutatingWebhookConfiguration: { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'mutatingwebhookconfigurations' },
  ValidatingWebhookConfiguration: { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingwebhookconfigurations' },
  CustomResourceDefinition: { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions' },
};

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
  /** The patch to send for the object as read, [] when in sync, undefined when the object has nothing to inject. */
  plan(obj: unknown): JsonPatchOp[] | undefined;
}

// A failed `test` (the object changed between read and patch) comes back as 422 or 409; read again and retry.
const retryable = (status: number | undefined): boolean => status === 409 || status === 422;
const ATTEMPTS = 3;

async function injectOne(client: KubeClient, t: Target, dryRun: boolean): Promise<InjectionResult> {
  const result = (outcome: InjectionResult['outcome'], error?: string): InjectionResult => ({ kind: t.kind, name: t.name, outcome, ...(error ? { error } : {}) });
  const ref = { ...INJECTION_RESOURCES[t.kind], name: t.name };
  for (let attempt = 1; ; attempt++) {
    let ops: JsonPatchOp[] | undefined;
    try {
      ops = t.plan(await client.get(ref));
    } catch (err) {
      if (isNotFound(err)) return result('missing');
      return result('failed', apiFailure(`reading ${t.kind} ${t.name}`, err).message);
    }
    if (ops === undefined) return result('no-webhook');
    if (!ops.length) return result('unchanged');
    if (dryRun) return result('stale');
    try {
      await client.patch(ref, ops, 'json');
      return result('injected');
    } catch (err) {
      const status = statusCode(err);
      if (status === 404) return result('missing');
      if (!retryable(status) || attempt >= ATTEMPTS) return result('failed', apiFailure(`patching ${t.kind} ${t.name}`, err).message);
    }
  }
}

/** Injects `caBundlePem` everywhere in `targets`, writing only where it differs (nowhere on a dry run); never throws for one target's failure. */
export async function injectCABundle({ client, caBundlePem, targets, dryRun = false }: { client: KubeClient; caBundlePem: string; targets: InjectionTargets; dryRun?: boolean }): Promise<InjectionResult[]> {
  const caBundle = caBundleBase64(caBundlePem);
  const webhooks = (obj: unknown): JsonPatchOp[] => webhookCABundlePatch((obj as { webhooks?: WebhookEntry[] }).webhooks, caBundle);
  const all: Target[] = [
    ...targets.mutatingWebhookConfigurations.map((name): Target => ({ kind: 'MutatingWebhookConfiguration', name, plan: webhooks })),
    ...targets.validatingWebhookConfigurations.map((name): Target => ({ kind: 'ValidatingWebhookConfiguration', name, plan: webhooks })),
    ...targets.crds.map((name): Target => ({ kind: 'CustomResourceDefinition', name, plan: (obj) => crdCABundlePatch(obj as V1CustomResourceDefinition, caBundle) })),
  ];
  const results: InjectionResult[] = [];
  for (const t of all) results.push(await injectOne(client, t, dryRun));
  return results;
}
