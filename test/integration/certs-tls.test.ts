// The apiserver itself trusts what the manager serves: it calls an HTTPS webhook before and after a CA rotation.
import t from 'tap';
import { createServer, type Server } from 'node:https';
import { connect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { controlPlaneFor, eventually } from '../harness/tap.ts';
import { repoRoot } from '../../localcluster/binaries.ts';
import { runCommand } from '../../localcluster/controlplane.ts';
import { recordingLogger } from '../fixtures/cert-targets.ts';
import { startCertManager } from '../../certs/manager.ts';

const cp = await controlPlaneFor(t);
for (const args of [['create', 'namespace', 'trainingjob-system'], ['create', 'namespace', 'tls-probe'], ['label', 'namespace', 'tls-probe', 'certs-test/probe=true']]) {
  const res = await cp.kubectl(args);
  if (res.code !== 0) throw new Error(res.stderr);
}

const none = { mutatingWebhookConfigurations: [], crds: [] };
const manager = await startCertManager({
  kubeConfig: cp.kubeConfig(),
  logger: recordingLogger(),
  targets: { ...none, validatingWebhookConfigurations: ['trainingjob-validating'] },
  // How a webhook server takes a rotated certificate without dropping connections.
  onRotate: (pem) => server.setSecureContext({ cert: pem.certPem, key: pem.keyPem }),
});
let calls = 0;
const server: Server = createServer({ cert: manager.current().certPem, key: manager.current().keyPem }, (req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    calls++;
    const review = JSON.parse(body) as { request: { uid: string } };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request.uid, allowed: true } }));
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;
t.teardown(async () => {
  await manager.stop();
  await new Promise((r) => server.close(r));
});

/** The serial number of the certificate the server presents right now. */
function servedSerial(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()?.serialNumber ?? '');
      socket.end();
    });
    socket.on('error', reject);
  });
}

let n = 0;
/** A ConfigMap create in the probe namespace succeeds only if the apiserver reached the webhook over verified TLS. */
async function admittedThroughWebhook(): Promise<true | undefined> {
  const before = calls;
  const res = await cp.kubectl(['create', 'configmap', `probe-${++n}`, '-n', 'tls-probe']);
  return res.code === 0 && calls > before ? true : undefined;
}

t.test('a webhook configuration created after the manager started gets the caBundle, and the apiserver accepts the served certificate', async (t) => {
  const cfg = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: { name: trainingjob-validating }
webhooks:
- name: probe.certs.ml.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Fail
  timeoutSeconds: 5
  clientConfig: { url: "https://127.0.0.1:${port}/validate" }
  namespaceSelector: { matchLabels: { certs-test/probe: "true" } }
  rules: [{ apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps] }]
`;
  const res = await cp.kubectl(['apply', '-f', '-'], { input: cfg });
  t.equal(res.code, 0, 'exit code 0', { output: res.stderr });
  t.equal(await eventually(admittedThroughWebhook, 30_000, 500), true, 'failurePolicy Fail, yet the create went through the webhook');
});

t.test('after `certs rotate --ca` the server switches to a leaf of the new CA and the apiserver still accepts it', async (t) => {
  const oldSerial = await servedSerial();
  const rotate = await runCommand(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), 'certs', 'rotate', '--ca', '--kubeconfig', cp.kubeconfigPath], process.env);
  t.equal(rotate.code, 0, 'exit code 0', { output: rotate.stderr });
  const newSerial = await eventually(async () => {
    const s = await servedSerial();
    return s !== oldSerial ? s : undefined;
  }, 30_000);
  t.ok(newSerial, 'the manager saw the Secret change and handed the server the new certificate');
  t.equal(newSerial, new X509Certificate(manager.current().certPem).serialNumber);
  t.equal(await eventually(admittedThroughWebhook, 30_000, 500), true, 'the apiserver trusts the new chain');
});
