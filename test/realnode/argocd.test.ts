// Argo CD for real: its own core-install.yaml (v3.2.11, images built here) on the real node rolls the platform out
// from a GitOps repository on the node's git server, as argocd/README.md tells users, and shows TrainingJob health
// from our Lua. Every assertion reads what Argo CD itself reports: the Application objects its controller writes.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ensureBinaries } from '../../localcluster/binaries.ts';
import { runCommand, type CommandResult } from '../../localcluster/process.ts';
import { cloneWorkingCopy, seedBareRepo, type WorkingCopy } from '../../localcluster/git-cli.ts';
import { ensureArgoCdImages, manifestImages } from '../../localcluster/realnode/argocd-images.ts';
import { applyArgoCdApps, ARGOCD_NAMESPACE, coreInstallForNode, installArgoCd, requestRefresh, seedGitOpsRepo } from '../../localcluster/realnode/argocd-install.ts';
import { realNodeUnsupported } from '../../localcluster/realnode/support.ts';
import { controlPlaneFor, eventually, kubectlOrThrow } from '../harness/tap.ts';
import { startCreateStream, streamGpusHeld } from '../harness/create-stream.ts';

const unsupported = realNodeUnsupported();
if (unsupported) {
  t.test('Argo CD on the real node', { skip: `skipped: ${unsupported}` }, async () => {});
} else {
  await argoCdTier();
}

interface Application {
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  status?: {
    sync?: { status?: string; revision?: string };
    health?: { status?: string; message?: string };
    reconciledAt?: string;
    operationState?: { phase?: string; message?: string; syncResult?: { resources?: { kind: string; name: string; status?: string; syncPhase?: string; message?: string }[] } };
    resources?: { group?: string; kind: string; name: string; namespace?: string; status?: string; health?: { status?: string; message?: string } }[];
    conditions?: { type: string; message: string }[];
  };
}

