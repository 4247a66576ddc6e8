// A mistake in the command line: printed without a stack, exit code 2.
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An error whose message is written for the user (e.g. the local cluster's): printed without a stack, exit code 1. */
export function isExpectedError(err: unknown): err is Error {
  return err instanceof Error && (err as { expected?: unknown }).expected === true;
}

/** node:util parseArgs refusing an option or value: a usage mistake, not a crash. */
export function isParseArgsError(err: unknown): err is Error {
  return err instanceof TypeError && String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_');
}
