// status.source from what git sync wrote on the job's metadata, so a synced file costs git sync one
// apply and no status write of its own (the controller writes status anyway).
import type { SourceReference, TrainingJob, TrainingJobStatus } from '../../api/index.ts';
import { SOURCE_PATH_ANNOTATION, SOURCE_REVISION_ANNOTATION, repositoryOfJob } from '../gitsync/source-metadata.ts';

/** The JobRepository, file and revision a job came from; undefined for a job not made by git sync. */
export function sourceOf(job: TrainingJob): SourceReference | undefined {
  const repository = repositoryOfJob(job);
  if (!repository) return undefined;
  const path = job.metadata?.annotations?.[SOURCE_PATH_ANNOTATION];
  const revision = job.metadata?.annotations?.[SOURCE_REVISION_ANNOTATION];
  return { repository, ...(path ? { path } : {}), ...(revision ? { revision } : {}) };
}

/** `status` with the job's current source; a job git sync does not manage keeps what it has. */
export function withSource(status: TrainingJobStatus, job: TrainingJob): TrainingJobStatus {
  const source = sourceOf(job);
  return source ? { ...status, source } : status;
}
