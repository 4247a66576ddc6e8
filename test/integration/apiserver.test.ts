// The harness's kube-apiserver is the real thing: built release, CRDs, custom objects via kubectl.
import t from 'tap';
import { controlPlaneFor } from '../harness/tap.ts';
import { getText } from '../../localcluster/http.ts';

const cp = await controlPlaneFor(t);

t.test('/version reports the release the binaries were built from', async (t) => {
  const res = await getText(`${cp.server}/version`, cp.admin);
  t.equal(res.status, 200);
  const v = JSON.parse(res.body) as { gitVersion: string; major: string; minor: string };
  t.equal(v.gitVersion, 'v1.34.4');
  t.equal(v.major, '1');
  t.equal(v.minor, '34');
  const kubectl = await cp.kubectl(['version', '-o', 'json']);
  t.equal(kubectl.code, 0, 'exit code 0', { output: kubectl.stderr });
  const both = JSON.parse(kubectl.stdout) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
  t.equal(both.clientVersion.gitVersion, 'v1.34.4', 'kubectl is the built release too');
  t.equal(both.serverVersion.gitVersion, 'v1.34.4');
});

t.test('RBAC is enforced: an unauthenticated request is refused', async (t) => {
  const res = await getText(`${cp.server}/api/v1/namespaces`, { caPem: cp.caPem });
  t.equal(res.status, 403);
});

const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.harness.example.com
spec:
  group: harness.example.com
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget }
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: { type: integer, minimum: 1 }
`;

t.test('a CRD is created and a custom object written and read back with kubectl', async (t) => {
  const created = await cp.kubectl(['apply', '-f', '-'], { input: crd });
  t.equal(created.code, 0, 'exit code 0', { output: created.stderr });
  const est = await cp.kubectl(['wait', '--for=condition=Established', '--timeout=30s', 'crd/widgets.harness.example.com']);
  t.equal(est.code, 0, 'exit code 0', { output: est.stderr });
  const obj = 'apiVersion: harness.example.com/v1\nkind: Widget\nmetadata: { name: w1, namespace: default }\nspec: { size: 3 }\n';
  const applied = await cp.kubectl(['apply', '-f', '-'], { input: obj });
  t.equal(applied.code, 0, 'exit code 0', { output: applied.stderr });
  t.match(applied.stdout, 'widget.harness.example.com/w1 created');
  const got = await cp.kubectl(['get', 'widget', 'w1', '-n', 'default', '-o', 'json']);
  t.equal(got.code, 0, 'exit code 0', { output: got.stderr });
  t.equal((JSON.parse(got.stdout) as { spec: { size: number } }).spec.size, 3);
  const bad = await cp.kubectl(['apply', '-f', '-'], { input: obj.replace('size: 3', 'size: 0') });
  t.not(bad.code, 0, 'the schema is enforced by the real apiserver');
  t.match(bad.stderr, /spec\.size: Invalid value: 0: spec\.size in body should be greater than or equal to 1/);
});
