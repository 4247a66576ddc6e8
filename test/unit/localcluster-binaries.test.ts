// Which binaries a build covers: the local cluster's for `cluster up` and the demo, the real node's for `--node real`,
// the tests' own (argocd, and kustomize for the real node's Argo CD image) only for npm test's setup, a benchmark's only when named; `cluster build --for` refuses anything else.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { binariesFor, binarySpecs, repoRoot } from '../../localcluster/binaries.ts';

const names = (specs: readonly { name: string }[]): string[] => specs.map((s) => s.name);
const cluster = ['etcd', 'kube-apiserver', 'kubectl', 'kube-controller-manager', 'kube-scheduler', 'kwok'];
const node = ['kubelet', 'kube-proxy', 'containerd', 'containerd-shim-runc-v2', 'ctr', 'coredns'];

t.test('the demo and cluster up build the cluster only; the real node adds its own; the tests add the argocd CLI and kustomize; benchmarks name theirs', async (t) => {
  t.same(names(binariesFor('cluster')), cluster, 'no node binaries, no argocd, no benchmark binaries');
  t.same(names(binariesFor('node')).sort(), [...cluster, ...node].sort(), 'the real node\'s daemons too');
  t.same(names(binariesFor('tests')).sort(), [...cluster, ...node, 'argocd', 'kustomize'].sort());
  const benchOnly = binarySpecs.filter((s) => !binariesFor('tests').includes(s));
  t.same(names(benchOnly), ['opa', 'vegeta', 'kueue'], 'built only when a benchmark names them');
});

t.test('cluster build --for takes node, tests or cluster: anything else is a usage error, before any build', async (t) => {
  const res = spawnSync(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), 'cluster', 'build', '--for', 'demo'], { encoding: 'utf8' });
  t.equal(res.status, 2);
  t.match(res.stderr, /--for takes "node" or "tests" \(or "cluster", the default\), got "demo"/);
});
