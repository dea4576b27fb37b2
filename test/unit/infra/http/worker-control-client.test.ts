import { afterEach, describe, expect, it } from 'vitest';
import { isNotFound, isRetryable } from '../../../../autoscaler/ports/errors.js';
import { type AdminHandlers, AdminServer } from '../../../../infra/http/admin-server.js';
import { WorkerControlClient } from '../../../../infra/http/worker-control-client.js';

const servers: AdminServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

/** A real admin server on loopback with scripted handlers; records drain reasons. */
async function startWorker(overrides: Partial<AdminHandlers> = {}, token = 'sekret') {
  const calls: string[] = [];
  const handlers: AdminHandlers = {
    healthy: () => true,
    ready: () => ({ ready: true }),
    metrics: async () => '',
    status: async () => ({
      id: 'w1',
      draining: false,
      memory: { usedBytes: 1234 },
      partitions: [{ checkpointAgeSeconds: 4 }, { checkpointAgeSeconds: 9.5 }],
    }),
    drain: async (reason) => {
      calls.push(`drain:${reason}`);
      return {
        reason,
        checkpoints: [{ id: 'ck-1' }, { id: 'ck-2' }],
        seconds: 2.5,
        complete: true,
        problems: [],
      };
    },
    checkpoint: async () => ({ checkpoints: [{ id: 'ck-9' }] }),
    ...overrides,
  };
  const server = new AdminServer(handlers, { host: '127.0.0.1', port: 0, token });
  servers.push(server);
  const { port } = await server.start();
  return { url: `http://127.0.0.1:${port}`, calls };
}

function client(url: string | undefined, token = 'sekret') {
  return new WorkerControlClient({
    endpointOf: async (id) => (id === 'i-1' ? url : undefined),
    token,
    requestTimeoutMs: 2000,
  });
}

describe('WorkerControlClient against a real admin server', () => {
  it('drains with the bearer token and returns the checkpoints', async () => {
    const { url, calls } = await startWorker();
    const result = await client(url).drain('i-1', { timeoutMs: 5000, reason: 'scale-in' });
    expect(result).toEqual({ instanceId: 'i-1', checkpointIds: ['ck-1', 'ck-2'], seconds: 2.5 });
    expect(calls).toEqual(['drain:admin API']);
  });

  it('a drain slower than timeoutMs is a retryable DrainTimeoutError', async () => {
    const { url } = await startWorker({
      drain: () => new Promise((r) => setTimeout(() => r({ complete: true }), 1500)),
    });
    const error = await client(url)
      .drain('i-1', { timeoutMs: 200, reason: 'scale-in' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DRAIN_TIMEOUT', instanceId: 'i-1', timeoutMs: 200 });
    expect(isRetryable(error)).toBe(true);
  });

  it('an incomplete drain (worker deadline passed) is a DrainTimeoutError naming the problems', async () => {
    const { url } = await startWorker({
      drain: async () => ({
        checkpoints: [],
        seconds: 90,
        complete: false,
        problems: ['p3: checkpoint upload timed out'],
      }),
    });
    const error = (await client(url)
      .drain('i-1', { timeoutMs: 5000, reason: 'scale-in' })
      .catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'DRAIN_TIMEOUT' });
    expect((error.cause as Error).message).toContain('checkpoint upload timed out');
  });

  it('a wrong token is a non-retryable error that says which setting to fix', async () => {
    const { url } = await startWorker();
    const error = (await client(url, 'wrong')
      .checkpoint('i-1')
      .catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'WORKER_UNAUTHORIZED', retryable: false });
    expect(error.message).toContain('worker.admin.token');
  });

  it('checkpoints and reports status (ready, partitions, state bytes, oldest checkpoint age)', async () => {
    const { url } = await startWorker();
    expect((await client(url).checkpoint('i-1')).checkpointIds).toEqual(['ck-9']);
    expect(await client(url).status('i-1')).toEqual({
      instanceId: 'i-1',
      state: 'ready',
      ownedPartitions: 2,
      stateBytes: 1234,
      checkpointAgeMs: 9500,
    });
  });

  it('status is draining while a drain runs, starting while not ready, unreachable when nothing answers', async () => {
    const draining = await startWorker({ status: async () => ({ draining: true, partitions: [] }) });
    expect((await client(draining.url).status('i-1')).state).toBe('draining');
    const booting = await startWorker({ ready: () => ({ ready: false, reason: 'restoring' }) });
    expect((await client(booting.url).status('i-1')).state).toBe('starting');
    const gone = await startWorker();
    await servers.pop()?.stop();
    expect((await client(gone.url).status('i-1')).state).toBe('unreachable');
  });

  it('an unknown instance is InstanceNotFoundError; a dead worker is a retryable unreachable error', async () => {
    const { url } = await startWorker();
    expect(
      isNotFound(
        await client(url)
          .drain('i-unknown', { timeoutMs: 1000, reason: 'x' })
          .catch((e: unknown) => e),
      ),
    ).toBe(true);
    await servers.pop()?.stop();
    const error = await client(url)
      .checkpoint('i-1')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WORKER_UNREACHABLE', retryable: true });
  });
});
