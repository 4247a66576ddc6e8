// Minimal HTTPS/HTTP GET with client certificates, for readiness probes of the control plane.
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';

export interface TlsClient {
  caPem?: string;
  /** Skip server verification: only for component health probes on self-signed loopback certs. */
  insecure?: boolean;
  certPem?: string;
  keyPem?: string;
}

export async function getText(url: string, tls?: TlsClient, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  const req = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const r = req(u, { method: 'GET', timeout: timeoutMs, ca: tls?.caPem || undefined, rejectUnauthorized: !tls?.insecure, cert: tls?.certPem, key: tls?.keyPem, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error(`GET ${url} timed out`)));
    r.on('error', reject);
    r.end();
  });
}
