import { describe, expect, it } from 'vitest';
import { CLOUDWATCH_NAMESPACE } from '../../../infra/aws/cloudwatch-publisher.js';
import { LIVEAGG_METRICS, LIVEAGG_NAMESPACE } from '../../../infra/deploy/metric-names.js';
import { PromWorkerMetrics } from '../../../infra/metrics/prom-worker-metrics.js';

describe('LIVEAGG_METRICS (the names alarms and the dashboard use)', () => {
  it('uses the namespace the worker publishes to', () => {
    expect(LIVEAGG_NAMESPACE).toBe(CLOUDWATCH_NAMESPACE);
  });

  it('lists only worker metrics the worker really registers, with their kind', async () => {
    const registered = new Map(
      (await new PromWorkerMetrics(false).registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]),
    );
    for (const m of LIVEAGG_METRICS.filter((x) => x.producer === 'worker')) {
      expect({ name: m.name, kind: registered.get(m.name) }).toEqual({ name: m.name, kind: m.kind });
    }
  });
});
