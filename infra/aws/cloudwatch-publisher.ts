import {
  type CloudWatchClient,
  type MetricDatum,
  PutMetricDataCommand,
  type StandardUnit,
} from '@aws-sdk/client-cloudwatch';
import type { Registry } from 'prom-client';

export const CLOUDWATCH_NAMESPACE = 'LiveAggregators';
/** PutMetricData accepts at most 1,000 data per request; stay well under the 1 MB payload cap too. */
const MAX_DATA_PER_REQUEST = 500;
/** Label names that become CloudWatch dimensions (at most 30 per datum). */
const DIMENSION_LABELS = ['pipeline', 'topic', 'partition', 'reason', 'sink', 'component'];

export interface PublisherIdentity {
  instanceId: string;
  instanceType: string;
}

interface MetricSample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * Publishes the worker's `la_*` metrics (the Prometheus registry) to CloudWatch: gauges as
 * values, counters as the increase since the previous publish, with dimensions for the
 * instance id and type plus the metric's own labels (pipeline, partition, reason…).
 */
export class CloudWatchPublisher {
  private readonly previous = new Map<string, number>();

  constructor(
    private readonly cw: Pick<CloudWatchClient, 'send'>,
    private readonly registry: Registry,
    private readonly identity: PublisherIdentity,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Builds the data of one publish (exposed for tests). */
  async collect(): Promise<MetricDatum[]> {
    const timestamp = this.now();
    const data: MetricDatum[] = [];
    for (const metric of await this.registry.getMetricsAsJSON()) {
      if (!metric.name.startsWith('la_') || metric.name.startsWith('la_process_')) continue;
      const type = String(metric.type);
      if (type !== 'counter' && type !== 'gauge') continue;
      for (const sample of metric.values as MetricSample[]) {
        const dims = [
          { Name: 'InstanceId', Value: this.identity.instanceId },
          { Name: 'InstanceType', Value: this.identity.instanceType },
          ...DIMENSION_LABELS.filter((l) => sample.labels[l] !== undefined).map((l) => ({
            Name: l,
            Value: String(sample.labels[l]),
          })),
        ];
        let value = sample.value;
        if (type === 'counter') {
          const key = `${metric.name}|${JSON.stringify(sample.labels)}`;
          const before = this.previous.get(key) ?? 0;
          this.previous.set(key, sample.value);
          value = Math.max(0, sample.value - before);
        }
        data.push({
          MetricName: metric.name,
          Dimensions: dims,
          Value: value,
          Timestamp: timestamp,
          Unit: unitOf(metric.name),
        });
      }
    }
    return data;
  }

  /** One publish, batched within the API's limits. Returns the number of data sent. */
  async publish(): Promise<number> {
    const data = await this.collect();
    for (let i = 0; i < data.length; i += MAX_DATA_PER_REQUEST) {
      await this.cw.send(
        new PutMetricDataCommand({
          Namespace: CLOUDWATCH_NAMESPACE,
          MetricData: data.slice(i, i + MAX_DATA_PER_REQUEST),
        }),
      );
    }
    return data.length;
  }
}

function unitOf(name: string): StandardUnit {
  if (name.endsWith('_bytes') || name.endsWith('_bytes_total')) return 'Bytes';
  if (name.endsWith('_seconds') || name.endsWith('_seconds_total')) return 'Seconds';
  return 'Count';
}
