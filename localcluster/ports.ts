// Loopback port allocation: ask the kernel for free ports, and check requested ones up front.
import { createServer } from 'node:net';
import { LocalClusterError } from './errors.ts';

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Throws a PortInUse error naming the port and its user when `port` cannot be bound. */
export async function assertPortFree(port: number, purpose: string, host = '127.0.0.1'): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(new LocalClusterError('PortInUse', `port ${host}:${port} for ${purpose} is already taken by another process; free it or choose another port`, { port, purpose }));
      } else reject(err);
    });
    srv.listen(port, host, () => srv.close(() => resolve()));
  });
}
