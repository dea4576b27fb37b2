import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkerStatus } from '../../autoscaler/ports/worker-control.js';
import type { AutoscalerRuntime } from '../autoscaler-run/build-autoscaler.js';
import { DashboardState } from './dashboard-state.js';
import { renderFragment, renderPage } from './dashboard-view.js';

export interface DashboardOptions {
  /** Port on 127.0.0.1 (0 = any free port). */
  port: number;
  runtime: AutoscalerRuntime;
  /** The input rate being offered now, records/s (the demo's load generator), if known. */
  inputRate?: () => number;
  /** Browser poll period. */
  pollMs?: number;
}

export interface Dashboard {
  url: string;
  state: DashboardState;
  close(): Promise<void>;
}

/**
 * Serves the live dashboard: `/` (the page), `/fragment` (its live part, server-rendered HTML + inline SVG),
 * `/api/state` (the same as JSON) and `/metrics` (the autoscaler's own gauges). Worker statuses (partitions, state
 * size) are polled in the background.
 */
export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const rt = opts.runtime;
  const state = new DashboardState(rt.policy, opts.inputRate);
  rt.decisionLog.subscribe((r) => state.add(r));
  const statuses = new Map<string, WorkerStatus>();
  let polling = false;
  const poll = setInterval(() => {
    if (polling) return;
    polling = true;
    const ids = (state.fleet?.instances ?? [])
      .filter((i) => i.state !== 'terminated')
      .map((i) => i.instanceId);
    void Promise.all(ids.map(async (id) => statuses.set(id, await rt.workers.status(id))))
      .catch(() => undefined)
      .finally(() => {
        polling = false;
      });
  }, 3000);
  poll.unref();
  const page = renderPage(
    'Live Aggregators — autoscaler',
    `${rt.policy.dryRun ? 'dry run · ' : ''}loop every ${rt.policy.intervalMs / 1000} s · target utilization ${Math.round(rt.policy.targetUtilization * 100)} % · units ${rt.policy.minUnits}–${rt.policy.maxUnits} · decision log ${rt.decisionLog.file}`,
    opts.pollMs ?? 2000,
  );
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'text/plain', 'GET only\n');
    if (path === '/') return send(200, 'text/html; charset=utf-8', page);
    if (path === '/fragment')
      return send(200, 'text/html; charset=utf-8', renderFragment(state, statuses, Date.now()));
    if (path === '/api/state')
      return send(
        200,
        'application/json',
        JSON.stringify({
          samples: state.samples,
          entries: state.entries,
          fleet: state.fleet ?? null,
          counts: state.counts,
          costSoFar: state.costSoFar,
          statuses: Object.fromEntries(statuses),
        }),
      );
    if (path === '/metrics') {
      void rt.gauges.text().then((t) => send(200, 'text/plain; version=0.0.4', t));
      return;
    }
    send(404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(opts.port, '127.0.0.1', () => done());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    state,
    close: () =>
      new Promise<void>((done) => {
        clearInterval(poll);
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
