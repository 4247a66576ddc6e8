// The apply step of a sync: each file read goes to the cluster on its own, so one bad file never blocks the others.
import * as fs from 'node:fs';
import { GROUP, TRAININGJOB_PLURAL, type JobRepository } from '../../api/index.ts';
import { deepEqual } from '../../api/json.ts';
import type { KubeClient } from '../../kube/index.ts';
import type { EventRecorder } from '../events.ts';
import { readManifestBlob } from '../gitsource/manifest-blob.ts';
import type { GitSyncMetrics } from '../metrics.ts';
import type { ReconcileContext } from '../runtime/index.ts';
import { applyErrorMessage } from './apply-error.ts';
import { manifestsOfFile } from './manifests.ts';
import { actingAs, involved } from './repository-refs.ts';
import { GITOPS_MANAGER } from './source-metadata.ts';
import type { Fetched } from './step-fetch.ts';
import type { FilesToRead } from './step-read.ts';
import { nextInventory, type CarryOver, type FileOutcome } from './sync-plan.ts';
import type { Ready } from './sync-status.ts';

export interface Applied {
  /** Inventory and errors after this sync, before any prune. */
  next: CarryOver;
  /** Jobs the files read declare. */
  jobs: number;
  ready: Ready;
}

export interface ApplyStepOptions {
  repo: JobRepository;
  fetched: Fetched;
  read: FilesToRead;
  previous: CarryOver;
  client: KubeClient;
  metrics: GitSyncMetrics;
  events: EventRecorder;
  log: ReconcileContext['logger'];
}

/**
 * Apply: each file read, by server-side apply as the repository's ServiceAccount; a file that cannot be read, parsed
 * or applied becomes errors of its own. Decides inventory and errors (files not read carry theirs over), and Ready:
 * ManifestErrors while any file has errors, else Synced. Records a ManifestRejected event for each error the status
 * does not show yet.
 */
export async function applyStep({ repo, fetched, read, previous, client, metrics, events, log }: ApplyStepOptions): Promise<Applied> {
  const { commit } = fetched;
  const outcomes: FileOutcome[] = [];
  for (const [file, oid] of read.files) outcomes.push(oid ? await applyFile({ repo, file, oid, fetched, client, log }) : { file, jobs: [], errors: [] });
  const touched = new Set([...read.files.keys(), ...read.problems.map((p) => p.file)]);
  const refused = read.problems.map((p) => ({ file: p.file, jobs: previous.inventory.filter((e) => e.file === p.file), errors: [p] }));
  const next = nextInventory(previous, [...outcomes, ...refused], touched, read.full);

  const newErrors = next.errors.filter((e) => !previous.errors.some((p) => deepEqual(p, e)));
  for (const e of newErrors) await events.record(involved(repo), 'Warning', 'ManifestRejected', `${e.file}${e.line ? `:${e.line}` : ''}: ${e.message}`);
  if (next.errors.length) metrics.errors.inc({ namespace: repo.metadata!.namespace!, name: repo.metadata!.name!, kind: 'file' }, newErrors.length);

  const first = next.errors[0];
  const ready: Ready = first
    ? { status: 'False', reason: 'ManifestErrors', message: `revision ${commit.slice(0, 12)} applied with ${next.errors.length} error${next.errors.length === 1 ? '' : 's'} in ${new Set(next.errors.map((e) => e.file)).size} file(s); first: ${first.file}${first.line ? `:${first.line}` : ''}: ${first.message}` }
    : { status: 'True', reason: 'Synced', message: `revision ${commit.slice(0, 12)}: ${next.inventory.length} jobs` };
  return { next, jobs: outcomes.flatMap((o) => o.jobs).length, ready };
}

interface ApplyFileOptions {
  repo: JobRepository;
  file: string;
  oid: string;
  fetched: Fetched;
  client: KubeClient;
  log: ReconcileContext['logger'];
}

async function applyFile({ repo, file, oid, fetched, client, log }: ApplyFileOptions): Promise<FileOutcome> {
  const { commit: revision, gitdir, cache } = fetched;
  const namespace = repo.metadata!.namespace!;
  const blob = await readManifestBlob({ fs, gitdir, file, oid, cache });
  if ('message' in blob) return { file, jobs: [], errors: [{ file, message: blob.message }] };
  const entries = manifestsOfFile({ file, text: blob.text, repository: { namespace, name: repo.metadata!.name!, annotations: repo.metadata?.annotations }, revision });
  const outcome: FileOutcome = { file, jobs: [], errors: [] };
  const writer = actingAs(client, repo);
  for (const e of entries) {
    if ('message' in e) {
      outcome.errors.push({ file, line: e.line, message: e.message });
      continue;
    }
    const obj = e.object as { apiVersion: string; kind: string; metadata: { name: string } };
    outcome.jobs.push({ name: obj.metadata.name, file });
    try {
      // status.source follows from the labels and annotations of this apply (controller/trainingjob/source.ts).
      await writer.apply({ group: GROUP, version: obj.apiVersion.split('/')[1]!, namespace, plural: TRAININGJOB_PLURAL, name: obj.metadata.name }, obj, { fieldManager: GITOPS_MANAGER, force: true });
    } catch (err) {
      const message = applyErrorMessage(err);
      log.info({ file, line: e.line, job: obj.metadata.name }, 'apply refused');
      outcome.errors.push({ file, line: e.line, message });
    }
  }
  return outcome;
}
