import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the admin API exposes; the worker runtime implements it. */
export interface AdminHandlers {
  /** Liveness: the process is up and its event loop turns. */
  healthy(): boolean;
  /** Readiness: assigned, restored, and consuming. */
  ready(): { ready: boolean; reason?: string };
  /** Prometheus text exposition. */
  metrics(): Promise<string>;
  /** Current status as a JSON document (partitions, state size, lag). */
  status(): Promise<unknown>;
  /** Checkpoint-then-drain; resolves when the worker has left the group. */
  drain(reason: string): Promise<unknown>;
  /** Checkpoint every owned partition now. */
  checkpoint(): Promise<unknown>;
}

export interface AdminServerOptions {
  host: string;
  port: number;
  /** Required for mutating endpoints whenever `host` is not loopback; optional on loopback. */
  token?: string;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * `/healthz`, `/readyz`, `/metrics`, `/status` (GET) and `/drain`, `/checkpoint` (POST).
 * Mutating endpoints demand `Authorization: Bearer <token>` when a token is configured
 * (always, off loopback); the comparison is constant-time and the token is never logged.
 */
export class AdminServer {
  private server: Server | undefined;
  private readonly tokenDigest: Buffer | undefined;

  constructor(
    private readonly handlers: AdminHandlers,
    private readonly opts: AdminServerOptions,
    private readonly log: (msg: string, fields?: Record<string, unknown>) => void = () => {},
  ) {
    if (!isLoopback(opts.host) && !opts.token) {
      throw new Error(
        `worker.admin.token: is required when worker.admin.host (${opts.host}) is not a loopback address`,
      );
    }
    this.tokenDigest = opts.token ? digest(opts.token) : undefined;
  }

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        this.log('admin request failed', { path: req.url, error: (err as Error).message });
        send(res, 500, { error: (err as Error).message });
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    return { host: addr.address, port: addr.port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const method = req.method ?? 'GET';
    if (method === 'GET' && path === '/healthz')
      return send(res, this.handlers.healthy() ? 200 : 503, { ok: this.handlers.healthy() });
    if (method === 'GET' && path === '/readyz') {
      const r = this.handlers.ready();
      return send(res, r.ready ? 200 : 503, r);
    }
    if (method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(await this.handlers.metrics());
      return;
    }
    if (method === 'GET' && path === '/status') return send(res, 200, await this.handlers.status());
    if (path === '/drain' || path === '/checkpoint') {
      if (method !== 'POST') return send(res, 405, { error: `${path} takes POST` });
      if (!this.authorized(req)) {
        this.log('admin request refused: missing or wrong bearer token', { path });
        res.setHeader('www-authenticate', 'Bearer');
        return send(res, 401, { error: 'unauthorized' });
      }
      this.log('admin request', { path });
      const result =
        path === '/drain' ? await this.handlers.drain('admin API') : await this.handlers.checkpoint();
      return send(res, 200, result);
    }
    return send(res, 404, { error: `no route ${method} ${path}` });
  }

  private authorized(req: IncomingMessage): boolean {
    if (!this.tokenDigest) return true;
    const header = req.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    // Compare fixed-length digests so neither the token's length nor its prefix leaks through timing.
    return timingSafeEqual(digest(presented), this.tokenDigest);
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
