import { afterEach, describe, expect, it } from 'vitest';
import { type AdminHandlers, AdminServer } from '../../../../infra/http/admin-server.js';

class FakeHandlers implements AdminHandlers {
  drains = 0;
  checkpoints = 0;
  isReady = false;
  healthy(): boolean {
    return true;
  }
  ready() {
    return this.isReady ? { ready: true } : { ready: false, reason: 'restoring' };
  }
  async metrics(): Promise<string> {
    return 'la_consumer_records_total 5\n';
  }
  async status(): Promise<unknown> {
    return { partitions: [] };
  }
  async drain(): Promise<unknown> {
    this.drains += 1;
    return { drained: true };
  }
  async checkpoint(): Promise<unknown> {
    this.checkpoints += 1;
    return { checkpoints: [] };
  }
}

describe('AdminServer', () => {
  let server: AdminServer | undefined;
  afterEach(async () => {
    await server?.stop();
  });

  const start = async (handlers: FakeHandlers, token?: string) => {
    server = new AdminServer(handlers, { host: '127.0.0.1', port: 0, ...(token ? { token } : {}) });
    const { port } = await server.start();
    return `http://127.0.0.1:${port}`;
  };

  it('serves health, readiness and metrics', async () => {
    const h = new FakeHandlers();
    const base = await start(h);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ ready: false, reason: 'restoring' });
    h.isReady = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('la_consumer_records_total');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('requires the bearer token for mutating endpoints when one is set', async () => {
    const h = new FakeHandlers();
    const base = await start(h, 's3cret');
    expect((await fetch(`${base}/drain`, { method: 'POST' })).status).toBe(401);
    expect(
      (await fetch(`${base}/drain`, { method: 'POST', headers: { authorization: 'Bearer wrong' } })).status,
    ).toBe(401);
    expect(h.drains).toBe(0);
    const ok = await fetch(`${base}/checkpoint`, {
      method: 'POST',
      headers: { authorization: 'Bearer s3cret' },
    });
    expect(ok.status).toBe(200);
    expect(h.checkpoints).toBe(1);
    expect((await fetch(`${base}/drain`, { method: 'GET' })).status).toBe(405);
  });

  it('refuses to listen beyond loopback without a token', () => {
    expect(() => new AdminServer(new FakeHandlers(), { host: '0.0.0.0', port: 0 })).toThrow(
      'worker.admin.token',
    );
  });
});
