// The demo's real training, on the real node only: examples/trainer pushed to Git, trained with PyTorch DDP
// across two pods while status shows epoch and loss, one worker SIGKILLed mid-run, resumed from its checkpoint.
import { join } from 'node:path';
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { runCommand } from '../localcluster/controlplane.ts';
import { repoRoot } from '../localcluster/binaries.ts';
import type { Kubectl } from './demo.ts';
import type { ReadyCluster } from './cluster.ts';

export type TrainingDemoCluster = ReadyCluster & { trainer: { ref: string; archive: string }; containerdSocket: string };

export interface TrainingDemoInput {
  cluster: TrainingDemoCluster;
  kubectl: Kubectl;
  custom: CustomObjectsApi;
  say(line: string): void;
  poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T>;
  /** Commits the files, pushes, sends the push hook and waits for the sync. */
  push(files: Record<string, string>, message: string): Promise<void>;
}

const NAME = 'mlp-ddp';
const EPOCHS = 10;

export function trainerJobYaml(image: string): string {
  return `# examples/trainer: PyTorch DistributedDataParallel over gloo, on CPUs (gpusPerWorker 0 holds no GPU quota)
apiVersion: ml.example.com/v1
kind: TrainingJob
metadata:
  name: ${NAME}
  namespace: team-a
  labels: { team: research }
spec:
  framework: pytorch
  model: mlp
  dataset: synthetic
  image: ${image}
  numWorkers: 2
  gpusPerWorker: 0
  networking: { backend: gloo }
  resources: { requests: { cpu: 100m, memory: 256Mi }, limits: { cpu: "1", memory: 1Gi } }
  checkpoint: { frequency: 1, storage: { type: pvc, size: 1Gi } }
  hyperparameters: { learningRate: 0.05, batchSize: 128, epochs: ${EPOCHS}, minEpochSeconds: 3 }
`;
}

interface JobStatus { state?: string; progress?: string; currentEpoch?: number; restarts?: number; metrics?: { loss?: number } }

export async function trainingDemo(i: TrainingDemoInput): Promise<void> {
  const { cluster, kubectl, say } = i;
  const ctr = (args: string[]) => runCommand(join(cluster.binDir, 'ctr'), ['--address', cluster.containerdSocket, '--namespace', 'k8s.io', ...args], process.env);
  say('== 9. real training: examples/trainer (PyTorch DDP over gloo, 2 workers) pushed to Git; a worker is killed mid-run');
  if (!(await ctr(['images', 'ls', '-q'])).stdout.split('\n').includes(cluster.trainer.ref)) {
    say(`   loading ${cluster.trainer.ref} into the node (1.2 GB; once per cluster)`);
    const imported = await ctr(['images', 'import', cluster.trainer.archive]);
    if (imported.code !== 0) throw new Error(`demo: ctr images import ${cluster.trainer.archive} failed: ${imported.stderr.trim()}`);
  }
  say(`   $ git push   (team-a/${NAME}.yaml)`);
  await i.push({ [`team-a/${NAME}.yaml`]: trainerJobYaml(cluster.trainer.ref) }, `team-a: ${NAME}, trained for real`);

  const status = async (): Promise<JobStatus | undefined> => ((await i.custom.getNamespacedCustomObject({ group: 'ml.example.com', version: 'v1', namespace: 'team-a', plural: 'trainingjobs', name: NAME })) as { status?: JobStatus }).status;
  say('   status as the controller reports it (kubectl get tj -w shows STATE, PROGRESS and EPOCH; the loss is status.metrics.loss, scraped from rank 0):');
  let last = '';
  const watch = async (until: (s: JobStatus) => boolean, what: string): Promise<JobStatus> => i.poll(what, async () => {
    const s = await status();
    if (!s) return undefined;
    const line = `     ${NAME}  ${(s.state ?? '').padEnd(12)} ${(s.progress ?? '').padEnd(5)} epoch ${s.currentEpoch ?? '-'}/${EPOCHS}  loss ${s.metrics?.loss?.toFixed(4) ?? '-'}  restarts ${s.restarts ?? 0}`;
    if (line !== last) say(line);
    last = line;
    return until(s) ? s : undefined;
  }, 240_000);
  await watch((s) => s.state === 'Running' && (s.currentEpoch ?? 0) >= 3, 'three epochs (each checkpointed)');

  const listed = await kubectl.quiet(['get', 'pods', '-n', 'team-a', '-l', `ml.example.com/trainingjob=${NAME}`, '-o', 'json']);
  if (listed.code !== 0) throw new Error(`demo: kubectl get pods failed: ${listed.stderr.trim()}`);
  const pods = JSON.parse(listed.stdout) as { items: { metadata: { labels: Record<string, string> }; status: { containerStatuses?: { containerID?: string }[] } }[] };
  const victim = pods.items.find((p) => p.metadata.labels['batch.kubernetes.io/job-completion-index'] === '1')?.status.containerStatuses?.[0]?.containerID?.replace('containerd://', '');
  if (!victim) throw new Error('demo: worker 1 of the training job has no running container');
  say(`   $ ctr -n k8s.io tasks kill --signal SIGKILL ${victim.slice(0, 12)}…   (worker 1, as the OOM killer would)`);
  const killed = await ctr(['tasks', 'kill', '--signal', 'SIGKILL', victim]);
  if (killed.code !== 0) throw new Error(`demo: ctr tasks kill failed: ${killed.stderr.trim()}`);
  const end = await watch((s) => s.state === 'Completed' || s.state === 'Failed', 'the training job to finish');
  if (end.state !== 'Completed') throw new Error(`demo: the training job ended ${end.state}; kubectl describe tj ${NAME} -n team-a says why`);
  await kubectl(['get', 'events', '-n', 'team-a', '--field-selector', `involvedObject.name=${NAME}`, '--sort-by=.lastTimestamp']);
  say(`   $ trainingjob logs ${NAME} -n team-a --rank 0   (the restarted rank 0: it resumed from the checkpoint, then trained the rest)`);
  const logs = await runCommand(process.execPath, [join(repoRoot, 'bin', 'trainingjob.js'), 'logs', NAME, '-n', 'team-a', '--rank', '0'], { ...process.env, KUBECONFIG: cluster.kubeconfig });
  say(logs.stdout.trimEnd().split('\n').filter((l) => /"event": "(rendezvous|resumed|epoch|done)"/.test(l)).map((l) => `     ${l}`).join('\n'));
}
