// The demo's TrainingJobs, for either kind of node: kwok's simulated workers run for `kwokRunTime`; on the
// real node the workers are real pods of the node's worker image, held running with `--hold=SECONDS`.
import type { NodeKind } from './cluster.ts';

export interface DemoJob {
  name: string;
  model: string;
  workers: number;
  gpus: number;
  /** How long each worker runs. */
  seconds: number;
  framework?: string;
  dataset?: string;
  /** The job's team label (the policy requires one). */
  team?: string;
}

export function demoJobYaml(node: NodeKind, job: DemoJob): string {
  const run = node === 'real'
    ? { args: `  args: [--hold=${job.seconds}]\n`, hyper: '' }
    : { args: '', hyper: `, kwokRunTime: ${job.seconds}s` };
  return `apiVersion: ml.example.com/v1
kind: TrainingJob
metadata:
  name: ${job.name}
  namespace: team-a
  labels: { team: ${job.team ?? 'team-a'} }
spec:
${job.framework ? `  framework: ${job.framework}\n` : ''}  model: ${job.model}
  dataset: ${job.dataset ?? 'wikipedia'}
  numWorkers: ${job.workers}
  gpusPerWorker: ${job.gpus}
${run.args}  hyperparameters: { learningRate: 0.0001, batchSize: 32, epochs: 3${run.hyper} }
`;
}

/** What the demo's first Git push holds: the team-a examples on kwok; on the real node, the same two jobs
 *  without the registry images and the many-CPU requests a one-node, no-registry cluster cannot run. */
export function firstPushFiles(node: NodeKind, readExample: (file: string) => string): Record<string, string> {
  if (node === 'kwok') return Object.fromEntries(['bert-finetune.yaml', 'xgboost-churn.yaml'].map((f) => [`team-a/${f}`, readExample(f)]));
  return {
    'team-a/bert-finetune.yaml': demoJobYaml(node, { name: 'bert-finetune', framework: 'tensorflow', model: 'bert-base-uncased', dataset: 'support-tickets-2024q2', workers: 2, gpus: 2, seconds: 600, team: 'nlp' }),
    'team-a/xgboost-churn.yaml': demoJobYaml(node, { name: 'xgboost-churn', framework: 'xgboost', model: 'churn-gbdt', dataset: 'churn-features-2024-06', workers: 4, gpus: 0, seconds: 600, team: 'growth' }),
  };
}
