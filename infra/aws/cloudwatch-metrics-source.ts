import {
  type CloudWatchClient,
  type Dimension,
  GetMetricDataCommand,
  ListMetricsCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { MetricsSnapshot, MetricsSource } from '../../autoscaler/ports/metrics-source.js';
import {
  buildSnapshot,
  COUNTER_METRICS,
  GAUGE_METRICS,
  type WindowSample,
} from '../metrics/window-samples.js';
import { callAws } from './aws-errors.js';
import { CLOUDWATCH_NAMESPACE } from './cloudwatch-publisher.js';

/** GetMetricData takes at most 500 queries per call. */
const QUERIES_PER_CALL = 500;

export interface CloudWatchMetricsSourceOptions {
  namespace?: string;
  now?: () => number;
  /** Resolution of the gauges' "latest value", seconds (60 for standard-resolution metrics). */
  gaugePeriodSeconds?: number;
  /** Only series that received data within the last 3 h (ListMetrics RecentlyActive); off for emulators that lack it. */
  recentlyActiveOnly?: boolean;
  /** Keep only these workers' series (e.g. the fleet's instances); all when unset. */
  includeInstance?: (instanceId: string) => boolean;
}

interface Series {
  metric: string;
  dimensions: Dimension[];
  counter: boolean;
}

/**
 * MetricsSource over CloudWatch: the `la_*` metrics workers publish (CloudWatchPublisher) in the `LiveAggregators`
 * namespace, one series per (metric, InstanceId, InstanceType, labels). Counters are published as increases per
 * interval, so their window value is the Sum over the window; gauges take the newest Maximum. Series are discovered
 * with ListMetrics and read with batched GetMetricData.
 */
export class CloudWatchMetricsSource implements MetricsSource {
  private readonly namespace: string;
  private readonly now: () => number;
  private readonly gaugePeriodSeconds: number;
  constructor(
    private readonly cloudwatch: Pick<CloudWatchClient, 'send'>,
    private readonly options: CloudWatchMetricsSourceOptions = {},
  ) {
    this.namespace = options.namespace ?? CLOUDWATCH_NAMESPACE;
    this.now = options.now ?? Date.now;
    this.gaugePeriodSeconds = options.gaugePeriodSeconds ?? 60;
  }

  async observe(windowMs: number): Promise<MetricsSnapshot | undefined> {
    const endMs = this.now();
    const series: Series[] = [];
    for (const metric of COUNTER_METRICS) series.push(...(await this.list(metric, true)));
    for (const metric of GAUGE_METRICS) series.push(...(await this.list(metric, false)));
    if (series.length === 0) return undefined;
    // One period spanning the whole window (whole minutes), so a counter's Sum is its increase over the window.
    const counterPeriod = Math.max(60, Math.ceil(windowMs / 60_000) * 60);
    const queries: MetricDataQuery[] = series.map((s, i) => ({
      Id: `q${i}`,
      ReturnData: true,
      MetricStat: {
        Metric: { Namespace: this.namespace, MetricName: s.metric, Dimensions: s.dimensions },
        Period: s.counter ? counterPeriod : this.gaugePeriodSeconds,
        Stat: s.counter ? 'Sum' : 'Maximum',
      },
    }));
    // End one second late: timestamps have 1 s resolution, so a datum published this second would fall outside.
    const results = await fetchMetricData(
      this.cloudwatch,
      queries,
      new Date(endMs - windowMs),
      new Date(endMs + 1000),
    );
    const samples: WindowSample[] = [];
    series.forEach((s, i) => {
      const points = results.get(`q${i}`);
      if (!points || points.length === 0) return;
      const value = s.counter
        ? points.reduce((sum, p) => sum + p.value, 0)
        : points.reduce((newest, p) => (p.timestampMs > newest.timestampMs ? p : newest)).value;
      const dims = Object.fromEntries(s.dimensions.map((d) => [d.Name ?? '', d.Value ?? '']));
      const { InstanceId: instanceId, InstanceType: instanceType, ...labels } = dims;
      if (!instanceId) return;
      samples.push({ instanceId, instanceType: instanceType ?? 'unknown', metric: s.metric, labels, value });
    });
    return buildSnapshot(samples, { observedAtMs: endMs, windowMs });
  }

  private async list(metric: string, counter: boolean): Promise<Series[]> {
    // Keyed by the dimension set: some implementations list a series once per datum.
    const out = new Map<string, Series>();
    let nextToken: string | undefined;
    do {
      const page = await callAws('ListMetrics', () =>
        this.cloudwatch.send(
          new ListMetricsCommand({
            Namespace: this.namespace,
            MetricName: metric,
            ...(this.options.recentlyActiveOnly ? { RecentlyActive: 'PT3H' as const } : {}),
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        ),
      );
      for (const m of page.Metrics ?? []) {
        const dimensions = m.Dimensions ?? [];
        const instanceId = dimensions.find((d) => d.Name === 'InstanceId')?.Value;
        if (!instanceId || !(this.options.includeInstance?.(instanceId) ?? true)) continue;
        const key = dimensions
          .map((d) => `${d.Name}=${d.Value}`)
          .sort()
          .join(',');
        out.set(key, { metric, dimensions, counter });
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return [...out.values()];
  }
}

/** Runs GetMetricData for any number of queries (batches of 500, every page); points by query id. */
export async function fetchMetricData(
  cloudwatch: Pick<CloudWatchClient, 'send'>,
  queries: MetricDataQuery[],
  start: Date,
  end: Date,
): Promise<Map<string, { timestampMs: number; value: number }[]>> {
  const results = new Map<string, { timestampMs: number; value: number }[]>();
  for (let i = 0; i < queries.length; i += QUERIES_PER_CALL) {
    const batch = queries.slice(i, i + QUERIES_PER_CALL);
    let nextToken: string | undefined;
    do {
      const page = await callAws('GetMetricData', () =>
        cloudwatch.send(
          new GetMetricDataCommand({
            MetricDataQueries: batch,
            StartTime: start,
            EndTime: end,
            ScanBy: 'TimestampDescending',
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        ),
      );
      for (const r of page.MetricDataResults ?? []) {
        if (!r.Id) continue;
        const points = results.get(r.Id) ?? [];
        const values = r.Values ?? [];
        const stamps = r.Timestamps ?? [];
        values.forEach((value, j) => {
          points.push({ timestampMs: stamps[j]?.getTime() ?? 0, value });
        });
        results.set(r.Id, points);
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return results;
}
