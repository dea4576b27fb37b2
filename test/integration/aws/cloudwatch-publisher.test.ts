import { randomUUID } from 'node:crypto';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { createCloudWatchClient } from '../../../infra/aws/aws-clients.js';
import { CLOUDWATCH_NAMESPACE, CloudWatchPublisher } from '../../../infra/aws/cloudwatch-publisher.js';
import { stackConfigSchema } from '../../../infra/local/stack-config.js';
import { PromWorkerMetrics } from '../../../infra/metrics/prom-worker-metrics.js';

const endpoint =
  process.env['LA_TEST_AWS_ENDPOINT'] ?? `http://127.0.0.1:${stackConfigSchema.parse({}).awsPort}`;

describe('CloudWatchPublisher against moto', () => {
  it('publishes la_* gauges and counter increases with instance dimensions', async () => {
    const cw = createCloudWatchClient({ region: 'us-east-1', endpoint });
    const metrics = new PromWorkerMetrics(false);
    const instanceId = `i-${randomUUID().slice(0, 12)}`;
    const publisher = new CloudWatchPublisher(cw, metrics.registry, {
      instanceId,
      instanceType: 'c6g.large',
    });

    metrics.consumed('events', 0, 100, 15_000);
    metrics.memory(1000, 4000, 7, { p: 1000 });
    expect(await publisher.publish()).toBeGreaterThan(0);
    metrics.consumed('events', 0, 40, 6_000);
    const second = await publisher.collect();
    const records = second.find((d) => d.MetricName === 'la_consumer_records_total');
    expect(records?.Value).toBe(40);

    const now = new Date();
    const res = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(now.getTime() - 10 * 60_000),
        EndTime: new Date(now.getTime() + 60_000),
        MetricDataQueries: [
          {
            Id: 'used',
            MetricStat: {
              Metric: {
                Namespace: CLOUDWATCH_NAMESPACE,
                MetricName: 'la_memory_used_bytes',
                Dimensions: [
                  { Name: 'InstanceId', Value: instanceId },
                  { Name: 'InstanceType', Value: 'c6g.large' },
                ],
              },
              Period: 60,
              Stat: 'Maximum',
            },
          },
        ],
      }),
    );
    expect(res.MetricDataResults?.[0]?.Values).toContain(1000);
  });
});
