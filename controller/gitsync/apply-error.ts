// How a write the apiserver refused reads in a JobRepository's status and events.
import { ApiException } from '@kubernetes/client-node';
import { apiErrorMessage } from '../../kube/api-error.ts';

/** The message of a refused apply as the user should read it (the webhook's words, verbatim). */
export function applyErrorMessage(err: unknown): string {
  const message = apiErrorMessage(err);
  return err instanceof ApiException && /immutable/.test(message) ? `${message} (to change it, rename the job: a new name makes a new TrainingJob)` : message;
}
