// Labels and annotations git sync writes on each TrainingJob, so a job names the repository, file and revision it came from.
import { createHash } from 'node:crypto';
import { GROUP } from '../../api/group.ts';
import { MANAGED_BY_LABEL, REPOSITORY_LABEL } from '../../api/annotations.ts';

export { REPOSITORY_LABEL };
export const SOURCE_PATH_ANNOTATION = `${GROUP}/source-path`;
export const SOURCE_REVISION_ANNOTATION = `${GROUP}/source-revision`;
// The JobRepository's name in full (the label may be shortened).
export const SOURCE_REPOSITORY_ANNOTATION = `${GROUP}/source-repository`;
// Also the server-side apply field manager.
export const GITOPS_MANAGER = 'trainingjob-gitops';
export { MANAGED_BY_LABEL };

const MAX_LABEL_VALUE = 63;

// "<namespace>.<name>": the label value that says which JobRepository owns a job. Label values hold 63
// characters and a repository name up to 253: a longer pair keeps its start plus a hash of the whole.
export function repositoryLabelValue(repository: { namespace: string; name: string }): string {
  const full = `${repository.namespace}.${repository.name}`;
  if (full.length <= MAX_LABEL_VALUE) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 10);
  return `${full.slice(0, MAX_LABEL_VALUE - hash.length - 1).replace(/[^A-Za-z0-9]+$/, '')}-${hash}`;
}

/** The repository (in the job's namespace) that applied a job: from the annotation, or the label of jobs applied before it. */
export function repositoryOfJob(job: { metadata?: { namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } }): string | undefined {
  const named = job.metadata?.annotations?.[SOURCE_REPOSITORY_ANNOTATION];
  if (named) return named;
  const label = job.metadata?.labels?.[REPOSITORY_LABEL];
  const ns = job.metadata?.namespace;
  return label && ns && label.startsWith(`${ns}.`) ? label.slice(ns.length + 1) : undefined;
}
