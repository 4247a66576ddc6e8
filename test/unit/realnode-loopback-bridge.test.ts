// The loopback bridge, both halves in this process (the agent's "node loopback" is this host's): bytes
// cross both ways, a client's half-close reaches the server while the reply still comes back whole, and
// a bad header is refused.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveAgent, serveListeners } from '../../localcluster/realnode/loopback-bridge.ts';
import { freePort } from '../../localcluster/ports.ts';

const dir = mkdtempSync(join(tmpdir(), 'tj-bridge-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const socket = join(dir, 'agent.sock');

// Reads everything until the client half-closes, then answers with a large reply and closes.
const upstream = createServer({ allowHalfOpen: true }, (s) => {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  s.on('end', () => s.end(Buffer.concat([Buffer.from('got:'), Buffer.concat(chunks), Buffer.alloc(1_000_000, 120)])));
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
t.teardown(() => new Promise<void>((r) => upstream.close(() => r())));
const upstreamPort = (upstream.address() as AddressInfo).port;
const agent = await serveAgent(socket);
const hostPort = await freePort();
const listeners = await serveListeners(socket, [{ hostPort, nodePort: upstreamPort }]);
t.teardown(() => {
  for (const s of [agent, ...listeners]) s.close();
});

t.test('a request crosses, its half-close arrives, and the whole reply comes back', async (t) => {
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const c = createConnection({ port: hostPort, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    c.on('data', (d: Buffer) => chunks.push(d));
    c.on('end', () => resolve(Buffer.concat(chunks)));
    c.on('error', reject);
    c.end('hello');
  });
  t.equal(reply.subarray(0, 9).toString(), 'got:hello');
  t.equal(reply.length, 9 + 1_000_000, 'not a byte lost when the server closes right after writing');
});

t.test('the agent refuses a header that is not a port', async (t) => {
  const closed = await new Promise<string>((resolve) => {
    const c = createConnection(socket);
    let got = '';
    c.on('data', (d: Buffer) => (got += d.toString()));
    c.on('close', () => resolve(got));
    c.on('error', () => resolve(got));
    c.write('10.0.0.1:443\n');
  });
  t.equal(closed, '', 'closed without a byte');
});
