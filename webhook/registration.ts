// The Mutating/ValidatingWebhookConfigurations, built in one place for the in-cluster Service
// and for local runs by URL, so both register exactly the same rules.
import type { V1MutatingWebhookConfiguration, V1ValidatingWebhookConfiguration, AdmissionregistrationV1WebhookClientConfig } from '@kubernetes/client-node';
import { GROUP, TRAININGJOB_PLURAL, TRAININGPOLICY_PLURAL, V1, WEBHOOK_SERVICE } from '../api/index.ts';
import { routes } from './app.ts';

export const mutatingConfigName = 'trainingjob-mutating';
export const validatingConfigName = 'trainingjob-validating';
export const platformNamespace = WEBHOOK_SERVICE.namespace;

export type Endpoint = { url: string } | { service: { name: string; namespace: string; port?: number } };

export interface RegistrationOptions {
  endpoint: Endpoint;
  /** PEM of the CA that signed the serving certificate; omitted when injected later. */
  caBundlePem?: string;
}

function clientConfig(opts: RegistrationOptions, path: string): AdmissionregistrationV1WebhookClientConfig {
  const caBundle = opts.caBundlePem ? { caBundle: Buffer.from(opts.caBundlePem).toString('base64') } : {};
  if ('url' in opts.endpoint) return { url: `${opts.endpoint.url}${path}`, ...caBundle };
  return { service: { ...opts.endpoint.service, path, port: opts.endpoint.service.port ?? 443 }, ...caBundle };
}

// System namespaces and our own stay writable even when the webhook is down (failurePolicy Fail).
const namespaceSelector = {
  matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'kube-public', 'kube-node-lease', platformNamespace] }],
};

// generateName is resolved after the mutating phase: only the validating step sees the ledger key.
export const generatedName = { name: 'generated-name', expression: "request.operation == 'CREATE' && has(object.metadata.generateName)" };

const trainingJobRule = { apiGroups: [GROUP], apiVersions: [V1], operations: ['CREATE', 'UPDATE'], resources: [TRAININGJOB_PLURAL], scope: 'Namespaced' };

export function mutatingWebhookConfiguration(opts: RegistrationOptions): V1MutatingWebhookConfiguration {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: mutatingConfigName, labels: { 'app.kubernetes.io/part-of': 'trainingjob' } },
    webhooks: [{
      name: 'trainingjob.ml.example.com',
      admissionReviewVersions: ['v1'],
      clientConfig: clientConfig(opts, routes.mutateTrainingJob),
      rules: [trainingJobRule],
      // v1alpha1 writes are converted to v1 first, so one webhook sees every version.
      matchPolicy: 'Equivalent',
      failurePolicy: 'Fail',
      // A named job's GPUs are reserved in the ledger here (not on dry runs), so a create costs one call.
      sideEffects: 'NoneOnDryRun',
      timeoutSeconds: 5,
      reinvocationPolicy: 'IfNeeded',
      namespaceSelector,
    }],
  };
}

export function validatingWebhookConfiguration(opts: RegistrationOptions): V1ValidatingWebhookConfiguration {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: validatingConfigName, labels: { 'app.kubernetes.io/part-of': 'trainingjob' } },
    webhooks: [
      {
        name: 'trainingjob.ml.example.com',
        admissionReviewVersions: ['v1'],
        clientConfig: clientConfig(opts, routes.validateTrainingJob),
        rules: [trainingJobRule],
        matchPolicy: 'Equivalent',
        failurePolicy: 'Fail',
        // Admissions record GPU reservations in a ledger ConfigMap, except for dry runs.
        sideEffects: 'NoneOnDryRun',
        timeoutSeconds: 5,
        namespaceSelector,
        // Only creates whose name the mutating step could not know: it decided and reserved every other write.
        matchConditions: [generatedName],
      },
      {
        name: 'trainingpolicy.ml.example.com',
        admissionReviewVersions: ['v1'],
        clientConfig: clientConfig(opts, routes.validateTrainingPolicy),
        rules: [{ apiGroups: [GROUP], apiVersions: [V1], operations: ['CREATE', 'UPDATE'], resources: [TRAININGPOLICY_PLURAL], scope: 'Cluster' }],
        matchPolicy: 'Equivalent',
        // Policy edits stay possible while the webhook is down (an outage blocks TrainingJob writes only); the CRD schema still applies.
        failurePolicy: 'Ignore',
        sideEffects: 'None',
        timeoutSeconds: 5,
      },
    ],
  };
}
