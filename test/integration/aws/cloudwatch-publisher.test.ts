import { randomUUID } from 'node:crypto';
import { GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { PromAutoscalerGauges } from '../../../infra/autoscaler-run/prom-autoscaler-gauges.js';
import { createCloudWatchClient } from '../../../infra/aws/aws-clients.js';
import { CLOUDWATCH_NAMESPACE, CloudWatchPublisher } from '../../../infra/aws/cloudwatch-publisher.js';
import { LIVEAGG_METRICS, LIVEAGG_NAMESPACE, metricName } from '../../../infra/deploy/metric-names.js';
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

  it("publishes the autoscaler's la_drain_failures_total, the metric the deploy alarm sums over the namespace", async () => {
    const cw = createCloudWatchClient({ region: 'us-east-1', endpoint });
    // The alarm (infra/deploy/constructs/monitoring.ts) is SELECT SUM(<this name>) FROM <this namespace>, no dimension.
    const name = metricName('la_drain_failures_total');
    expect(LIVEAGG_METRICS.find((m) => m.name === name)).toMatchObject({
      producer: 'autoscaler',
      kind: 'counter',
    });
    const gauges = new PromAutoscalerGauges();
    const instanceId = `autoscaler/${randomUUID().slice(0, 12)}`;
    const publisher = new CloudWatchPublisher(cw, gauges.registry, {
      instanceId,
      instanceType: 'autoscaler',
    });
    expect((await publisher.collect()).some((d) => d.MetricName === name)).toBe(false); // nothing failed yet
    gauges.drainFailed('scale-in');
    gauges.drainFailed('scale-in');
    gauges.drainFailed('interruption');
    await publisher.publish();
    gauges.drainFailed('scale-in');
    await publisher.publish(); // the increase (1), not the running total (3)

    const listed = await cw.send(new ListMetricsCommand({ Namespace: LIVEAGG_NAMESPACE, MetricName: name }));
    const ours = (listed.Metrics ?? []).filter((m) =>
      m.Dimensions?.some((d) => d.Name === 'InstanceId' && d.Value === instanceId),
    );
    const reasons = ours.map((m) => m.Dimensions?.find((d) => d.Name === 'reason')?.Value).sort();
    expect([...new Set(reasons)]).toEqual(['interruption', 'scale-in']);
    const now = Date.now();
    const sumOf = async (reason: string) => {
      const res = await cw.send(
        new GetMetricDataCommand({
          StartTime: new Date(now - 10 * 60_000),
          EndTime: new Date(now + 60_000),
          MetricDataQueries: [
            {
              Id: 'failures',
              MetricStat: {
                Metric: {
                  Namespace: LIVEAGG_NAMESPACE,
                  MetricName: name,
                  Dimensions: [
                    { Name: 'InstanceId', Value: instanceId },
                    { Name: 'InstanceType', Value: 'autoscaler' },
                    { Name: 'reason', Value: reason },
                  ],
                },
                Period: 300,
                Stat: 'Sum',
              },
            },
          ],
        }),
      );
      return (res.MetricDataResults?.[0]?.Values ?? []).reduce((a, v) => a + v, 0);
    };
    expect(await sumOf('scale-in')).toBe(3);
    expect(await sumOf('interruption')).toBe(1);
    cw.destroy();
  });
});
