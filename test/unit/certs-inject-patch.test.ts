// The caBundle patches are JSON Patches that touch only entries that differ, each guarded by a test op.
import t from 'tap';
import type { V1CustomResourceDefinition } from '@kubernetes/client-node';
import { caBundleBase64, crdCABundlePatch, webhookCABundlePatch } from '../../certs/inject.ts';

const bundle = caBundleBase64('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');

t.test('every webhook entry that differs is patched, the ones in sync are left alone', async (t) => {
  const ops = webhookCABundlePatch(
    [
      { name: 'a.ml.example.com', clientConfig: { caBundle: bundle } },
      { name: 'b.ml.example.com', clientConfig: { caBundle: 'b2xk' } },
      { name: 'c.ml.example.com', clientConfig: {} },
    ],
    bundle,
  );
  t.same(ops, [
    { op: 'test', path: '/webhooks/1/name', value: 'b.ml.example.com' },
    { op: 'add', path: '/webhooks/1/clientConfig/caBundle', value: bundle },
    { op: 'test', path: '/webhooks/2/name', value: 'c.ml.example.com' },
    { op: 'add', path: '/webhooks/2/clientConfig/caBundle', value: bundle },
  ]);
  t.same(webhookCABundlePatch([{ name: 'a', clientConfig: { caBundle: bundle } }], bundle), [], 'nothing to write when in sync');
  t.same(webhookCABundlePatch(undefined, bundle), []);
});

const crd = (conversion: V1CustomResourceDefinition['spec']['conversion']): V1CustomResourceDefinition => ({
  spec: { group: 'ml.example.com', names: { kind: 'TrainingJob', plural: 'trainingjobs' }, scope: 'Namespaced', versions: [], conversion },
});

t.test('a CRD gets the bundle only when it converts through a webhook', async (t) => {
  const webhook = { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: { service: { name: 's', namespace: 'n' } } } };
  t.same(crdCABundlePatch(crd(webhook), bundle), [
    { op: 'test', path: '/spec/conversion/strategy', value: 'Webhook' },
    { op: 'add', path: '/spec/conversion/webhook/clientConfig/caBundle', value: bundle },
  ]);
  t.same(crdCABundlePatch(crd({ ...webhook, webhook: { ...webhook.webhook, clientConfig: { ...webhook.webhook.clientConfig, caBundle: bundle } } }), bundle), []);
  t.equal(crdCABundlePatch(crd({ strategy: 'None' }), bundle), undefined);
  t.equal(crdCABundlePatch(crd(undefined), bundle), undefined);
});
