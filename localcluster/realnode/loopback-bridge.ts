// Host loopback ↔ node-namespace loopback, with no route between the two namespaces: an agent inside the
// node's namespace listens on a UNIX socket (a file, which both namespaces see) and dials the node's own
// loopback; on the host, a listener on 127.0.0.1 passes each connection to that socket. Run as a script:
//   loopback-bridge.ts agent SOCKET                        (inside the node's network namespace)
//   loopback-bridge.ts listen SOCKET HOSTPORT=NODEPORT...  (on the host)
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';

const HEADER_MAX = 64;
const HEADER_TIMEOUT_MS = 5000;

/** Agent side: the first line of each connection names the port to dial on the node's own loopback. */
export function serveAgent(socketPath: string): Promise<Server> {
  rmSync(socketPath, { force: true });
  const server = createServer({ allowHalfOpen: true }, (client) => {
    let head = Buffer.alloc(0);
    client.setTimeout(HEADER_TIMEOUT_MS, () => client.destroy());
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl < 0) {
        if (head.length > HEADER_MAX) client.destroy();
        return;
      }
      client.off('data', onData);
      client.pause();
      client.setTimeout(0);
      const port = Number(head.subarray(0, nl).toString('ascii'));
      if (!Number.isInteger(port) || port <= 0 || port > 65535) {
        client.destroy();
        return;
      }
      // Only the node's own loopback: the agent is a door into this namespace, not a relay elsewhere.
      const upstream = createConnection({ host: '127.0.0.1', port, allowHalfOpen: true });
      join2(client, upstream, head.subarray(nl + 1));
    };
    client.on('data', onData);
    client.on('error', () => client.destroy());
  });
  return listening(server, (s, done) => s.listen(socketPath, done));
}

/** Host side: each host-loopback port forwards to one node-loopback port through the agent. */
export async function serveListeners(socketPath: string, pairs: readonly { hostPort: number; nodePort: number }[]): Promise<Server[]> {
  const servers: Server[] = [];
  for (const { hostPort, nodePort } of pairs) {
    const server = createServer({ allowHalfOpen: true }, (client) => {
      client.pause();
      const upstream = createConnection({ path: socketPath, allowHalfOpen: true });
      upstream.write(`${nodePort}\n`);
      join2(client, upstream, Buffer.alloc(0));
    });
    servers.push(await listening(server, (s, done) => s.listen(hostPort, '127.0.0.1', done)));
  }
  return servers;
}

function listening(server: Server, listen: (s: Server, done: () => void) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    listen(server, () => {
      server.off('error', reject);
      // Out of file descriptors and such: this connection is refused, the bridge stays up.
      server.on('error', (err) => process.stderr.write(`loopback bridge: ${String(err)}\n`));
      resolve(server);
    });
  });
}

/** Joins two sockets both ways: an end travels as an end (half-close), only an error tears both down. */
function join2(client: Socket, upstream: Socket, early: Buffer): void {
  const fail = (): void => {
    client.destroy();
    upstream.destroy();
  };
  upstream.on('error', fail);
  client.on('error', fail);
  upstream.once('connect', () => {
    if (early.length) upstream.write(early);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
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
