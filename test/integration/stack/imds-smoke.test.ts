import { describe, expect, it, onTestFinished } from 'vitest';
import { imdsGet, startImdsScenario } from '../../../infra/local/imds-service.js';
import { imdsEndpoint, scenarioPort } from '../helpers/stack-endpoints.js';

const ACTION = '/latest/meta-data/spot/instance-action';
const REBALANCE = '/latest/meta-data/events/recommendations/rebalance';

describe('EC2 metadata mock', () => {
  it('the stack instance serves metadata with no spot notice and no rebalance recommendation', async () => {
    const id = await imdsGet(imdsEndpoint, '/latest/meta-data/instance-id');
    expect(id.status).toBe(200);
    expect(id.body).toMatch(/^i-/);
    expect((await imdsGet(imdsEndpoint, ACTION)).status).toBe(404);
    expect((await imdsGet(imdsEndpoint, REBALANCE)).status).toBe(404);
  });

  it('a scenario instance answers 404 on spot/instance-action until its delay passes, then the notice', async () => {
    const delaySec = 3;
    const started = Date.now();
    const mock = await startImdsScenario({
      port: scenarioPort(),
      action: 'stop',
      delaySec,
      rebalanceDelaySec: 1,
    });
    onTestFinished(() => mock.stop());
    const before = await imdsGet(mock.endpoint, ACTION);
    // The scenario process started less than `delaySec` ago: no notice yet.
    expect(Date.now() - started).toBeLessThan(delaySec * 1000);
    expect(before.status).toBe(404);

    let notice: { status: number; body: string } | undefined;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const r = await imdsGet(mock.endpoint, ACTION);
      if (r.status === 200) {
        notice = r;
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(notice).toBeDefined();
    // The mock counts its delay in whole seconds from its start: allow up to one second early.
    expect(Date.now() - started).toBeGreaterThanOrEqual((delaySec - 1) * 1000);
    const parsed = JSON.parse(notice?.body ?? '{}') as { action?: string; time?: string };
    expect(parsed.action).toBe('stop');
    expect(Number.isNaN(Date.parse(parsed.time ?? ''))).toBe(false);

    const rebalance = await imdsGet(mock.endpoint, REBALANCE);
    expect(rebalance.status).toBe(200);
    expect(JSON.parse(rebalance.body)).toHaveProperty('noticeTime');
  });
});
