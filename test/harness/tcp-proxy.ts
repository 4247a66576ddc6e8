// A loopback TCP proxy in front of the apiserver, so a test can cut every open connection
// (long-running watches included) the way a load balancer or NAT timeout would.
import { createServer, connect, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface TcpProxy {
  port: number;
  /** Client connections open right now. */
  connections(): number;
  /** Connections accepted since the start. */
  accepted(): number;
  /** Destroys every open connection through the proxy; new connections still work. */
  dropAll(): number;
  /** The next bytes sent on an already used connection reset it instead: a server closing an idle keep-alive connection just as a request arrives. */
  resetNextReuse(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let accepted = 0;
  let resetArmed = false;
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    accepted++;
    open.add(client);
    open.add(upstream);
    let used = false;
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => {
      if (resetArmed && used) {
        resetArmed = false;
        client.resetAndDestroy();
        return end();
      }
      used = true;
      upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    connections: () => open.size / 2,
    accepted: () => accepted,
    resetNextReuse: () => void (resetArmed = true),
    dropAll() {
      const n = open.size / 2;
      for (const s of open) s.destroy();
      open.clear();
      return n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The same kubeconfig (credentials, CA) pointed at another server URL, e.g. a proxy's. */
export function viaServer(kc: KubeConfig, server: string): KubeConfig {
  const out = new KubeConfig();
  out.loadFromOptions({ clusters: [{ ...kc.getCurrentCluster()!, server }], users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
  return out;
}
