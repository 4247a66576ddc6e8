// Where the certificates go by default: the webhook Service's DNS names, the Secret, the objects that carry the caBundle.
import { GROUP, TRAININGJOB_PLURAL, WEBHOOK_SERVICE } from '../api/group.ts';

export interface ServingNames {
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
}

export interface SecretRef {
  name: string;
  namespace: string;
}

export interface InjectionTargets {
  mutatingWebhookConfigurations: string[];
  validatingWebhookConfigurations: string[];
  /** CRDs whose conversion webhook gets the caBundle. */
  crds: string[];
}

/** Every name a client may use for a Service, plus loopback for local runs. */
export function serviceNames(service: { name: string; namespace: string } = WEBHOOK_SERVICE, extra: { dnsNames?: string[]; ipAddresses?: string[] } = {}): ServingNames {
  const { name, namespace } = service;
  const dnsNames = [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`, 'localhost', ...(extra.dnsNames ?? [])];
  const ipAddresses = ['127.0.0.1', ...(extra.ipAddresses ?? [])];
  return { commonName: `${name}.${namespace}.svc`, dnsNames: [...new Set(dnsNames)], ipAddresses: [...new Set(ipAddresses)] };
}

export const DEFAULT_SECRET: Readonly<SecretRef> = Object.freeze({ name: 'trainingjob-webhook-certs', namespace: WEBHOOK_SERVICE.namespace });

export const DEFAULT_TARGETS: Readonly<InjectionTargets> = Object.freeze({
  mutatingWebhookConfigurations: ['trainingjob-mutating'],
  validatingWebhookConfigurations: ['trainingjob-validating'],
  crds: [`${TRAININGJOB_PLURAL}.${GROUP}`],
});

export const CA_COMMON_NAME = 'trainingjob-webhook-ca';
