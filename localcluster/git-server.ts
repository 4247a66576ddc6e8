// A real smart-HTTP git server on loopback: a Node http server that runs `git http-backend` as CGI per request,
// with optional basic or bearer auth, and a down/up switch on the same port for failure tests.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { hermeticGitEnv } from './git-cli.ts';

export type GitServerAuth = { username: string; password: string } | { token: string };

export interface GitServer {
  port: number;
  /** Folder holding the bare repositories (GIT_PROJECT_ROOT). */
  root: string;
  /** http://127.0.0.1:<port>/<name>.git */
  url(name: string): string;
  /** Header that passes the server's auth check, for the git CLI (`-c http.extraHeader=...`); undefined without auth. */
  authHeader: string | undefined;
  /** Creates `<name>.git` as a bare repository that accepts pushes over HTTP. */
  createRepo(name: string, opts?: { defaultBranch?: string }): string;
  /** Requests answered so far (any status), for tests that count round trips. */
  requests(): number;
  /** Closes the listener and every open connection: clients get ECONNREFUSED. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  /** Kills running backends, closes the server and removes the root. */
  stop(): Promise<void>;
}

export interface GitServerOptions {
  auth?: GitServerAuth;
  /** Defaults to a new temp folder, removed by stop(). */
  root?: string;
  /** Address to listen on (default 127.0.0.1); the real node's server listens inside its own namespace. */
  host?: string;
  /** Port to listen on (default: any free one). */
  port?: number;
  /** Accept pushes only from loopback (the real node's server: pods may fetch, only people push, through the bridge). */
  pushFromLoopbackOnly?: boolean;
}

const BACKEND = join(execFileSync('git', ['--exec-path'], { encoding: 'utf8' }).trim(), 'git-http-backend');

const isLoopback = (addr: string | undefined): boolean => addr !== undefined && (addr.startsWith('127.') || addr === '::1' || addr.startsWith('::ffff:127.'));

function authHeaderFor(auth: GitServerAuth | undefined): string | undefined {
  if (!auth) return undefined;
  if ('token' in auth) return `Bearer ${auth.token}`;
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}

// CGI response: headers (Status: among them) up to a blank line, then the body.
function pipeCgi(child: ChildProcess, res: ServerResponse): void {
  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    if (headersDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const crlf = head.indexOf('\r\n\r\n');
    const lf = head.indexOf('\n\n');
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : -1;
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    const rest = head.subarray(end);
    if (rest.length > 0) res.write(rest);
  });
  child.stdout?.on('end', () => {
    if (!headersDone) res.writeHead(502);
    res.end();
  });
}

export async function startGitServer(opts: GitServerOptions = {}): Promise<GitServer> {
  const ownRoot = opts.root === undefined;
  const root = opts.root ?? mkdtempSync(join(tmpdir(), 'git-server-'));
  const expected = authHeaderFor(opts.auth);
  const children = new Set<ChildProcess>();
  const sockets = new Set<Socket>();
  let served = 0;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    served++;
    if (expected !== undefined && req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"', 'Content-Type': 'text/plain' });
      res.end('authentication required\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const pushing = url.pathname.endsWith('/git-receive-pack') || url.searchParams.get('service') === 'git-receive-pack';
    if (pushing && opts.pushFromLoopbackOnly && !isLoopback(req.socket.remoteAddress)) {
      res.writeHead(403, { 'Content-Type': 'text/plain' });
      res.end('pushes are accepted from loopback only\n');
      return;
    }
    const env: NodeJS.ProcessEnv = {
      ...hermeticGitEnv(),
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      GATEWAY_INTERFACE: 'CGI/1.1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      REMOTE_USER: opts.auth && 'username' in opts.auth ? opts.auth.username : 'git',
    };
    if (req.headers['content-length'] !== undefined) env.CONTENT_LENGTH = req.headers['content-length'];
    // git sends large request bodies gzipped; http-backend inflates them when told.
    if (req.headers['content-encoding'] !== undefined) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
    const protocol = req.headers['git-protocol'];
    if (typeof protocol === 'string') env.GIT_PROTOCOL = protocol;
    const child = spawn(BACKEND, [], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    children.add(child);
    child.on('exit', () => children.delete(child));
    child.on('error', () => {
      children.delete(child);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
    child.stdin?.on('error', () => undefined);
    req.pipe(child.stdin!);
    res.on('close', () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    pipeCgi(child, res);
  };

  let server: Server | undefined;
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const s = createServer(handle);
      s.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      s.once('error', reject);
      s.listen(port, opts.host ?? '127.0.0.1', () => {
        server = s;
        const addr = s.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  const close = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (!s) return;
    for (const child of children) child.kill('SIGKILL');
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  const port = await listen(opts.port ?? 0);
  return {
    port,
    root,
    authHeader: expected,
    url: (name) => `http://127.0.0.1:${port}/${name}.git`,
    createRepo(name, repoOpts = {}) {
      const dir = join(root, `${name}.git`);
      mkdirSync(dir, { recursive: true });
      const env = hermeticGitEnv();
      execFileSync('git', ['init', '--quiet', '--bare', `--initial-branch=${repoOpts.defaultBranch ?? 'main'}`, dir], { env });
      execFileSync('git', ['-C', dir, 'config', 'http.receivepack', 'true'], { env });
      return dir;
    },
    requests: () => served,
    down: close,
    async up() {
      if (!server) await listen(port);
    },
    async stop() {
      await close();
      if (ownRoot) rmSync(root, { recursive: true, force: true });
    },
  };
}
