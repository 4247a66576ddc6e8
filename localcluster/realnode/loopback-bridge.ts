// Host loopback ↔ node-namespace loopback, with no route between the two namespaces: an agent inside the
// node's namespace listens on a UNIX socket (a file, which both namespaces see) and dials the node's own
// loopback; on the host, a listener on 127.0.0.1 passes each connection to that socket. Run as a script:
//   loopback-bridge.ts agent SOCKET                        (inside the node's network namespace)
//   loopback-bridge.ts listen SOCKET HOSTPORT=NODEPORT...  (on the host)
import { createConnection, createServer, type Socket } from 'node:net';
import { rmSync } from 'node:fs';

const HEADER_MAX = 64;

/** Agent side: the first line of each connection names the node-loopback port to dial. */
export function serveAgent(socketPath: string): Promise<void> {
  rmSync(socketPath, { force: true });
  const server = createServer((client) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl < 0) {
        if (head.length > HEADER_MAX) client.destroy();
        return;
      }
      client.off('data', onData);
      client.pause();
      const port = Number(head.subarray(0, nl).toString('ascii'));
      // Only the node's own loopback: the agent is a door into one namespace, not a relay.
      if (!Number.isInteger(port) || port <= 0 || port > 65535) {
        client.destroy();
        return;
      }
      const upstream = createConnection({ host: '127.0.0.1', port });
      pipeBoth(client, upstream, head.subarray(nl + 1));
    };
    client.on('data', onData);
    client.on('error', () => client.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
}

/** Host side: each host-loopback port forwards to one node-loopback port through the agent. */
export async function serveListeners(socketPath: string, pairs: readonly { hostPort: number; nodePort: number }[]): Promise<void> {
  for (const { hostPort, nodePort } of pairs) {
    const server = createServer((client) => {
      client.pause();
      const upstream = createConnection(socketPath);
      upstream.write(`${nodePort}\n`);
      pipeBoth(client, upstream, Buffer.alloc(0));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(hostPort, '127.0.0.1', () => resolve());
    });
  }
}

function pipeBoth(client: Socket, upstream: Socket, early: Buffer): void {
  const close = (): void => {
    client.destroy();
    upstream.destroy();
  };
  upstream.on('error', close);
  client.on('error', close);
  upstream.once('connect', () => {
    if (early.length) upstream.write(early);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
  client.on('close', close);
  upstream.on('close', close);
}

export function parsePairs(args: readonly string[]): { hostPort: number; nodePort: number }[] {
  return args.map((a) => {
    const m = /^(\d+)=(\d+)$/.exec(a);
    if (!m) throw new Error(`expected HOSTPORT=NODEPORT, got '${a}'`);
    return { hostPort: Number(m[1]), nodePort: Number(m[2]) };
  });
}

if (import.meta.main) {
  const [mode, socketPath, ...rest] = process.argv.slice(2);
  const started = mode === 'agent' && socketPath ? serveAgent(socketPath) : mode === 'listen' && socketPath ? serveListeners(socketPath, parsePairs(rest)) : undefined;
  if (!started) {
    process.stderr.write('usage: loopback-bridge.ts agent SOCKET | listen SOCKET HOSTPORT=NODEPORT...\n');
    process.exit(2);
  }
  started.then(() => process.stdout.write(`ready ${mode}\n`), (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}
