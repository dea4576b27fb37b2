import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../../../infra/cli/main.js';

/** A worker admin API answering /status with `body` (and 401 without the token when one is set). */
async function fakeAdmin(body: unknown, token?: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (token && req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401).end('unauthorized');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { url: `http://127.0.0.1:${address.port}`, server };
}

const status = {
  id: 'vm:1',
  draining: false,
  pausedForMemory: false,
  memory: { usedBytes: 3 * 1024 ** 2, limitBytes: 512 * 1024 ** 2, liveSeries: 40 },
  partitions: [
    {
      topic: 'readings',
      partition: 3,
      nextOffset: '120',
      lag: 0,
      checkpointAgeSeconds: 4,
      silentSeconds: 95,
      pipelines: [
        {
          name: 'temps',
          stateBytes: 1024 ** 2,
          liveSeries: 40,
          openWindows: 40,
          updates: 120,
          watermark: '2026-01-01T12:03:05.000Z',
          nextDue: '2026-01-01T12:04:05.000Z',
          idleAfterMs: 60_000,
        },
      ],
    },
  ],
};

async function run(args: string[]): Promise<{ out: string; code: number | undefined }> {
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await buildProgram().parseAsync(['node', 'liveagg', ...args]);
    return { out, code: process.exitCode as number | undefined };
  } finally {
    write.mockRestore();
    process.exitCode = before;
  }
}

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

describe('liveagg status', () => {
  it('shows each partition and pipeline of every worker asked: lag, silence, watermark, next due', async () => {
    const a = await fakeAdmin(status, 'secret-token-0123456789');
    servers.push(a.server);
    const { out, code } = await run(['status', '--admin', a.url, '--token', 'secret-token-0123456789']);
    expect(code).toBeUndefined();
    expect(out).toContain(
      `vm:1 at ${a.url}: running, 1 partitions, memory 3.0 MiB of 512.0 MiB, 40 live series`,
    );
    const row = out.split('\n').find((l) => l.startsWith('readings[3]'))!;
    expect(row.split(/\s{2,}/)).toEqual([
      'readings[3]',
      'temps',
      '0',
      '95s',
      '2026-01-01T12:03:05',
      '2026-01-01T12:04:05',
      '60s',
      '4s',
      '1.0 MiB',
      '40',
    ]);
  });

  it('says when a silent partition is paused for its idle advance', async () => {
    const advancing = { ...status, partitions: [{ ...status.partitions[0]!, idleAdvancing: true }] };
    const a = await fakeAdmin(advancing);
    servers.push(a.server);
    const { out } = await run(['status', '--admin', a.url]);
    const row = out.split('\n').find((l) => l.startsWith('readings[3]'))!;
    expect(row.split(/\s{2,}/)[3]).toBe('95s (advancing)');
  });

  it('--json carries every worker, and a worker that refuses makes the command fail', async () => {
    const a = await fakeAdmin(status);
    const b = await fakeAdmin(status, 'other-token-0123456789');
    servers.push(a.server, b.server);
    const { out, code } = await run(['status', '--admin', a.url, b.url, '--json']);
    expect(code).toBe(1);
    const doc = JSON.parse(out) as { workers: Record<string, unknown>[] };
    expect(doc.workers[0]).toMatchObject({ url: a.url, status: { id: 'vm:1' } });
    expect(doc.workers[1]).toMatchObject({ url: b.url, error: 'HTTP 401: unauthorized' });
  });
});
