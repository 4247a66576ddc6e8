// OPA's command line for the admission bench, pure so a unit test can check it stays on loopback
// and never phones home.

export function opaServerArgs({ port, certPath, keyPath, policyPath, dataPath }: { port: number; certPath: string; keyPath: string; policyPath: string; dataPath: string }): string[] {
  return [
    // Without --disable-telemetry OPA reports its version to a public host at start.
    'run', '--server', '--disable-telemetry', `--addr=127.0.0.1:${port}`,
    `--tls-cert-file=${certPath}`, `--tls-private-key-file=${keyPath}`,
    // No per-request log lines and no decision logs, as OPA is commonly tuned for admission.
    '--log-level=error',
    // OPA's documented tuning for read-heavy data (policies and jobs are read on every query).
    '--optimize-store-for-read-speed',
    '--set=default_decision=trainingjob/admission/main',
    policyPath, dataPath,
  ];
}
