// The Dockerfile, checked statically (there is no container engine here): multi-stage, dev dependencies
// pruned, numeric non-root user, ENTRYPOINT our CLI, every module the shipped commands load copied in,
// and the image name it documents is the one the rendered Deployments run.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import { repoRoot } from '../../localcluster/binaries.ts';
import { contextFiles } from '../../localcluster/realnode/images/context.ts';
import { parseDocuments, renderKustomize } from '../harness/manifests.ts';

interface Instruction { op: string; args: string; line: number }
interface Stage { from: string; name?: string; instructions: Instruction[] }

const text = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };

// Instructions with continuation lines joined; comments dropped.
function parseDockerfile(src: string): Stage[] {
  const stages: Stage[] = [];
  let pending = '';
  let startLine = 0;
  src.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) return;
    if (!pending) startLine = i + 1;
    pending += `${line.replace(/\\$/, '')} `;
    if (line.endsWith('\\')) return;
    const [op = '', ...rest] = pending.trim().split(/\s+/);
    const args = rest.join(' ');
    pending = '';
    if (op.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: m?.[1] ?? args, ...(m?.[2] ? { name: m[2] } : {}), instructions: [] });
    } else stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args, line: startLine });
  });
  return stages;
}

const stages = parseDockerfile(text);
const final = stages.at(-1)!;
const runs = (s: Stage): string => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');

t.test('multi-stage: dependencies installed with npm ci, dev dependencies pruned before the runtime stage', async (t) => {
  t.ok(stages.length >= 2, `${stages.length} stages`);
  const build = stages[0]!;
  t.ok(build.name, `the build stage is named (${build.name})`);
  t.match(build.from, /^node:24[.-]/, 'build stage on node:24');
  t.match(runs(build), /\bnpm ci\b/, 'npm ci (the lockfile, exactly)');
  t.match(runs(build), /npm prune --omit=dev|npm ci [^\n]*--omit=dev/, 'dev dependencies pruned');
  const copies = final.instructions.filter((i) => i.op === 'COPY');
  t.notOk(copies.some((c) => /(^|\s)\.\s+\.\/?$/.test(c.args) && !c.args.includes('--from')), 'the runtime stage never copies the whole build context');
  t.ok(copies.some((c) => c.args.includes(`--from=${build.name}`) && /node_modules/.test(c.args)), 'node_modules come from the build stage (pruned)');
  const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
  t.ok(ignore.includes('node_modules') && ignore.includes('.git'), '.dockerignore keeps local node_modules and .git out of the context');
  const shipped = contextFiles(repoRoot);
  t.notOk(shipped.some((f) => /^(test|bench|examples)\//.test(f) || f.endsWith('.md')), 'tests, benches and docs are not in the context, so editing them never rebuilds the image');
  for (const dir of ['api', 'bin', 'cli', 'controller', 'webhook', 'policies', 'kube', 'certs', 'clock']) t.ok(shipped.some((f) => f.startsWith(`${dir}/`)), `${dir}/ is in the context`);
});

t.test('runtime: Node 24 like the node@24 dev dependency, numeric non-root user, ENTRYPOINT the trainingjob CLI', async (t) => {
  const major = /\d+/.exec(pkg.devDependencies.node ?? '')?.[0];
  t.ok(major && (final.from.startsWith(`node:${major}`) || final.from.includes(`distroless/nodejs${major}`)), `runtime base ${final.from} has Node ${major}`);
  const users = final.instructions.filter((i) => i.op === 'USER');
  const user = users.at(-1)?.args ?? '';
  t.match(user, /^\d+(:\d+)?$/, `USER ${user} is numeric (runAsNonRoot can verify it)`);
  t.not(Number(user.split(':')[0]), 0, 'and not root');
  const entry = final.instructions.filter((i) => i.op === 'ENTRYPOINT').at(-1);
  t.ok(entry && users.at(-1)!.line < entry.line, 'USER is set before the ENTRYPOINT');
  const argv = JSON.parse(entry?.args ?? 'null') as string[] | null;
  t.ok(Array.isArray(argv), 'ENTRYPOINT in exec form (signals reach Node, not a shell)');
  const workdir = final.instructions.filter((i) => i.op === 'WORKDIR').at(-1)?.args ?? '/';
  t.equal(argv?.[0], 'node');
  t.equal(argv?.[1] && resolve(workdir, argv[1]), resolve(workdir, pkg.bin.trainingjob!), `runs package.json's bin ${pkg.bin.trainingjob}`);
  t.notMatch(runs(final), /\b(chown|chmod)\b[^\n]*(65532|\/app)/, 'the code stays root-owned: the app user cannot rewrite it');
});

// Relative modules reachable from the entry point through the commands a Deployment runs.
function closure(entries: string[], skip: string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>(skip);
  const packages = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const src = readFileSync(join(repoRoot, file), 'utf8');
    for (const m of src.matchAll(/(?:^|\n)\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      if (m[1]) continue; // `import type` is erased by type stripping
      const spec = (m[2] ?? m[3])!;
      if (spec.startsWith('.')) queue.push(relative(repoRoot, resolve(repoRoot, dirname(file), spec)));
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  for (const f of skip) files.delete(f);
  return { files, packages };
}

t.test('the image holds every module the webhook, controller, certs and validate commands load', async (t) => {
  // cluster and demo need the Go-built control plane (localcluster/): not part of the image.
  const { files, packages } = closure([pkg.bin.trainingjob!], ['cli/cluster.ts', 'cli/demo.ts']);
  for (const cmd of ['webhook', 'controller', 'certs', 'validate']) t.ok(files.has(`cli/${cmd}.ts`), `the ${cmd} command is followed`);
  const copied = final.instructions.filter((i) => i.op === 'COPY').map((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1)).flat()
    .map((src) => relative('/src', resolve('/src', src)));
  for (const f of [...files].sort()) {
    t.ok(existsSync(join(repoRoot, f)) && copied.some((c) => f === c || f.startsWith(`${c}/`)), `${f} is copied into the image`);
  }
  for (const p of [...packages].sort()) t.ok(pkg.dependencies[p], `${p} is a production dependency (dev dependencies are pruned)`);
  t.ok(files.size > 20, `${files.size} modules followed`);
});

t.test('the image the Dockerfile documents is the one every rendered Deployment runs', async (t) => {
  const documented = /^#\s*image:\s*(\S+)/m.exec(text)?.[1];
  t.equal(documented, `ghcr.io/example/trainingjob:${pkg.version}`, 'documented image tag is package.json version');
  t.match(text, new RegExp(`org\\.opencontainers\\.image\\.version="${pkg.version.replace(/\./g, '\\.')}"`), 'image version label matches');
  for (const overlay of ['default', 'cert-manager']) {
    const docs = parseDocuments(await renderKustomize(join(repoRoot, 'manifests', 'overlays', overlay)));
    const images = docs.filter((d) => d.kind === 'Deployment').flatMap((d) => (d as unknown as V1Deployment).spec!.template.spec!.containers.map((c) => c.image));
    t.ok(images.length >= 2, `${overlay}: ${images.length} containers`);
    t.ok(images.every((i) => i === documented), `${overlay}: every container runs ${documented}`);
  }
});
