// Jobs a JobRepository applies join the Argo CD Application that manages the JobRepository, so a team sees them, with
// our Lua health and actions, in that Application's tree. Argo CD tracks by annotation (its default since 3.0): a
// resource whose tracking id names an Application, and names the resource itself, is that Application's. Git, not
// Argo CD, declares these jobs, so they also say: never drift (IgnoreExtraneous), never pruned, never deleted with
// the Application (git sync prunes them; deleting the Application keeps them, as deleting a JobRepository does).
import { GROUP, JOBREPOSITORY_KIND, TRAININGJOB_KIND } from '../../api/group.ts';

export const ARGOCD_TRACKING_ANNOTATION = 'argocd.argoproj.io/tracking-id';
export const ARGOCD_INSTALLATION_ANNOTATION = 'argocd.argoproj.io/installation-id';
export const ARGOCD_COMPARE_OPTIONS_ANNOTATION = 'argocd.argoproj.io/compare-options';
export const ARGOCD_SYNC_OPTIONS_ANNOTATION = 'argocd.argoproj.io/sync-options';
const ARGOCD_ANNOTATIONS = [ARGOCD_TRACKING_ANNOTATION, ARGOCD_INSTALLATION_ANNOTATION, ARGOCD_COMPARE_OPTIONS_ANNOTATION, ARGOCD_SYNC_OPTIONS_ANNOTATION];

interface Identity {
  namespace: string;
  name: string;
  annotations?: Record<string, string> | undefined;
}

/** Argo CD's tracking id, "<application>:<group>/<kind>:<namespace>/<name>". */
function trackingId(application: string, kind: string, namespace: string, name: string): string {
  return `${application}:${GROUP}/${kind}:${namespace}/${name}`;
}

/**
 * The Argo CD Application managing a repository, from the repository's own tracking id; undefined when none does.
 * An id copied from another object (not naming this repository) is ignored, as Argo CD itself ignores it.
 */
export function argoCdApplicationOf(repo: Identity): string | undefined {
  const id = repo.annotations?.[ARGOCD_TRACKING_ANNOTATION];
  const suffix = `:${GROUP}/${JOBREPOSITORY_KIND}:${repo.namespace}/${repo.name}`;
  if (!id?.endsWith(suffix)) return undefined;
  const application = id.slice(0, -suffix.length);
  return application && !application.includes(':') ? application : undefined;
}

/** The annotations that put a job into its repository's Argo CD Application; {} when no Application manages the repository. */
export function argoCdAnnotations(repo: Identity, job: string): Record<string, string> {
  const application = argoCdApplicationOf(repo);
  if (!application) return {};
  const installation = repo.annotations?.[ARGOCD_INSTALLATION_ANNOTATION];
  return {
    [ARGOCD_TRACKING_ANNOTATION]: trackingId(application, TRAININGJOB_KIND, repo.namespace, job),
    ...(installation ? { [ARGOCD_INSTALLATION_ANNOTATION]: installation } : {}),
    [ARGOCD_COMPARE_OPTIONS_ANNOTATION]: 'IgnoreExtraneous',
    [ARGOCD_SYNC_OPTIONS_ANNOTATION]: 'Prune=false,Delete=false',
  };
}

/** A manifest's own annotations with the Argo CD ones on top; a tracked repository's installation id (or none) wins over the manifest's. */
export function withArgoCdAnnotations(own: Record<string, string>, repo: Identity, job: string): Record<string, string> {
  const out = { ...own, ...argoCdAnnotations(repo, job) };
  if (argoCdApplicationOf(repo) && !repo.annotations?.[ARGOCD_INSTALLATION_ANNOTATION]) delete out[ARGOCD_INSTALLATION_ANNOTATION];
  return out;
}

/**
 * A live job whose Argo CD annotations are not what its repository now implies (the repository was adopted by an
 * Application, or moved to another): its file is applied again. Untracked repositories check nothing, since a job's
 * own manifest may carry a tracking id.
 */
export function argoCdTrackingStale(repo: Identity, job: { name: string; annotations?: Record<string, string> | undefined }): boolean {
  if (!argoCdApplicationOf(repo)) return false;
  const own = job.annotations ?? {};
  const want = withArgoCdAnnotations(own, repo, job.name);
  return ARGOCD_ANNOTATIONS.some((k) => want[k] !== own[k]);
}
