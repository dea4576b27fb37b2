import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createCloudWatchClient } from '../../../infra/aws/aws-clients.js';
import { CloudWatchMetricsSource } from '../../../infra/aws/cloudwatch-metrics-source.js';
import { CloudWatchPublisher } from '../../../infra/aws/cloudwatch-publisher.js';
import { PromWorkerMetrics } from '../../../infra/metrics/prom-worker-metrics.js';
import { awsConnection } from '../helpers/stack-endpoints.js';

const cw = createCloudWatchClient(awsConnection);
afterAll(() => cw.destroy());

describe('CloudWatchMetricsSource against moto', () => {
  it('reads back what two workers published: records per stream, busy CPU, lag per partition, state', async () => {
    const topic = 'events';
    const workers = [
      {
        id: `i-${randomUUID().slice(0, 12)}`,
        type: 'm6i.xlarge',
        records: [300, 200],
        busy: 6,
        lag: 40,
        bytes: 5_000,
      },
      {
        id: `i-${randomUUID().slice(0, 12)}`,
        type: 'c6i.xlarge',
        records: [100, 0],
        busy: 2,
        lag: 10,
        bytes: 2_000,
      },
    ];
    for (const [n, w] of workers.entries()) {
      const metrics = new PromWorkerMetrics(false);
      const p = new CloudWatchPublisher(cw, metrics.registry, { instanceId: w.id, instanceType: w.type });
      metrics.consumed(topic, n, w.records[0] ?? 0, 1000);
      metrics.busy('consumer', w.busy / 2);
      metrics.busy('aggregator', w.busy / 2);
      metrics.lag(topic, n, w.lag);
      metrics.memory(w.bytes, 10_000, 7, {});
      await p.publish();
      metrics.consumed(topic, n, w.records[1] ?? 0, 1000);
      await p.publish();
    }
    // Unique instance ids keep other tests' data in the shared namespace out of this snapshot.
    const ours = new Set(workers.map((w) => w.id));
    const source = new CloudWatchMetricsSource(cw, { includeInstance: (id) => ours.has(id) });
    const snapshot = await source.observe(600_000);
    expect(snapshot).toBeDefined();
    if (!snapshot) return;
    expect(snapshot.windowMs).toBe(600_000);
    const byId = new Map(snapshot.workers.map((w) => [w.instanceId, w]));
    const first = byId.get(workers[0]?.id ?? '');
    expect(first).toMatchObject({
      instanceType: 'm6i.xlarge',
      busyCpuSeconds: 6,
      stateBytes: 5_000,
      liveSeries: 7,
    });
    expect(first?.streams).toEqual([{ stream: topic, records: 500, busyCpuSeconds: 6 }]);
    expect(byId.get(workers[1]?.id ?? '')?.streams).toEqual([
      { stream: topic, records: 100, busyCpuSeconds: 2 },
    ]);
    expect(snapshot.streams).toEqual([
      { stream: topic, recordsPerSecond: 600 / 600, lagByPartition: { '0': 40, '1': 10 }, partitions: 2 },
    ]);
  });

  it('returns undefined (hold capacity) when the namespace has no data', async () => {
    const source = new CloudWatchMetricsSource(cw, {
      namespace: `LiveAggregatorsEmpty/${randomUUID().slice(0, 8)}`,
    });
    expect(await source.observe(300_000)).toBeUndefined();
  });
});
