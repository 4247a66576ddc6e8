// Real distributed training on the real node: examples/trainer (PyTorch DDP, gloo on CPU) run by the in-cluster
// controller from manifests/overlays/default, with progress scraped from rank 0's real pod IP, checkpoints on a
// real PVC, and a resume from the last checkpoint after a worker is SIGKILLed.
import t from 'tap';
import { realNodeUnsupported } from '../../localcluster/realnode/support.ts';
import { applyPlatformOverlay } from '../../localcluster/realnode/overlay-install.ts';
import { controlPlaneFor, eventually, kubectlOrThrow } from '../harness/tap.ts';
import { createKubeClient } from '../../kube/client.ts';
import { runCommand } from '../../localcluster/controlplane.ts';
import { join } from 'node:path';
import { repoRoot } from '../../localcluster/binaries.ts';

const unsupported = realNodeUnsupported();
if (unsupported) {
  t.test('real training on the real node', { skip: `skipped: ${unsupported}` }, async () => {});
} else {
  await trainingTier();
}

interface Status {
  status?: { state?: string; progress?: string; currentEpoch?: number; restarts?: number; lastCheckpoint?: string; metrics?: { loss?: number; accuracy?: number }; conditions?: { type: string; reason?: string; message?: string }[] };
}

async function trainingTier(): Promise<void> {
  const cp = await controlPlaneFor(t, { realNode: { gpus: 4 }, startTimeoutMs: 180_000 });
  const kubectl = kubectlOrThrow(cp);
  const client = createKubeClient({ kubeConfig: cp.kubeConfig() });
  const trainer = cp.realNode!.images.trainer;
  await cp.realNode!.importImage(trainer, (l) => t.comment(l));
  await applyPlatformOverlay(cp, { progress: (l) => t.comment(l) });
  const ref = (name: string, namespace = 'default') => ({ group: 'ml.example.com', version: 'v1', plural: 'trainingjobs', namespace, name });
  interface SubmitOptions { backoffLimit?: number; memoryLimit?: string; priorityClassName?: string; namespace?: string }
  const submit = (name: string, epochs: number, minEpochSeconds: number, { backoffLimit = 3, memoryLimit = '1Gi', priorityClassName, namespace = 'default' }: SubmitOptions = {}) => kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name, namespace },
    spec: {
      ...(priorityClassName ? { priorityClassName } : {}),
      framework: 'pytorch', model: 'mlp', dataset: 'synthetic', image: trainer.ref, numWorkers: 2, gpusPerWorker: 1, backoffLimit,
      networking: { backend: 'gloo' },
      resources: { requests: { cpu: '100m', memory: memoryLimit === '1Gi' ? '256Mi' : memoryLimit }, limits: { memory: memoryLimit } },
      checkpoint: { enabled: true, frequency: 1, storage: { type: 'pvc', size: '1Gi' } },
      hyperparameters: { learningRate: 0.05, batchSize: 128, epochs, minEpochSeconds },
    },
  }));
  const rank0Logs = async (name: string): Promise<{ event?: string; epoch?: number; checkpoint?: string; given?: string; loss?: number }[]> => {
    const pods = JSON.parse(await kubectl(['get', 'pods', '-l', `ml.example.com/trainingjob=${name}`, '-o', 'json'])) as { items: { metadata: { name: string; labels: Record<string, string>; deletionTimestamp?: string }; status: { phase: string } }[] };
    const pod = pods.items.find((p) => p.metadata.labels['batch.kubernetes.io/job-completion-index'] === '0' && !p.metadata.deletionTimestamp);
    if (!pod) return [];
    const r = await cp.kubectl(['logs', pod.metadata.name]);
    return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event?: string });
  };

  t.test('2 workers train to Completed; loss read from rank 0 while Running falls; 100% only at the end', async (t) => {
    // 10 epochs of at least 5 s: the controller scrapes every 15 s, so the loss is read three times or more.
    await submit('ddp', 10, 5);
    const samples: { state?: string; progress?: string; loss?: number }[] = [];
    const final = await eventually(async () => {
      const s = (await client.get<Status>(ref('ddp'))).status;
      samples.push({ state: s?.state, progress: s?.progress, loss: s?.metrics?.loss });
      return s?.state === 'Completed' || s?.state === 'Failed' ? s : undefined;
    }, 300_000, 1000);
    t.equal(final?.state, 'Completed', 'the job completed', { samples: samples.slice(-5) });
    const running = samples.filter((s) => s.state === 'Running' && s.loss !== undefined);
    const losses = [...new Set(running.map((s) => s.loss!))];
    t.ok(losses.length >= 2, `loss read at least twice while Running: ${losses.join(', ')}`);
    t.ok(losses[losses.length - 1]! < losses[0]!, 'and it fell');
    t.notOk(samples.some((s) => s.state !== 'Completed' && s.progress === '100%'), 'progress reached 100% only at completion');
    t.equal(final?.progress, '100%');
    const log = await rank0Logs('ddp');
    t.match(log.find((l) => l.event === 'rendezvous'), { world_size: 2 }, 'rank 0 met its peer through MASTER_ADDR');
    t.same(log.filter((l) => l.event === 'epoch').map((l) => l.epoch), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'every epoch trained once');
    t.ok(log.some((l) => l.event === 'checkpoint-saved' && l.epoch === 10), 'checkpoints written to the PVC');
  });

  t.test('trainingjob logs shows every rank\'s lines, prefixed, and says plainly when there is nothing to show', async (t) => {
    const cli = (...args: string[]) => runCommand(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), 'logs', '--kubeconfig', cp.kubeconfigPath, ...args], process.env);
    const all = await cli('ddp');
    t.equal(all.code, 0, 'exit 0', { stderr: all.stderr });
    for (const rank of [0, 1]) t.match(all.stdout, new RegExp(`^\\[rank ${rank}\\] \\{"event": "epoch", "rank": ${rank}, "epoch": 10`, 'm'), `rank ${rank}'s epochs, prefixed`);
    t.notOk(all.stdout.split('\n').filter(Boolean).some((l) => !/^\[rank [01]\] /.test(l)), 'every line carries its rank');
    const one = await cli('ddp', '--rank', '1', '--tail', '1', '--follow');
    t.same(one.stdout.trim().split('\n').map((l) => l.slice(0, 9)), ['[rank 1] '], '--rank 1 --tail 1: one line of rank 1 (and -f ends when the worker has exited)');
    const missing = await cli('nope');
    t.equal(missing.code, 1);
    t.match(missing.stderr, /TrainingJob default\/nope not found/);
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'ml.example.com/v1', kind: 'TrainingJob', metadata: { name: 'parked', namespace: 'default' }, spec: { image: trainer.ref, numWorkers: 1, gpusPerWorker: 0, suspend: true } }));
    const parked = await eventually(async () => {
      const r = await cli('parked');
      return /state: Suspended/.test(r.stderr) ? r : undefined;
    }, 60_000, 500);
    t.equal(parked?.code, 1);
    t.match(parked?.stderr, /TrainingJob default\/parked has no worker pods yet \(state: Suspended\)/, 'a job without pods says so');
  });

  // What a failing assertion shows: the job's status, its Jobs and pods, and its events.
  const diagnose = async (name: string): Promise<string> => {
    const run = async (args: string[]) => { const r = await cp.kubectl(args); return `$ kubectl ${args.join(' ')}\n${r.stdout}${r.stderr}`; };
    return (await Promise.all([
      run(['get', 'trainingjob', name, '-o', 'jsonpath={.spec.suspend} {.status}']),
      run(['get', 'jobs,pods', '-l', `ml.example.com/trainingjob=${name}`, '-o', 'wide']),
      run(['get', 'jobs', '-l', `ml.example.com/trainingjob=${name}`, '-o', 'jsonpath={range .items[*]}{.metadata.name} suspend={.spec.suspend} {.status}{"\\n"}{end}']),
      run(['get', 'events', '--field-selector', `involvedObject.name=${name}`]),
    ])).join('\n');
  };

  // Polls until the job is Completed or Failed, noting each state it passed through (for failure messages).
  const finished = async (name: string, timeoutMs = 300_000, namespace = 'default') => {
    const states: string[] = [];
    const status = await eventually(async () => {
      const s = (await client.get<Status>(ref(name, namespace))).status;
      if (s?.state && states[states.length - 1] !== s.state) states.push(s.state);
      return s?.state === 'Completed' || s?.state === 'Failed' ? s : undefined;
    }, timeoutMs, 500);
    return { final: status, states };
  };
  const eventsOf = (name: string) => kubectl(['get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);

  const afterTwoCheckpoints = (name: string) => eventually(async () => {
    const log = await rank0Logs(name);
    return log.some((l) => l.event === 'checkpoint-saved' && (l.epoch ?? 0) >= 2) ? true : undefined;
  }, 240_000, 1000);
  const podOfRank = async (name: string, rank: number) => {
    const pods = JSON.parse(await kubectl(['get', 'pods', '-l', `ml.example.com/trainingjob=${name}`, '-o', 'json'])) as { items: { metadata: { name: string; labels: Record<string, string>; deletionTimestamp?: string }; status: { containerStatuses?: { containerID?: string }[] } }[] };
    const p = pods.items.find((i) => i.metadata.labels['batch.kubernetes.io/job-completion-index'] === String(rank) && !i.metadata.deletionTimestamp);
    return p ? { name: p.metadata.name, containerId: p.status.containerStatuses?.[0]?.containerID?.replace('containerd://', '') } : undefined;
  };

  t.test('an evicted worker mid-training: not counted (backoffLimit 0 still completes), resumed from its checkpoint', async (t) => {
    await submit('evict', 10, 4, { backoffLimit: 0 });
    t.ok(await afterTwoCheckpoints('evict'), 'two checkpoints written');
    const victim = await podOfRank('evict', 1);
    const evicted = await cp.kubectl(['create', '--raw', `/api/v1/namespaces/default/pods/${victim!.name}/eviction`, '-f', '-'], { input: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: victim!.name, namespace: 'default' } }) });
    t.equal(evicted.code, 0, 'evicted through the Eviction API', { stderr: evicted.stderr });
    const { final } = await finished('evict');
    t.equal(final?.state, 'Completed', 'completed although backoffLimit is 0');
    const events = await eventsOf('evict');
    t.match(events, /Restarting: worker 0 \(pod [^)]+\) exited 75 .*(was disrupted|a peer left).*; not counted, resuming from \/checkpoints\/epoch-\d+\.pt/, 'rank 0\'s "peer lost" exit (75) is the eviction\'s consequence');
    const resumed = (await rank0Logs('evict')).find((l) => l.event === 'resumed');
    t.ok(resumed && (resumed.epoch ?? 0) >= 2, `the new workers resumed from epoch ${resumed?.epoch}`);
  });

  t.test('a SIGKILLed worker: the job restarts once and resumes from its last checkpoint, not epoch 0', async (t) => {
    await submit('resume', 10, 4);
    t.ok(await afterTwoCheckpoints('resume'), 'two checkpoints written');
    const victim = (await podOfRank('resume', 1))?.containerId;
    t.ok(victim, 'rank 1 is running');
    const killed = await runCommand(cp.binaries.ctr!, ['--address', cp.realNode!.containerdSocket, '--namespace', 'k8s.io', 'tasks', 'kill', '--signal', 'SIGKILL', victim!], process.env);
    t.equal(killed.code, 0, 'ctr tasks kill --signal SIGKILL', { stderr: killed.stderr });
    const { final, states } = await finished('resume');
    t.equal(final?.state, 'Completed', `the job completed (states: ${states.join(' → ')})`);
    t.equal(final?.restarts, 1, 'one restart');
    const events = await eventsOf('resume');
    t.match(events, /Restarting: worker 1 \(pod [^)]+\) exited 137 .*restart 1 of 3, resuming from \/checkpoints\/epoch-\d+\.pt/, 'Restarting, naming the SIGKILLed rank (137) as the cause, counted');
    const log = await rank0Logs('resume');
    const resumed = log.find((l) => l.event === 'resumed');
    t.ok(resumed && (resumed.epoch ?? 0) >= 2, `the new rank 0 resumed from epoch ${resumed?.epoch} (${resumed?.checkpoint})`);
    t.match(resumed?.checkpoint, /^\/checkpoints\/epoch-\d+\.pt$/, 'from the PVC');
    const epochs = log.filter((l) => l.event === 'epoch').map((l) => l.epoch);
    t.same(epochs, Array.from({ length: 10 - (resumed?.epoch ?? 0) }, (_, i) => (resumed?.epoch ?? 0) + i + 1), 'the rest of the epochs, each once');
    const env = await kubectl(['get', 'pods', '-l', 'ml.example.com/trainingjob=resume', '-o', 'jsonpath={.items[0].spec.containers[0].env[?(@.name=="RESUME_FROM_CHECKPOINT")].value}']);
    // The kill can land after rank 0 saved a checkpoint and before any rank reported it: the trainer then takes
    // that newer, complete one from the PVC and says which one it was given.
    t.equal(env, resumed?.given ?? resumed?.checkpoint, `RESUME_FROM_CHECKPOINT named the newest reported checkpoint (${env})`);
    t.ok(Number(/epoch-(\d+)\.pt$/.exec(env)?.[1]) <= (resumed?.epoch ?? 0), 'and the trainer never resumed from an older one');
  });

  t.test('suspended mid-training, then resumed: workers stop and report their checkpoint, and resume from it', async (t) => {
    await submit('pause', 10, 4);
    t.ok(await afterTwoCheckpoints('pause'), 'two checkpoints written');
    await kubectl(['patch', 'trainingjob', 'pause', '--type', 'merge', '-p', '{"spec":{"suspend":true}}']);
    const stopped = await eventually(async () => {
      const s = (await client.get<Status>(ref('pause'))).status;
      const pods = JSON.parse(await kubectl(['get', 'pods', '-l', 'ml.example.com/trainingjob=pause', '-o', 'json'])) as { items: unknown[] };
      return s?.state === 'Suspended' && pods.items.length === 0 ? s : undefined;
    }, 120_000, 500);
    t.ok(stopped, 'Suspended, and no worker pod is left');
    t.match(stopped?.lastCheckpoint, /^\/checkpoints\/epoch-\d+\.pt$/, 'the SIGTERMed workers\' termination messages named their last checkpoint');
    await kubectl(['patch', 'trainingjob', 'pause', '--type', 'merge', '-p', '{"spec":{"suspend":false}}']);
    const { final } = await finished('pause');
    t.equal(final?.state, 'Completed', 'completed after the resume', final?.state === 'Completed' ? {} : { diagnosis: await diagnose('pause') });
    t.equal(final?.restarts ?? 0, 0, 'a suspend is not a restart');
    const events = await eventsOf('pause');
    t.match(events, /Resumed: spec\.suspend cleared/, 'a Resumed event');
    const log = await rank0Logs('pause');
    const resumed = log.find((l) => l.event === 'resumed');
    t.ok(resumed && (resumed.epoch ?? 0) >= 2, `the resumed rank 0 continued from epoch ${resumed?.epoch} (${resumed?.checkpoint}), not epoch 0`);
    t.same(log.filter((l) => l.event === 'epoch').map((l) => l.epoch), Array.from({ length: 10 - (resumed?.epoch ?? 0) }, (_, i) => (resumed?.epoch ?? 0) + i + 1), 'the rest of the epochs, each once');
  });

  t.test('failures beyond backoffLimit end Failed, with the real container\'s reason', async (t) => {
    // 64 MiB cannot hold the Python interpreter with torch: the kernel kills every worker (OOMKilled, 137).
    await submit('oom', 2, 0, { backoffLimit: 1, memoryLimit: '64Mi' });
    const { final, states } = await finished('oom', 240_000);
    t.equal(final?.state, 'Failed', `the job failed (states: ${states.join(' → ')})`);
    t.equal(final?.restarts, 1, 'restarts: 1 of backoffLimit 1');
    const events = await eventsOf('oom');
    t.match(events, /Restarting: worker [01] \(pod oom-workers-[^)]+\) exited 137 \(OOMKilled\).*; restart 1 of 1/, 'the first run\'s OOMKill restarted it once');
    const failed = final?.conditions?.find((c) => c.type === 'Failed');
    t.equal(failed?.reason, 'BackoffLimitExceeded');
    t.match(failed?.message, /^worker [01] \(pod oom-workers-r1-[^)]+\) exited 137 \(OOMKilled\).*; failed after 1 restart \(backoffLimit 1\)$/, 'names the rank, its pod, the exit code and the kernel\'s reason');
  });

  t.test('preempted by a higher-priority job: its workers report their checkpoint on SIGTERM, it waits Queued, then resumes from that epoch', async (t) => {
    // Last in this file: the quota of 2 GPUs on "default" must not hold back the jobs above.
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'research-high' }, value: 5000 },
      { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'research-low' }, value: 100 },
      { apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name: 'default-preemption' }, spec: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'default' } }, gpuQuota: 2, overQuota: 'Queue', preemption: { withinNamespace: 'LowerPriority' } } },
    ] }));
    await submit('background', 8, 6, { priorityClassName: 'research-low' });
    const checkpoints = await eventually(async () => {
      const saved = (await rank0Logs('background')).filter((l) => l.event === 'checkpoint-saved');
      const s = (await client.get<Status & { status?: { lastCheckpointTime?: string } }>(ref('background'))).status;
      return saved.length >= 3 && s?.lastCheckpointTime ? saved : undefined;
    }, 240_000, 1000);
    t.ok(checkpoints, 'three checkpoints written, and the controller dated the last one from the epoch count');
    const started = Date.parse((await client.get<{ status?: { startTime?: string } }>(ref('background'))).status?.startTime ?? '');
    await submit('urgent', 2, 1, { priorityClassName: 'research-high' });
    const preemptedAt = Date.now();
    const queued = await eventually(async () => {
      const job = await client.get<Status & { metadata?: { annotations?: Record<string, string> } }>(ref('background'));
      const pods = JSON.parse(await kubectl(['get', 'pods', '-l', 'ml.example.com/trainingjob=background', '-o', 'json'])) as { items: unknown[] };
      return job.status?.state === 'Queued' && pods.items.length === 0 ? job : undefined;
    }, 120_000, 500);
    t.ok(queued, 'the lower-priority job is Queued and its workers are gone', queued ? {} : { diagnosis: await diagnose('background') });
    t.equal(queued?.metadata?.annotations?.['ml.example.com/queued'], 'preempted by urgent (priority 5000 > 100)');
    t.match(queued?.status?.lastCheckpoint, /^\/checkpoints\/epoch-\d+\.pt$/, 'the SIGTERMed workers reported their checkpoint');
    const reported = Number(/epoch-(\d+)\.pt$/.exec(queued?.status?.lastCheckpoint ?? '')?.[1]);
    const events = await eventsOf('background');
    const lost = Number(/Preempted: .* at most (\d+\.\d+) GPU-hours since the last checkpoint/.exec(events)?.[1]);
    const wholeRun = (2 * (preemptedAt - started)) / 3_600_000;
    // An epoch takes ≥ 6 s and the epoch count is scraped every 15 s: the work at risk is under half a minute, not the run.
    t.ok(lost >= 0 && lost <= (2 * 30) / 3600, `GPU-hours lost ${lost}: at most the time since the last checkpoint`, { events });
    t.ok(lost < wholeRun, `less than the whole run's ${wholeRun.toFixed(4)} GPU-hours`);

    const urgent = await finished('urgent');
    t.equal(urgent.final?.state, 'Completed', 'the higher-priority job ran');
    const { final, states } = await finished('background');
    t.equal(final?.state, 'Completed', `the preempted job resumed and completed (states: ${states.join(' → ')})`, final?.state === 'Completed' ? {} : { diagnosis: await diagnose('background') });
    t.equal(final?.restarts ?? 0, 0, 'a preemption is not a restart');
    const log = await rank0Logs('background');
    const resumed = log.find((l) => l.event === 'resumed');
    t.ok(resumed && (resumed.epoch ?? 0) >= reported, `resumed from epoch ${resumed?.epoch} (the reported checkpoint was epoch ${reported}), not epoch 0`);
    await kubectl(['delete', 'trainingpolicy', 'default-preemption']);
  });

  t.test('reclaimed from a borrower when the lender needs its GPUs: checkpoint on SIGTERM, Queued, then resumed from that epoch', async (t) => {
    // "default" has 1 GPU of its own and may borrow 2; "lend" lends its 2 while idle, then takes them back.
    await kubectl(['create', 'namespace', 'lend']);
    const cohortPolicy = (ns: string, gpuQuota: number, extra: Record<string, unknown>) => ({ apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name: `cohort-${ns}` }, spec: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, gpuQuota, overQuota: 'Queue', cohort: 'research', ...extra } });
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [cohortPolicy('default', 1, { borrowingLimit: 2 }), cohortPolicy('lend', 2, {})] }));
    await submit('borrower', 8, 6);
    type Job = Status & { metadata?: { annotations?: Record<string, string> }; status?: { lastCheckpointTime?: string; startTime?: string } };
    const borrowing = await eventually(async () => {
      const job = await client.get<Job>(ref('borrower'));
      return job.status?.state === 'Running' ? job : undefined;
    }, 180_000, 1000);
    t.equal(borrowing?.metadata?.annotations?.['ml.example.com/borrowed-gpus'], '1', 'started on its own GPU and one borrowed from lend', borrowing ? {} : { diagnosis: await diagnose('borrower') });
    t.match(borrowing?.status?.conditions?.find((c) => c.type === 'Borrowing'), { reason: 'BorrowedFromCohort', message: "1 of its 2 GPUs are borrowed from the namespace's cohort: reclaimable when the lender needs them" });
    const checkpoints = await eventually(async () => {
      const saved = (await rank0Logs('borrower')).filter((l) => l.event === 'checkpoint-saved');
      const s = (await client.get<Job>(ref('borrower'))).status;
      return saved.length >= 2 && s?.lastCheckpointTime ? saved : undefined;
    }, 240_000, 1000);
    t.ok(checkpoints, 'two checkpoints written before the lender needs its GPUs back');
    const started = Date.parse((await client.get<Job>(ref('borrower'))).status?.startTime ?? '');

    await submit('lender', 2, 1, { namespace: 'lend' });
    const reclaimedAt = Date.now();
    const queued = await eventually(async () => {
      const job = await client.get<Job>(ref('borrower'));
      const pods = JSON.parse(await kubectl(['get', 'pods', '-l', 'ml.example.com/trainingjob=borrower', '-o', 'json'])) as { items: unknown[] };
      return job.status?.state === 'Queued' && pods.items.length === 0 ? job : undefined;
    }, 120_000, 500);
    t.ok(queued, 'the borrower is Queued and its workers are gone', queued ? {} : { diagnosis: await diagnose('borrower') });
    t.equal(queued?.metadata?.annotations?.['ml.example.com/queued'], 'preempted by cohort research, reclaiming borrowed GPUs for lend (2 of its 2 in use)', 'the reclaim says who took the GPUs back, and why');
    t.match(queued?.status?.lastCheckpoint, /^\/checkpoints\/epoch-\d+\.pt$/, 'the SIGTERMed workers reported their checkpoint');
    const reported = Number(/epoch-(\d+)\.pt$/.exec(queued?.status?.lastCheckpoint ?? '')?.[1]);
    const events = await eventsOf('borrower');
    const lost = Number(/Preempted: preempted by cohort research.* at most (\d+\.\d+) GPU-hours since/.exec(events)?.[1]);
    const wholeRun = (2 * (reclaimedAt - started)) / 3_600_000;
    // An epoch takes ≥ 6 s and the epoch count is scraped every 15 s: the work at risk is under half a minute, not the run.
    t.ok(lost >= 0 && lost <= (2 * 30) / 3600, `GPU-hours lost ${lost}: at most the time since the last checkpoint`, { events });
    t.ok(lost < wholeRun, `less than the whole run's ${wholeRun.toFixed(4)} GPU-hours`);

    const lender = await finished('lender', 300_000, 'lend');
    t.equal(lender.final?.state, 'Completed', 'the lender\'s own job ran on its own GPUs');
    const { final, states } = await finished('borrower');
    t.equal(final?.state, 'Completed', `the reclaimed job borrowed again once the lender was idle, and completed (states: ${states.join(' → ')})`, final?.state === 'Completed' ? {} : { diagnosis: await diagnose('borrower') });
    t.equal(final?.restarts ?? 0, 0, 'a reclaim is not a restart');
    const resumed = (await rank0Logs('borrower')).find((l) => l.event === 'resumed');
    t.ok(resumed && (resumed.epoch ?? 0) >= reported, `resumed from epoch ${resumed?.epoch} (the reported checkpoint was epoch ${reported}), not epoch 0`);
    await kubectl(['delete', 'trainingpolicy', 'cohort-default', 'cohort-lend']);
    await kubectl(['delete', 'namespace', 'lend', '--wait=false']);
  });
}
