// Starts the two halves of the loopback bridge (loopback-bridge.ts): the agent inside the node's network
// namespace, and the host listeners, one host-loopback port per node port the harness reaches.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../ports.ts';
import { startProcess, waitUntil, type ManagedProcess } from '../process.ts';
import { NODE_PORTS } from './addresses.ts';
import type { NodeNamespaces } from './namespaces.ts';

const script = join(import.meta.dirname, 'loopback-bridge.ts');

/** Node ports the host reaches: the control plane's health and API ports, CoreDNS's readiness, the git server. */
const bridgedPorts = [NODE_PORTS.etcdClient, NODE_PORTS.apiserver, NODE_PORTS.controllerManager, NODE_PORTS.scheduler, NODE_PORTS.dnsReady, NODE_PORTS.git];

/** Returns the host port bridged to each node port; `apiserverPort` fixes the apiserver's host port. */
export async function startLoopbackBridge(
  dir: string, ns: NodeNamespaces, apiserverPort: number | undefined,
  track: (p: ManagedProcess, exe: string) => ManagedProcess, timeoutMs: number,
): Promise<(nodePort: number) => number> {
  const socket = join(dir, 'node-loopback.sock');
  const logPath = join(dir, 'loopback-bridge.log');
  // A kept cluster folder may hold the last run's socket and log: neither may pass for this run's readiness.
  for (const f of [socket, logPath]) rmSync(f, { force: true });
  const { command, args } = ns.enter(process.execPath, [script, 'agent', socket]);
  const agent = track(startProcess({ name: 'loopback-bridge-agent', command, args, logPath: join(dir, 'loopback-bridge-agent.log') }), process.execPath);
  await waitUntil(agent, 'listening', async () => existsSync(socket), timeoutMs);

  const hostPorts = new Map<number, number>();
  for (const p of bridgedPorts) hostPorts.set(p, p === NODE_PORTS.apiserver && apiserverPort ? apiserverPort : await freePort());
  const pairs = [...hostPorts].map(([nodePort, hostPort]) => `${hostPort}=${nodePort}`);
  const listener = track(startProcess({ name: 'loopback-bridge', command: process.execPath, args: [script, 'listen', socket, ...pairs], logPath }), process.execPath);
  await waitUntil(listener, 'listening', async () => readFileSync(logPath, 'utf8').includes('ready listen'), timeoutMs);
  return (nodePort) => {
    const hostPort = hostPorts.get(nodePort);
    if (hostPort === undefined) throw new Error(`node port ${nodePort} is not bridged to the host`);
    return hostPort;
  };
}
