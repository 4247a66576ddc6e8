// A mistake in the command line: printed without a stack, exit code 2.
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An error whose message is written for the user (e.g. the local cluster's): printed without a stack, exit code 1. */
export function isExpectedError(err: unknown): err is Error {
  return err instanceof Error && (err as { expected?: unknown }).expected === true;
}
