// Concurrent calls inside one reconcile: all of them finish before it returns (per-key serialization holds), and the
// error it throws is the one awaiting them one by one would have thrown first.

/** Waits for every call, then throws the first failure in the calls' order, or returns every value. */
export async function settleAll<T>(calls: ReadonlyArray<Promise<T>>): Promise<T[]> {
  const results = await Promise.allSettled(calls);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
