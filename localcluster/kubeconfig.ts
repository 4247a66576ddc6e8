// Kubeconfig files for the local control plane (certificates embedded, so the file stands alone).
import { stringify } from 'yaml';

export interface KubeconfigInput {
  server: string;
  caPem: string;
  user: string;
  certPem?: string;
  keyPem?: string;
  token?: string;
  cluster?: string;
  namespace?: string;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

export function renderKubeconfig(k: KubeconfigInput): string {
  const cluster = k.cluster ?? 'trainingjob-local';
  const user: Record<string, string> = {};
  if (k.certPem && k.keyPem) {
    user['client-certificate-data'] = b64(k.certPem);
    user['client-key-data'] = b64(k.keyPem);
  }
  if (k.token) user.token = k.token;
  const context: Record<string, string> = { cluster, user: k.user };
  if (k.namespace) context.namespace = k.namespace;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: k.server, 'certificate-authority-data': b64(k.caPem) } }],
    users: [{ name: k.user, user }],
    contexts: [{ name: cluster, context }],
    'current-context': cluster,
    preferences: {},
  });
}
