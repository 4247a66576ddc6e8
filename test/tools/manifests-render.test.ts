// Every overlay under manifests/overlays renders with `kubectl kustomize` and passes a server-side dry run
// on a real kube-apiserver, with the upstream CRDs it needs (cert-manager, prometheus-operator) installed.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../localcluster/binaries.ts';
import { installCRDs, parseDocuments, renderKustomize, serverDryRun, upstreamCRDFiles } from '../harness/manifests.ts';
import { controlPlaneFor } from '../harness/tap.ts';

const overlaysDir = join(repoRoot, 'manifests', 'overlays');
const overlays = readdirSync(overlaysDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
t.ok(overlays.includes('default') && overlays.includes('cert-manager'), `overlays: ${overlays.join(', ')}`);

const cp = await controlPlaneFor(t);
const upstream = await installCRDs(cp, upstreamCRDFiles().map((f) => readFileSync(f, 'utf8')).join('\n---\n'));
t.equal(upstream.code, 0, `upstream CRDs installed and Established: ${upstream.names.join(', ')} ${upstream.stderr}`);

for (const overlay of overlays) {
  t.test(`overlay ${overlay}`, async (t) => {
    const renderStart = performance.now();
    const text = await renderKustomize(join(overlaysDir, overlay));
    const renderMs = performance.now() - renderStart;
    const docs = parseDocuments(text);
    t.ok(docs.length > 0, `renders ${docs.length} objects`);
    const ids = docs.map((d) => `${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`);
    t.equal(new Set(ids).size, ids.length, 'no object twice');

    const dryStart = performance.now();
    const r = await serverDryRun(cp, text);
    const dryMs = performance.now() - dryStart;
    t.equal(r.code, 0, `the apiserver accepts every object:\n${r.stderr}`);
    const accepted = r.stdout.split('\n').filter((l) => l.endsWith('serverside-applied (server dry run)'));
    t.equal(accepted.length, docs.length, 'one accepted line per object');
    // PodSecurity (the namespace warns on restricted), deprecated APIs and unknown fields all surface as warnings.
    t.notMatch(r.stderr, /Warning/i, 'no warnings');
    t.comment(`${overlay}: render ${renderMs.toFixed(0)} ms, server dry run ${dryMs.toFixed(0)} ms for ${docs.length} objects`);
  });
}
