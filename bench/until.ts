// Polling for benchmarks: the value once `fn` returns one, or an error naming what never happened.
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 240_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
