// Labels and annotations git sync writes on each TrainingJob, so a job names the repository, file and revision it came from.
import { GROUP } from '../../api/group.ts';
import { MANAGED_BY_LABEL, REPOSITORY_LABEL } from '../../api/annotations.ts';

export { REPOSITORY_LABEL };
export const SOURCE_PATH_ANNOTATION = `${GROUP}/source-path`;
export const SOURCE_REVISION_ANNOTATION = `${GROUP}/source-revision`;
// Also the server-side apply field manager.
export const GITOPS_MANAGER = 'trainingjob-gitops';
export { MANAGED_BY_LABEL };

// "<namespace>.<name>": the label value that says which JobRepository owns a job.
export function repositoryLabelValue(repository: { namespace: string; name: string }): string {
  return `${repository.namespace}.${repository.name}`;
}
