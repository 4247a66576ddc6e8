// `kubectl port-forward` to a Service on a free host-loopback port: how a person reaches an in-cluster
// endpoint (the controller's push receiver, say) without an Ingress. The stream runs through the apiserver
// and kubelet, so it works where the cluster's own addresses do not route from the host.
import { spawn } from 'node:child_process';
import { LocalClusterError } from './errors.ts';

export interface PortForward {
  /** http://127.0.0.1:<port> */
  url: string;
  stop(): void;
}

const FORWARDING = /Forwarding from 127\.0\.0\.1:(\d+) ->/;

export function portForward(kubectl: string, env: NodeJS.ProcessEnv, target: { namespace: string; resource: string; port: number }, timeoutMs = 30_000): Promise<PortForward> {
  const child = spawn(kubectl, ['port-forward', '-n', target.namespace, '--address', '127.0.0.1', target.resource, `:${target.port}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new LocalClusterError('ProcessExited', `kubectl port-forward -n ${target.namespace} ${target.resource} :${target.port} ${why}\n${output.trim()}`, { resource: target.resource }));
    };
    const timer = setTimeout(() => fail(`printed no local port within ${timeoutMs / 1000}s`), timeoutMs);
    const onOutput = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const m = FORWARDING.exec(output);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', onOutput);
      // Keep draining: a full pipe would stall kubectl's "Handling connection" lines.
      child.stdout.resume();
      resolve({ url: `http://127.0.0.1:${m[1]}`, stop: () => child.kill('SIGTERM') });
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString('utf8');
    });
    child.on('exit', (code) => fail(`exited (code ${code})`));
    child.on('error', (err) => fail(`could not start: ${err.message}`));
  });
}