async function argoCdTier(): Promise<void> {
  const gitRoot = mkdtempSync(join(tmpdir(), 'argocd-git-'));
  t.teardown(() => rmSync(gitRoot, { recursive: true, force: true }));
  const cp = await controlPlaneFor(t, { realNode: { gpus: 4, gitRoot }, startTimeoutMs: 180_000 });
  const kubectl = kubectlOrThrow(cp);
  const node = cp.realNode!;
  const images = await ensureArgoCdImages({ networkBuilds: false, progress: (l) => t.comment(l) });
  const app = async (name: string): Promise<Application | undefined> => {
    const r = await cp.kubectl(['-n', ARGOCD_NAMESPACE, 'get', 'applications.argoproj.io', name, '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as Application) : undefined;
  };
  const describe = (a: Application | undefined): string => JSON.stringify({ sync: a?.status?.sync, health: a?.status?.health, operation: a?.status?.operationState?.phase, message: a?.status?.operationState?.message, conditions: a?.status?.conditions });
  // The argocd CLI in core mode, as a platform team without argocd-server runs it: kubeconfig namespace argocd.
  const { argocd: argocdBin } = await ensureBinaries({ only: ['argocd'] });
  const coreHome = mkdtempSync(join(tmpdir(), 'argocd-core-'));
  t.teardown(() => rmSync(coreHome, { recursive: true, force: true }));
  const coreKubeconfig = join(coreHome, 'kubeconfig');
  copyFileSync(cp.kubeconfigPath, coreKubeconfig);
  await kubectl(['--kubeconfig', coreKubeconfig, 'config', 'set-context', '--current', '--namespace', ARGOCD_NAMESPACE]);
  const argocdCore = (args: string[]): Promise<CommandResult> => runCommand(argocdBin!, [...args, '--core'], { ...process.env, KUBECONFIG: coreKubeconfig, HOME: coreHome });
  // One resource's row of `argocd app get --core -o tree=detailed`: its health, and the health message (REASON, last).
  const treeRow = async (appName: string, kindName: string): Promise<{ health?: string; line: string }> => {
    const r = await argocdCore(['app', 'get', appName, '-o', 'tree=detailed']);
    if (r.code !== 0) throw new Error(`argocd app get ${appName} --core: ${r.stderr.trim()}`);
    const line = (r.stdout.split('\n').find((l) => l.replace(/^[\s│├└─]+/, '').startsWith(`${kindName} `)) ?? '').replace(/^[\s│├└─]+/, '');
    // A managed resource's row: KIND/NAME STATUS HEALTH AGE …; an empty HEALTH leaves AGE right after STATUS.
    const health = new RegExp(`^${kindName.replace(/\./g, '\\.')}\\s+(?:Synced|OutOfSync|Unknown)\\s+(Healthy|Progressing|Degraded|Suspended|Missing|Unknown)\\s+\\S+`).exec(line)?.[1];
    return { ...(health ? { health } : {}), line: line.replace(/\s+/g, ' ').trim() };
  };
  const action = (appName: string, name: string, what: string): Promise<CommandResult> =>
    argocdCore(['app', 'actions', 'run', appName, what, '--kind', 'TrainingJob', '--resource-name', name, '--namespace', 'team-a']);
  let wc: WorkingCopy | undefined;
  // A TrainingJob file in team-a's folder (named in its kustomization), pushed; then a refresh, as a push hook would ask.
  const commitTeamAJob = async (name: string, holdSeconds: number): Promise<void> => {
    const job = {
      apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, namespace: 'team-a', labels: { team: 'team-a' } },
      spec: { model: name, dataset: 'none', image: node.images.worker.ref, args: [`--hold=${holdSeconds}`], numWorkers: 1, gpusPerWorker: 1, checkpoint: { enabled: false }, hyperparameters: { learningRate: 0.01, batchSize: 8, epochs: 1 } },
    };
    const folder = 'manifests/teams/team-a';
    const kustomization = readFileSync(join(wc!.dir, folder, 'kustomization.yaml'), 'utf8');
    // JSON is YAML too.
    await wc!.commitAndPush({ [`${folder}/${name}.yaml`]: `${JSON.stringify(job, null, 2)}\n`, [`${folder}/kustomization.yaml`]: `${kustomization.trimEnd()}\n  - ${name}.yaml\n` }, `team-a: TrainingJob ${name}`);
    await requestRefresh(cp, 'trainingjob-team-a');
  };
  // Refreshes an Application and waits until Argo CD has visibly compared it again: reconciledAt moved, the request consumed.
  const comparedAgain = async (name: string, mode: 'normal' | 'hard'): Promise<Application | undefined> => {
    const before = (await app(name))?.status?.reconciledAt;
    await requestRefresh(cp, name, mode);
    return eventually(async () => {
      const a = await app(name);
      return a?.status?.reconciledAt !== before && !a?.metadata.annotations?.['argocd.argoproj.io/refresh'] ? a : undefined;
    }, 120_000, 1000);
  };
  t.teardown(() => wc?.remove());

  t.test('Argo CD\'s own core-install.yaml runs on the real node, from images built here under the names it references', async (t) => {
    t.same(manifestImages(coreInstallForNode()).sort(), ['public.ecr.aws/docker/library/redis:8.2.2-alpine', 'quay.io/argoproj/argocd:v3.2.11'], 'the manifest runs upstream\'s two images');
    t.same([images.argocd.ref, images.redis.ref], ['quay.io/argoproj/argocd:v3.2.11', 'public.ecr.aws/docker/library/redis:8.2.2-alpine'], 'built here under those names');
    const started = Date.now();
    await installArgoCd(cp, node, images, { progress: (l) => t.comment(l) });
    t.comment(`Argo CD installed and rolled out in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const pods = JSON.parse(await kubectl(['-n', ARGOCD_NAMESPACE, 'get', 'pods', '-o', 'json'])) as { items: { metadata: { name: string }; status: { phase: string } }[] };
    const names = pods.items.map((p) => p.metadata.name);
    for (const prefix of ['argocd-application-controller-0', 'argocd-repo-server-', 'argocd-redis-', 'argocd-applicationset-controller-']) {
      t.ok(pods.items.some((p) => p.metadata.name.startsWith(prefix) && p.status.phase === 'Running'), `${prefix}… Running (pods: ${names.join(', ')})`);
    }
  });

  t.test('the platform, rolled out by Argo CD from Git in wave order, is Synced and Healthy', async (t) => {
    await seedGitOpsRepo(gitRoot, 'platform', { repoUrl: `${node.gitUrl}/platform.git`, jobsUrl: `${node.gitUrl}/jobs.git` });
    // The teams' jobs repository their JobRepository objects sync from: one folder per team.
    await seedBareRepo(gitRoot, 'jobs', 'team folders', (dir) => {
      for (const team of ['team-a', 'team-b']) {
        mkdirSync(join(dir, team));
        writeFileSync(join(dir, team, 'README.md'), `${team}'s jobs\n`);
      }
    });
    wc = await cloneWorkingCopy({ url: `${node.gitHostUrl}/platform.git`, branch: 'main' });
    t.match(readFileSync(join(wc.dir, 'argocd', 'platform-application.yaml'), 'utf8'), `repoURL: ${node.gitUrl}/platform.git`, 'the clone\'s Application names the node\'s git server');
    const started = Date.now();
    await applyArgoCdApps(cp, wc.dir, (l) => t.comment(l));
    let last: Application | undefined;
    const healthy = await eventually(async () => {
      last = await app('trainingjob-platform');
      return last?.status?.sync?.status === 'Synced' && last.status.health?.status === 'Healthy' && last.status.operationState?.phase === 'Succeeded' ? last : undefined;
    }, 420_000, 1000);
    t.ok(healthy, `trainingjob-platform Synced and Healthy: ${describe(last)}`);
    if (!healthy) return;
    t.comment(`empty cluster → platform Synced and Healthy through Argo CD: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    t.equal(healthy.status!.sync!.revision, await wc.head(), 'at the commit pushed');
    // The last operation may be a self-heal, which lists only what it re-applied: the Application's resources list them all.
    const lastSync = (healthy.status!.operationState!.syncResult!.resources ?? []).map((r) => `${r.kind}/${r.name}`);
    t.comment(`the last sync operation applied: ${lastSync.join(', ')}`);
    const managed = healthy.status!.resources ?? [];
    for (const kind of ['CustomResourceDefinition', 'Deployment', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'Namespace']) {
      const found = managed.some((r) => r.kind === kind && r.status === 'Synced');
      t.ok(found, `Argo CD lists a Synced ${kind}${found ? '' : ` (managed: ${managed.map((r) => `${r.kind}/${r.name}: ${r.status}`).join(', ')})`}`);
    }
    // Waves: the webhook configurations (2) only after the webhook (1) is Available, the controller (3) after them.
    const created = async (kind: string, name: string, ns?: string): Promise<number> => Date.parse(await kubectl([...(ns ? ['-n', ns] : []), 'get', kind, name, '-o', 'jsonpath={.metadata.creationTimestamp}']));
    const webhookAvailable = Date.parse(await kubectl(['-n', 'trainingjob-system', 'get', 'deployment', 'webhook', '-o', 'jsonpath={.status.conditions[?(@.type=="Available")].lastTransitionTime}']));
    const mutating = await created('mutatingwebhookconfiguration', 'trainingjob-mutating');
    const controller = await created('deployment', 'controller-manager', 'trainingjob-system');
    t.ok(mutating >= webhookAvailable, `webhook configurations registered (${new Date(mutating).toISOString()}) once the webhook was Available (${new Date(webhookAvailable).toISOString()})`);
    t.ok(controller >= mutating, `the controller created (${new Date(controller).toISOString()}) after the webhook configurations`);
    const deployments = (healthy.status!.resources ?? []).filter((r) => r.kind === 'Deployment').map((r) => `${r.name}: ${r.status}`).sort();
    t.same(deployments, ['controller-manager: Synced', 'webhook: Synced'], 'Argo CD lists both Deployments, Synced');
    for (const row of ['Deployment/webhook', 'Deployment/controller-manager', 'CustomResourceDefinition/trainingjobs.ml.example.com']) {
      const r = await treeRow('trainingjob-platform', row);
      t.equal(r.health, 'Healthy', `argocd app get --core -o tree: ${r.line}`);
    }
  });

  t.test('the caBundles the webhook injects do not make the platform OutOfSync (ignoreDifferences, live)', async (t) => {
    const caBundle = await kubectl(['get', 'mutatingwebhookconfiguration', 'trainingjob-mutating', '-o', 'jsonpath={.webhooks[0].clientConfig.caBundle}']);
    t.ok(caBundle.length > 100, 'the webhook injected a caBundle Git does not have');
    const conversion = await kubectl(['get', 'crd', 'trainingjobs.ml.example.com', '-o', 'jsonpath={.spec.conversion.webhook.clientConfig.caBundle}']);
    t.ok(conversion.length > 100, 'and into the TrainingJob CRD\'s conversion webhook');
    const refreshed = await comparedAgain('trainingjob-platform', 'hard');
    t.ok(refreshed, 'Argo CD compared the live platform with Git again (hard refresh)');
    t.equal(refreshed?.status?.sync?.status, 'Synced', `still Synced: ${describe(refreshed)}`);
    const outOfSync = (refreshed?.status?.resources ?? []).filter((r) => r.status !== 'Synced').map((r) => `${r.kind}/${r.name}: ${r.status}`);
    t.same(outOfSync, [], 'no resource differs from Git');
    t.equal(await kubectl(['get', 'mutatingwebhookconfiguration', 'trainingjob-mutating', '-o', 'jsonpath={.webhooks[0].clientConfig.caBundle}']), caBundle, 'and no sync wrote the caBundle back empty');
  });

  t.test('the teams ApplicationSet makes one Application per team folder; each syncs its namespace and JobRepository', async (t) => {
    const teams = ['team-a', 'team-b'];
    // The jobs-git Secret comes from the team, never from Git (the AppProject refuses Secrets).
    for (const ns of teams) {
      await eventually(async () => (await cp.kubectl(['get', 'namespace', ns])).code === 0 || undefined, 300_000, 1000);
      await kubectl(['-n', ns, 'create', 'secret', 'generic', 'jobs-git', '--from-literal=hookSecret=not-used-here']);
    }
    for (const team of teams) {
      let last: Application | undefined;
      // Healthy as a whole only once our Lua calls the JobRepository Healthy (synced from the jobs repository).
      const synced = await eventually(async () => {
        last = await app(`trainingjob-${team}`);
        return last?.status?.sync?.status === 'Synced' && last.status.health?.status === 'Healthy' && last.status.resources?.some((r) => r.kind === 'JobRepository') ? last : undefined;
      }, 300_000, 1000);
      t.ok(synced, `trainingjob-${team} Synced and Healthy, with its JobRepository: ${describe(last)}`);
      const ready = await kubectl(['-n', team, 'get', 'jobrepository', 'jobs', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
      t.equal(ready, 'True', 'the JobRepository it synced is Ready');
      const row = await treeRow(`trainingjob-${team}`, 'JobRepository/jobs');
      t.equal(row.health, 'Healthy', `our Lua's health in the tree: ${row.line}`);
      t.match(row.line, /revision [0-9a-f]{12}: 0 jobs/, 'with the controller\'s words');
      t.equal(synced?.metadata.labels?.['ml.example.com/team'], team, 'labelled with its team by the ApplicationSet');
    }
    const names = JSON.parse(await kubectl(['-n', ARGOCD_NAMESPACE, 'get', 'applications.argoproj.io', '-o', 'json'])) as { items: Application[] };
    t.same(names.items.map((a) => a.metadata.name).sort(), ['trainingjob-platform', 'trainingjob-team-a', 'trainingjob-team-b'], 'exactly one Application per team folder, beside the platform');
  });

  t.test('TrainingJobs git sync applies join the team Application\'s tree with our Lua health: Progressing, Healthy, Degraded; it stays Synced', async (t) => {
    // team-a's JobRepository (which Argo CD manages) syncs folder team-a of the jobs repository.
    const jobsWc = await cloneWorkingCopy({ url: `${node.gitHostUrl}/jobs.git`, branch: 'main' });
    t.teardown(() => jobsWc.remove());
    const job = (name: string, spec: Record<string, unknown>): string => `${JSON.stringify({
      apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, labels: { team: 'team-a' } },
      spec: { model: name, dataset: 'none', image: node.images.worker.ref, numWorkers: 1, gpusPerWorker: 1, checkpoint: { enabled: false }, hyperparameters: { learningRate: 0.01, batchSize: 8, epochs: 1 }, ...spec },
    }, null, 2)}\n`;
    // A push, then a sync request on the JobRepository (what our push receiver sets).
    const pushJobs = async (files: Record<string, string | null>, message: string): Promise<void> => {
      await jobsWc.commitAndPush(files, message);
      await kubectl(['-n', 'team-a', 'annotate', '--overwrite', 'jobrepository', 'jobs', `ml.example.com/requestedAt=${new Date().toISOString()}`]);
    };
    const jobState = async (name: string): Promise<string> => (await cp.kubectl(['-n', 'team-a', 'get', 'trainingjob', name, '-o', 'jsonpath={.status.state}'])).stdout;
    const rowWhen = async (kindName: string, ok: (r: { health?: string; line: string }) => boolean, timeoutMs: number): Promise<{ health?: string; line: string }> => {
      let row: { health?: string; line: string } = { line: '' };
      await eventually(async () => {
        row = await treeRow('trainingjob-team-a', kindName);
        return ok(row) || undefined;
      }, timeoutMs, 1000);
      return row;
    };
    const started = Date.now();
    await pushJobs({
      'team-a/gitsync-ok.yaml': job('gitsync-ok', { args: ['--hold=90'] }),
      'team-a/gitsync-fail.yaml': job('gitsync-fail', { command: ['node', '-e', 'console.error("loss is NaN at step 3"); process.exit(3)'], backoffLimit: 0 }),
    }, 'team-a: two jobs');

    const tracking = await eventually(async () => {
      const r = await cp.kubectl(['-n', 'team-a', 'get', 'trainingjob', 'gitsync-ok', '-o', 'json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as { metadata: { annotations?: Record<string, string> } }).metadata.annotations : undefined;
    }, 120_000, 1000);
    t.match(tracking, {
      'argocd.argoproj.io/tracking-id': 'trainingjob-team-a:ml.example.com/TrainingJob:team-a/gitsync-ok',
      'argocd.argoproj.io/compare-options': 'IgnoreExtraneous',
      'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
    }, 'git sync applied the job into its JobRepository\'s Application, which may neither prune nor delete it');

    const running = await rowWhen('TrainingJob/gitsync-ok', (r) => r.health === 'Progressing' && /Running: 1 worker running/.test(r.line), 180_000);
    t.match(running.line, /Running: 1 worker running/, `a running job's row in argocd app get --core -o tree: Progressing, in the controller's words: ${running.line}`);
    t.comment(`push → running job Progressing in Argo CD's tree: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const failed = await rowWhen('TrainingJob/gitsync-fail', (r) => r.health === 'Degraded', 180_000);
    t.equal(failed.health, 'Degraded', `a failed job's row: Degraded: ${failed.line}`);
    t.equal(await jobState('gitsync-fail'), 'Failed', 'it is the job the controller marked Failed');
    let seen = '';
    const degraded = await eventually(async () => {
      const a = await app('trainingjob-team-a');
      seen = describe(a);
      return a?.status?.health?.status === 'Degraded' ? a : undefined;
    }, 120_000, 1000);
    t.ok(degraded, `the team Application is Degraded while a job it shows has failed: ${seen}`);
    // Argo CD compares with Git again: jobs Git (through the JobRepository) declares are no drift and nothing to prune.
    const compared = await comparedAgain('trainingjob-team-a', 'normal');
    t.equal(compared?.status?.sync?.status, 'Synced', `still Synced beside the jobs it did not apply: ${describe(compared)}`);

    // The failed job leaves Git: git sync prunes it, and the Application is Progressing again, then Healthy.
    await pushJobs({ 'team-a/gitsync-fail.yaml': null }, 'team-a: drop the failed job');
    t.ok(await eventually(async () => (await cp.kubectl(['-n', 'team-a', 'get', 'trainingjob', 'gitsync-fail'])).code !== 0 || undefined, 120_000, 1000), 'git sync pruned the job that left Git');
    const progressing = await eventually(async () => {
      const a = await app('trainingjob-team-a');
      seen = `${describe(a)} while gitsync-ok is ${await jobState('gitsync-ok')}`;
      return a?.status?.health?.status === 'Progressing' ? a : undefined;
    }, 120_000, 1000);
    t.ok(progressing, `the Application is Progressing while the remaining job runs: ${seen}`);
    const done = await eventually(async () => {
      const a = await app('trainingjob-team-a');
      seen = `${describe(a)} while gitsync-ok is ${await jobState('gitsync-ok')}`;
      return a?.status?.health?.status === 'Healthy' && a.status.sync?.status === 'Synced' ? a : undefined;
    }, 240_000, 1000);
    t.ok(done, `Healthy and Synced once it Completed: ${seen}`);
    const completed = await rowWhen('TrainingJob/gitsync-ok', (r) => r.health === 'Healthy', 60_000);
    t.equal(completed.health, 'Healthy', `the completed job's row: ${completed.line}`);
    t.equal(await jobState('gitsync-ok'), 'Completed', 'it Completed');
  });

  t.test('argocd app actions suspend, resume and restart act on a real TrainingJob, and the controller follows', async (t) => {
    await commitTeamAJob('argocd-hold', 900);
    const status = async (): Promise<{ state?: string; restarts?: number }> => (JSON.parse((await cp.kubectl(['-n', 'team-a', 'get', 'trainingjob', 'argocd-hold', '-o', 'json'])).stdout || '{}') as { status?: { state?: string; restarts?: number } }).status ?? {};
    const workerPods = async (): Promise<number> => (JSON.parse(await kubectl(['-n', 'team-a', 'get', 'pods', '-l', 'ml.example.com/trainingjob=argocd-hold', '-o', 'json'])) as { items: { metadata: { deletionTimestamp?: string } }[] }).items.filter((p) => !p.metadata.deletionTimestamp).length;
    const inState = (want: string, timeoutMs = 180_000): Promise<{ state?: string; restarts?: number } | undefined> => eventually(async () => {
      const st = await status();
      return st.state === want ? st : undefined;
    }, timeoutMs, 500);
    t.ok(await inState('Running'), 'the job runs');

    const suspended = await action('trainingjob-team-a', 'argocd-hold', 'suspend');
    t.equal(suspended.code, 0, `argocd app actions run suspend: ${suspended.stderr.trim()}`);
    t.ok(await inState('Suspended'), 'the controller suspends it');
    t.ok(await eventually(async () => (await workerPods()) === 0 || undefined, 120_000, 500), 'and its worker pods are gone');
    const suspendedRow = await eventually(async () => {
      const r = await treeRow('trainingjob-team-a', 'TrainingJob/argocd-hold');
      return r.health === 'Suspended' ? r : undefined;
    }, 60_000, 1000);
    t.ok(suspendedRow, `Argo CD shows it Suspended: ${suspendedRow?.line}`);
    // Self-heal must not undo the action: Git never set spec.suspend, so the live value is not a difference.
    const compared = await comparedAgain('trainingjob-team-a', 'normal');
    t.ok(compared, 'Argo CD compared team-a with Git again');
    t.equal(compared?.status?.sync?.status, 'Synced', 'and found it Synced: the suspended job is no difference from Git');
    const live = JSON.parse(await kubectl(['-n', 'team-a', 'get', 'trainingjob', 'argocd-hold', '-o', 'json'])) as { spec: { suspend?: boolean }; status?: { state?: string } };
    t.same({ suspend: live.spec.suspend, state: live.status?.state }, { suspend: true, state: 'Suspended' }, 'self-heal left the action alone');

    const resumed = await action('trainingjob-team-a', 'argocd-hold', 'resume');
    t.equal(resumed.code, 0, `argocd app actions run resume: ${resumed.stderr.trim()}`);
    t.ok(await inState('Running'), 'the controller runs it again');

    const restartsBefore = (await status()).restarts ?? 0;
    const restarted = await action('trainingjob-team-a', 'argocd-hold', 'restart');
    t.equal(restarted.code, 0, `argocd app actions run restart: ${restarted.stderr.trim()}`);
    const again = await eventually(async () => {
      const st = await status();
      return st.state === 'Running' && (st.restarts ?? 0) === restartsBefore + 1 ? st : undefined;
    }, 180_000, 500);
    t.ok(again, `the controller restarts its workers (restarts ${restartsBefore} → ${restartsBefore + 1}) and it runs again: ${JSON.stringify(await status())}`);
    const jobs = JSON.parse(await kubectl(['-n', 'team-a', 'get', 'jobs.batch', '-l', 'ml.example.com/trainingjob=argocd-hold', '-o', 'json'])) as { items: { metadata: { name: string; deletionTimestamp?: string } }[] };
    t.same(jobs.items.filter((j) => !j.metadata.deletionTimestamp).map((j) => j.metadata.name), [`argocd-hold-workers-r${restartsBefore + 1}`], 'one worker Job, of the new generation');
  });

  t.test('a new image tag committed to Git rolls the webhook and controller: every create answered, none past quota, the Lease handed over', async (t) => {
    const appImage = node.images.app.ref;
    const [repo, tag] = [appImage.slice(0, appImage.lastIndexOf(':')), appImage.slice(appImage.lastIndexOf(':') + 1)];
    const next = `${tag}-rollout`;
    // The same image under a new tag, as a release would push: the node has it, so the roll needs no registry.
    const tagged = await runCommand(cp.binaries.ctr!, ['--address', node.containerdSocket, '--namespace', 'k8s.io', 'images', 'tag', appImage, `${repo}:${next}`], process.env);
    t.equal(tagged.code, 0, `ctr images tag: ${tagged.stderr.trim()}`);
    const lease = async (): Promise<string> => kubectl(['-n', 'trainingjob-system', 'get', 'lease', 'trainingjob-controller', '-o', 'jsonpath={.spec.holderIdentity}']);
    const leaderBefore = await lease();
    const runningBefore = JSON.parse(await kubectl(['-n', 'team-a', 'get', 'jobs.batch', '-l', 'ml.example.com/trainingjob=argocd-hold', '-o', 'json'])) as { items: { metadata: { name: string; uid: string } }[] };

    const stream = await startCreateStream(cp, node.images.worker.ref);
    const started = Date.now();
    const kustomization = readFileSync(join(wc!.dir, 'argocd', 'platform', 'kustomization.yaml'), 'utf8');
    const oid = await wc!.commitAndPush({ 'argocd/platform/kustomization.yaml': `${kustomization.trimEnd()}\nimages:\n  - name: ${repo}\n    newTag: ${next}\n` }, `platform: roll out ${next}`);
    await requestRefresh(cp, 'trainingjob-platform');
    let last: Application | undefined;
    const rolled = await eventually(async () => {
      last = await app('trainingjob-platform');
      if (last?.status?.sync?.status !== 'Synced' || last.status.sync.revision !== oid || last.status.health?.status !== 'Healthy' || last.status.operationState?.phase !== 'Succeeded') return undefined;
      for (const d of ['webhook', 'controller-manager']) {
        const dep = JSON.parse(await kubectl(['-n', 'trainingjob-system', 'get', 'deployment', d, '-o', 'json'])) as { spec: { replicas: number; template: { spec: { containers: { image: string }[] } } }; status: { updatedReplicas?: number; availableReplicas?: number; replicas?: number } };
        if (dep.spec.template.spec.containers[0]!.image !== `${repo}:${next}` || dep.status.updatedReplicas !== dep.spec.replicas || dep.status.availableReplicas !== dep.spec.replicas || dep.status.replicas !== dep.spec.replicas) return undefined;
      }
      return last;
    }, 300_000, 1000);
    const rollSeconds = (Date.now() - started) / 1000;
    const answers = await stream.stop();
    t.ok(rolled, `Argo CD synced ${oid.slice(0, 7)} and both Deployments run ${next}, Healthy: ${describe(last)}`);
    t.comment(`commit → new image rolled out, Synced and Healthy: ${rollSeconds.toFixed(1)} s; ${answers.length} creates during it`);
    t.same(answers.filter((a) => a.startsWith('error')), [], `every one of ${answers.length} creates during the roll was answered by the webhook`);
    t.equal(answers.filter((a) => a === 'admitted').length, 8, 'exactly quota / demand admitted');
    t.equal(await streamGpusHeld(cp), 16, 'GPUs held never exceed the quota');
    const pods = JSON.parse(await kubectl(['-n', 'trainingjob-system', 'get', 'pods', '-l', 'app.kubernetes.io/component=controller', '-o', 'json'])) as { items: { metadata: { name: string; deletionTimestamp?: string } }[] };
    const live = pods.items.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name);
    const leader = await eventually(async () => {
      const holder = await lease();
      return holder !== leaderBefore && live.some((p) => holder.startsWith(p)) ? holder : undefined;
    }, 120_000, 500);
    t.ok(leader, `the Lease passed from ${leaderBefore} to the new controller pod (${live.join(', ')}): ${leader ?? await lease()}`);
    const runningAfter = JSON.parse(await kubectl(['-n', 'team-a', 'get', 'jobs.batch', '-l', 'ml.example.com/trainingjob=argocd-hold', '-o', 'json'])) as { items: { metadata: { name: string; uid: string; deletionTimestamp?: string } }[] };
    t.same(runningAfter.items.filter((j) => !j.metadata.deletionTimestamp).map((j) => j.metadata.uid), runningBefore.items.map((j) => j.metadata.uid), 'the running job kept its one worker Job: nothing lost, nothing doubled');
    const st = JSON.parse(await kubectl(['-n', 'team-a', 'get', 'trainingjob', 'argocd-hold', '-o', 'json'])) as { status?: { state?: string } };
    t.equal(st.status?.state, 'Running', 'and still Running');
  });
}
