// How writes and events made for a JobRepository name it: the identity a write acts as, the object an event is about.
import { GROUP, JOBREPOSITORY_KIND, V1, type JobRepository } from '../../api/index.ts';
import type { KubeClient } from '../../kube/index.ts';
import type { InvolvedObject } from '../events.ts';

/** The client that writes on the repository's behalf, as its spec.serviceAccountName (none: the controller's own identity). */
export function actingAs(client: KubeClient, repo: JobRepository): KubeClient {
  const sa = repo.spec.serviceAccountName;
  return sa ? client.as(`system:serviceaccount:${repo.metadata!.namespace!}:${sa}`) : client;
}

/** The JobRepository as the object its events are about. */
export function involved(repo: JobRepository): InvolvedObject {
  return { apiVersion: `${GROUP}/${V1}`, kind: JOBREPOSITORY_KIND, namespace: repo.metadata!.namespace!, name: repo.metadata!.name!, uid: repo.metadata?.uid };
}
