// The read step of a sync: which files of the fetched commit this sync applies.
import * as fs from 'node:fs';
import git from 'isomorphic-git';
import { CONTROLLER_NAME, manifestPath, type JobRepository, type SyncError, type TrainingJob } from '../../api/index.ts';
import type { Informer, KubeObject } from '../../kube/index.ts';
import type { EventRecorder } from '../events.ts';
import { changedFiles } from '../gitsource/changed-files.ts';
import { GitSyncError } from '../gitsource/errors.ts';
import { listManifestFiles } from '../gitsource/tree.ts';
import type { ReconcileContext } from '../runtime/index.ts';
import { argoCdTrackingStale } from './argocd-tracking.ts';
import { involved } from './repository-refs.ts';
import { GITOPS_MANAGER } from './source-metadata.ts';
import type { Fetched } from './step-fetch.ts';
import type { CarryOver } from './sync-plan.ts';
import type { Ready } from './sync-status.ts';

export interface FilesToRead {
  /** Every file under path was listed: nothing carries over from the last sync. */
  full: boolean;
  /** File → blob; undefined for a file the diff saw deleted. */
  files: Map<string, string | undefined>;
  /** Tree entries refused while listing (symlinks, ".." entries), each an error of its file. */
  problems: SyncError[];
}

export interface ReadStepOptions {
  repo: JobRepository;
  fetched: Fetched;
  previous: CarryOver;
  /** A poll or request is due: files refused last time are tried again. */
  due: boolean;
  jobs: Informer<TrainingJob & KubeObject>;
  driftOf: WeakMap<object, boolean>;
  events: EventRecorder;
  log: ReconcileContext['logger'];
}

/**
 * Read: every file under path on a first sync, a new generation or a cache that lost the last applied commit; else
 * the git diff since it, plus the files of drifted jobs, plus (when due) the files refused last time. Decides no status
 * field when it works; a failure decides Ready=False with the GitSyncError's code (ReadFailed for anything else)
 * and its message, and lastFetchedRevision.
 */
export async function readStep({ repo, fetched, previous, due, jobs, driftOf, events, log }: ReadStepOptions): Promise<FilesToRead | { failed: Ready }> {
  const { commit, gitdir, cache } = fetched;
  const namespace = repo.metadata!.namespace!;
  const path = manifestPath(repo);
  const prevRevision = repo.status?.lastAppliedRevision;
  // A cache that lost the last applied commit (a restarted pod, an emptied cache dir) cannot diff from it: read everything.
  const full = !prevRevision || repo.status?.observedGeneration !== repo.metadata?.generation || !(await inCache(gitdir, prevRevision, cache));
  const files = new Map<string, string | undefined>();
  const problems: SyncError[] = [];
  try {
    if (full) {
      const listing = await listManifestFiles({ fs, gitdir, commit, path, cache });
      for (const f of listing.files) files.set(f.file, f.oid);
      problems.push(...listing.problems.map((p) => ({ file: p.file, message: p.message })));
    } else {
      if (prevRevision !== commit) {
        const diff = await changedFiles({ fs, gitdir, oldCommit: prevRevision, newCommit: commit, path, cache });
        for (const c of diff.changes) files.set(c.file, c.change === 'deleted' ? undefined : c.oid);
        problems.push(...diff.problems.map((p) => ({ file: p.file, message: p.message })));
      }
      // Drift: a git-managed job deleted or edited by hand, or not yet in its repository's Argo CD Application, gets its file applied again.
      const repository = { namespace, name: repo.metadata!.name!, annotations: repo.metadata?.annotations };
      const drifted = previous.inventory.filter((e) => {
        if (!e.file || files.has(e.file)) return false;
        const job = jobs.get(namespace, e.name);
        // A file refused last time waits for a due poll, like any refused file, rather than being sent again on every event.
        const refused = previous.errors.some((err) => err.file === e.file);
        return isDrifted(driftOf, job) || ((due || !refused) && argoCdTrackingStale(repository, { name: e.name, annotations: job?.metadata?.annotations }));
      });
      // Files refused last time are retried on each poll: quota frees up, RBAC gets granted, the webhook comes back.
      const retry = due ? [...new Set(previous.errors.map((e) => e.file))].filter((f) => !files.has(f)) : [];
      if (drifted.length || retry.length) {
        const listing = await listManifestFiles({ fs, gitdir, commit, path, cache });
        const blobs = new Map(listing.files.map((f) => [f.file, f.oid]));
        for (const e of drifted) files.set(e.file!, blobs.get(e.file!));
        for (const f of retry) if (blobs.has(f)) files.set(f, blobs.get(f));
        if (drifted.length) log.info({ jobs: drifted.map((e) => e.name) }, 'correcting drift');
      }
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await events.record(involved(repo), 'Warning', 'ReadFailed', message);
    return { failed: { status: 'False', reason: err instanceof GitSyncError ? err.code : 'ReadFailed', message } };
  }
  return { full, files, problems };
}

async function inCache(gitdir: string, oid: string, cache: object): Promise<boolean> {
  try {
    await git.readCommit({ fs, gitdir, oid, cache });
    return true;
  } catch {
    return false;
  }
}

// Edited by someone else after our last apply (a field manager other than ours, newer than ours), or gone.
function isDrifted(driftOf: WeakMap<object, boolean>, job: (TrainingJob & KubeObject) | undefined): boolean {
  if (!job) return true;
  let drifted = driftOf.get(job);
  if (drifted === undefined) driftOf.set(job, (drifted = editedByOthers(job)));
  return drifted;
}

function editedByOthers(job: TrainingJob & KubeObject): boolean {
  const fields = (job.metadata as { managedFields?: Array<{ manager?: string; time?: string; fieldsV1?: { 'f:spec'?: unknown } }> } | undefined)?.managedFields ?? [];
  const ours = fields.filter((f) => f.manager === GITOPS_MANAGER).map((f) => f.time ?? '').sort().at(-1) ?? '';
  // managedFields times have whole seconds: an edit in the same second as our apply counts (a spare re-apply is harmless).
  return fields.some((f) => f.manager !== GITOPS_MANAGER && f.manager !== CONTROLLER_NAME && f.fieldsV1?.['f:spec'] !== undefined && (f.time ?? '') >= ours);
}
