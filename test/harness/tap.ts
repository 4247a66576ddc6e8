// Test glue: a control plane per test file, torn down (and its logs shown on failure) by tap.
import type { Test } from 'tap';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './controlplane.ts';

export async function controlPlaneFor(t: Test, opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const cp = await startControlPlane({ progress: (l) => t.comment(l), ...opts });
  t.teardown(async () => {
    if (!t.passing()) t.comment(`control-plane logs:\n${cp.logTails(40)}`);
    await cp.stop();
  });
  return cp;
}

/** Polls until `fn` returns a value (not undefined) or the timeout passes; returns the last value. */
export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 250): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let v: T | undefined;
    try {
      v = await fn();
    } catch {
      v = undefined;
    }
    if (v !== undefined || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
