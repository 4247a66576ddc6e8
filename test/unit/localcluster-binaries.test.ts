// Which binaries a build covers: the local cluster's for `cluster up` and the demo, the tests' own (argocd) only
// for npm test's setup, a benchmark's only when named; `cluster build --for` refuses anything else.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { binariesFor, binarySpecs, repoRoot } from '../../localcluster/binaries.ts';

const names = (specs: readonly { name: string }[]): string[] => specs.map((s) => s.name);
const cluster = ['etcd', 'kube-apiserver', 'kubectl', 'kube-controller-manager', 'kube-scheduler', 'kwok'];

t.test('the demo and cluster up build the cluster only; the tests add the argocd CLI; benchmarks name theirs', async (t) => {
  t.same(names(binariesFor('cluster')), cluster, 'no argocd, no benchmark binaries');
  t.same(names(binariesFor('tests')), [...cluster, 'argocd']);
  const benchOnly = binarySpecs.filter((s) => !binariesFor('tests').includes(s));
  t.same(names(benchOnly), ['opa', 'vegeta'], 'built only when a benchmark names them');
});

t.test('cluster build --for takes tests or cluster: anything else is a usage error, before any build', async (t) => {
  const res = spawnSync(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), 'cluster', 'build', '--for', 'demo'], { encoding: 'utf8' });
  t.equal(res.status, 2);
  t.match(res.stderr, /--for takes "tests" \(or "cluster", the default\), got "demo"/);
});
