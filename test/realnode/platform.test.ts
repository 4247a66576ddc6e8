// The real-node tier: the platform as users deploy it (our image, built from the unchanged Dockerfile,
// installed with `kubectl apply --server-side -k manifests/overlays/default`), running in real pods on a
// real kubelet, with the whole cluster inside a network namespace that has no route out.
import t from 'tap';
import { REAL_NODE_NAME } from '../../localcluster/realnode/node.ts';
import { netnsSnapshot } from '../../localcluster/realnode/namespaces.ts';
import { realNodeUnsupported } from '../../localcluster/realnode/support.ts';
import { applyPlatformOverlay, PLATFORM_DEPLOYMENTS, PLATFORM_NAMESPACE } from '../../localcluster/realnode/overlay-install.ts';
import { controlPlaneFor, eventually, kubectlOrThrow, routesOut } from '../harness/tap.ts';
import { startCreateStream, streamGpusHeld } from '../harness/create-stream.ts';
import { createKubeClient } from '../../kube/client.ts';
import { runCommand } from '../../localcluster/controlplane.ts';

const unsupported = realNodeUnsupported();
if (unsupported) {
  t.test('real-node tier', { skip: `skipped: ${unsupported}` }, async () => {});
} else {
  await realNodeTier();
}

async function realNodeTier(): Promise<void> {
  const cp = await controlPlaneFor(t, { realNode: { gpus: 4 }, startTimeoutMs: 180_000 });
  const kubectl = kubectlOrThrow(cp);
  const client = createKubeClient({ kubeConfig: cp.kubeConfig() });
  const images = cp.realNode!.images;

  t.test('the node namespace has only lo, the bridge and veths, and no default route', async (t) => {
    const { links, routes } = netnsSnapshot(cp.realNode!.namespace.netns);
    t.ok(links.includes('lo'), 'lo is there');
    t.same(routesOut(cp.realNode!.namespace.netns), [], 'no link but lo/cni0/veth*, no default route');
    t.notOk(routes.some((r) => r.startsWith('default')), `routes: ${routes.join('; ')}`);
  });

  t.test('the real node is Ready and advertises GPUs', async (t) => {
    const node = JSON.parse(await kubectl(['get', 'node', REAL_NODE_NAME, '-o', 'json'])) as { status: { allocatable: Record<string, string>; nodeInfo: { containerRuntimeVersion: string; kubeletVersion: string } } };
    t.equal(node.status.allocatable['nvidia.com/gpu'], '4');
    t.match(node.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\/2\./);
    t.equal(node.status.nodeInfo.kubeletVersion, 'v1.34.4');
  });

  t.test('our image starts as UID 65532 on a read-only root filesystem; --help works', async (t) => {
    await kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'image-check', namespace: 'default' },
      spec: {
        restartPolicy: 'Never',
        containers: [{
          name: 'check', image: images.app.ref, imagePullPolicy: 'Never',
          command: ['node', '-e', "const fs=require('fs');let ro='no';try{fs.writeFileSync('/app/x','')}catch(e){ro=e.code}console.log(JSON.stringify({uid:process.getuid(),write:ro}))"],
          securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
        }],
      },
    }));
    const phase = await eventually(async () => {
      const p = JSON.parse(await kubectl(['get', 'pod', 'image-check', '-o', 'json'])) as { status: { phase: string } };
      return ['Succeeded', 'Failed'].includes(p.status.phase) ? p.status.phase : undefined;
    }, 120_000);
    t.equal(phase, 'Succeeded');
    const out = JSON.parse((await kubectl(['logs', 'image-check'])).trim()) as { uid: number; write: string };
    t.same(out, { uid: 65532, write: 'EROFS' }, 'kubectl logs works; the image\'s USER is 65532 and / is read-only');
    const help = await kubectl(['run', 'image-help', '--image', images.app.ref, '--image-pull-policy=Never', '--restart=Never', '--attach', '--rm', '-q', '--', '--help']);
    t.match(help, /webhook/, '--help names the webhook subcommand');
    t.match(help, /controller/, '--help names the controller subcommand');
  });

  t.test('the platform installs with kubectl apply --server-side -k manifests/overlays/default', async (t) => {
    await applyPlatformOverlay(cp, { progress: (l) => t.comment(l) });
    for (const d of PLATFORM_DEPLOYMENTS) {
      const status = JSON.parse(await kubectl(['-n', PLATFORM_NAMESPACE, 'get', `deployment/${d}`, '-o', 'json'])) as { spec: { replicas: number }; status: { availableReplicas?: number } };
      t.equal(status.status.availableReplicas, status.spec.replicas, `${d}: ${status.spec.replicas} replica(s) Available`);
    }
  });

  t.test('the platform\'s pods run as the manifests say: non-root, read-only root, seccomp RuntimeDefault', async (t) => {
    for (const d of ['webhook', 'controller-manager']) {
      const out = await kubectl(['-n', 'trainingjob-system', 'exec', `deploy/${d}`, '--', 'node', '-e',
        "const fs=require('fs');let w='no';try{fs.writeFileSync('/app/x','')}catch(e){w=e.code}const s=fs.readFileSync('/proc/self/status','utf8');console.log(JSON.stringify({uid:process.getuid(),gid:process.getgid(),write:w,seccomp:/Seccomp:\\s+(\\d)/.exec(s)[1],noNewPrivs:/NoNewPrivs:\\s+(\\d)/.exec(s)[1]}))"]);
      t.same(JSON.parse(out.trim()), { uid: 65532, gid: 65532, write: 'EROFS', seccomp: '2', noNewPrivs: '1' }, `${d}: kubectl exec works; uid/gid 65532, EROFS, seccomp filter, no new privileges`);
    }
  });

  t.test('a bad TrainingJob is refused through the in-cluster webhook, with our message', async (t) => {
    const r = await cp.kubectl(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: 'bad', namespace: 'default' },
      spec: { model: 'm', dataset: 'd', image: images.worker.ref, numWorkers: 2, gpusPerWorker: 3, hyperparameters: { learningRate: 70, batchSize: 32, epochs: 1 } },
    }) });
    t.not(r.code, 0, 'refused');
    t.match(r.stderr, /admission webhook "[^"]*trainingjob[^"]*" denied the request/, 'by our webhook');
    t.match(r.stderr, /learningRate/, 'naming the field');
  });

  t.test('a v1alpha1 object reads back through the in-cluster conversion webhook', async (t) => {
    await kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'ml.example.com/v1alpha1', kind: 'TrainingJob', metadata: { name: 'old-client', namespace: 'default' },
      spec: { framework: 'pytorch', image: images.worker.ref, command: ['node', '/opt/worker/worker.mjs'], workers: 1, gpuPerWorker: 0, hyperparameters: { learningRate: '0.01' } },
    }));
    const v1 = JSON.parse(await kubectl(['get', 'trainingjobs.v1.ml.example.com', 'old-client', '-o', 'json'])) as { apiVersion: string; spec: { numWorkers: number; gpusPerWorker: number } };
    t.equal(v1.apiVersion, 'ml.example.com/v1');
    t.match(v1.spec, { numWorkers: 1, gpusPerWorker: 0 }, 'stored as v1: workers became numWorkers');
    const alpha = JSON.parse(await kubectl(['get', 'trainingjobs.v1alpha1.ml.example.com', 'old-client', '-o', 'json'])) as { apiVersion: string; spec: Record<string, unknown> };
    t.equal(alpha.apiVersion, 'ml.example.com/v1alpha1');
    t.match(alpha.spec, { workers: 1, gpuPerWorker: 0, hyperparameters: { learningRate: '0.01' } }, 'read back as v1alpha1, as written');
    await kubectl(['delete', 'trainingjob', 'old-client', '--wait=true']);
  });

  t.test('the in-cluster controller takes a 2-worker job to Completed; workers find each other through CoreDNS', async (t) => {
    await kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: 'smoke', namespace: 'default' },
      spec: { model: 'smoke', dataset: 'none', image: images.worker.ref, numWorkers: 2, gpusPerWorker: 1, hyperparameters: { learningRate: 0.01, batchSize: 8, epochs: 1 } },
    }));
    const phase = await eventually(async () => {
      const j = await client.get<TrainingJobStatus>(jobRef('smoke'));
      return ['Completed', 'Failed'].includes(j.status?.state ?? '') ? j.status!.state : undefined;
    }, 240_000, 1000);
    t.equal(phase, 'Completed', 'the job completed');
    const pods = JSON.parse(await kubectl(['get', 'pods', '-l', 'ml.example.com/trainingjob=smoke', '-o', 'json'])) as { items: { metadata: { name: string }; spec: { nodeName: string } }[] };
    t.equal(pods.items.length, 2, 'two worker pods');
    for (const p of pods.items) {
      t.equal(p.spec.nodeName, REAL_NODE_NAME, `${p.metadata.name} ran on the real node`);
      const line = JSON.parse((await kubectl(['logs', p.metadata.name])).trim()) as { resolved: Record<string, string>; ok: boolean };
      t.ok(line.ok, `${p.metadata.name} resolved every peer through CoreDNS`);
      t.same(Object.keys(line.resolved).sort(), ['smoke-workers-0.smoke-workers.default.svc', 'smoke-workers-1.smoke-workers.default.svc']);
      t.ok(Object.values(line.resolved).every((ip) => ip.startsWith('10.244.0.')), 'to pod IPs on the node\'s bridge');
    }
  });

  t.test('an evicted worker is not a failure (podFailurePolicy); a SIGKILLed one is', async (t) => {
    await kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: 'hold', namespace: 'default' },
      spec: { model: 'hold', dataset: 'none', image: images.worker.ref, args: ['--hold=600'], numWorkers: 1, gpusPerWorker: 0, checkpoint: { enabled: false }, hyperparameters: { learningRate: 0.01, batchSize: 8, epochs: 1 } },
    }));
    const running = async (): Promise<{ name: string; containerId: string } | undefined> => {
      const list = JSON.parse(await kubectl(['get', 'pods', '-l', 'ml.example.com/trainingjob=hold', '-o', 'json'])) as { items: { metadata: { name: string; deletionTimestamp?: string }; status: { phase: string; containerStatuses?: { containerID?: string; ready: boolean }[] } }[] };
      const p = list.items.find((i) => i.status.phase === 'Running' && !i.metadata.deletionTimestamp && i.status.containerStatuses?.[0]?.containerID);
      return p ? { name: p.metadata.name, containerId: p.status.containerStatuses![0]!.containerID!.replace('containerd://', '') } : undefined;
    };
    const first = await eventually(running, 120_000, 500);
    if (!first) throw new Error('the worker never ran');
    await kubectl(['create', '--raw', `/api/v1/namespaces/default/pods/${first.name}/eviction`, '-f', '-'], JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: first.name, namespace: 'default' } }));
    const second = await eventually(async () => {
      const p = await running();
      return p && p.name !== first.name ? p : undefined;
    }, 120_000, 500);
    t.ok(second, 'the Job replaced the evicted pod');
    // The controller has seen the eviction by now; give it time to (wrongly) count it before looking.
    await new Promise((r) => setTimeout(r, 5000));
    let job = await client.get<TrainingJobStatus>(jobRef('hold'));
    t.equal(job.status?.restarts ?? 0, 0, 'eviction (DisruptionTarget) is ignored: no restart counted');
    const workerJob = JSON.parse(await kubectl(['get', 'job', 'hold-workers', '-o', 'json'])) as { status: { failed?: number } };
    t.equal(workerJob.status.failed ?? 0, 0, 'and the worker Job counts no failed pod');

    // A real SIGKILL, delivered by containerd to the container's process (exit 137).
    const killed = await runCommand(cp.binaries.ctr!, ['--address', cp.realNode!.containerdSocket, '--namespace', 'k8s.io', 'tasks', 'kill', '--signal', 'SIGKILL', second!.containerId], process.env);
    t.equal(killed.code, 0, 'ctr tasks kill --signal SIGKILL', { stderr: killed.stderr });
    job = (await eventually(async () => {
      const j = await client.get<TrainingJobStatus>(jobRef('hold'));
      return (j.status?.restarts ?? 0) > 0 ? j : undefined;
    }, 120_000, 500))!;
    t.equal(job?.status?.restarts, 1, 'the SIGKILL counts: the TrainingJob restarted its workers once');
    const events = await kubectl(['get', 'events', '--field-selector', 'involvedObject.name=hold', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
    t.match(events, /Restarting: worker 0 \(pod [^)]+\) exited 137/, 'and says why: exit 137');
    await kubectl(['delete', 'trainingjob', 'hold', '--wait=false']);
  });

  t.test('evicting a webhook pod (PDB respected) during a stream of creates loses no admission', async (t) => {
    const webhookPods = async (): Promise<{ name: string; ready: boolean; terminating: boolean }[]> => {
      const list = JSON.parse(await kubectl(['-n', 'trainingjob-system', 'get', 'pods', '-l', 'app.kubernetes.io/component=webhook', '-o', 'json'])) as { items: { metadata: { name: string; deletionTimestamp?: string }; status: { conditions?: { type: string; status: string }[] } }[] };
      return list.items.map((p) => ({ name: p.metadata.name, terminating: Boolean(p.metadata.deletionTimestamp), ready: Boolean(p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) }));
    };
    const before = await webhookPods();
    const victim = before[0]!.name;
    // Creates run until the replacement replica is Ready: every one must be answered by the webhook.
    const stream = await startCreateStream(cp, images.worker.ref);
    await new Promise((r) => setTimeout(r, 1000));
    const evicted = await cp.kubectl(['create', '--raw', `/api/v1/namespaces/trainingjob-system/pods/${victim}/eviction`, '-f', '-'], { input: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: victim, namespace: 'trainingjob-system' } }) });
    t.equal(evicted.code, 0, 'the PDB (minAvailable 1) allows evicting one of two replicas', { stderr: evicted.stderr });
    const replaced = await eventually(async () => {
      const pods = await webhookPods();
      return !pods.some((p) => p.name === victim) && pods.filter((p) => p.ready && !p.terminating).length === 2 ? pods : undefined;
    }, 180_000, 500);
    const answers = await stream.stop();
    t.ok(replaced, 'a replacement replica became Ready and the evicted one is gone');
    t.same(answers.filter((a) => a.startsWith('error')), [], `every one of ${answers.length} creates was answered by the webhook`);
    t.equal(answers.filter((a) => a === 'admitted').length, 8, 'exactly quota / demand admitted');
    t.equal(await streamGpusHeld(cp), 16, 'GPUs held never exceed the quota');
  });

  t.test('after pods have run, the node namespace still has no way out', async (t) => {
    const { links } = netnsSnapshot(cp.realNode!.namespace.netns);
    t.ok(links.includes('cni0') && links.some((l) => l.startsWith('veth')), `the bridge and pods' veths are there to be checked: ${links.join(', ')}`);
    t.same(routesOut(cp.realNode!.namespace.netns), [], 'no default or unexpected route (IPv4 or IPv6), no host link into it');
  });
}

interface TrainingJobStatus {
  status?: { state?: string; restarts?: number };
}

function jobRef(name: string): { group: string; version: string; plural: string; namespace: string; name: string } {
  return { group: 'ml.example.com', version: 'v1', plural: 'trainingjobs', namespace: 'default', name };
}
