import { type CloudWatchClient, ListMetricsCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import {
  type _InstanceType,
  DescribeInstancesCommand,
  DescribeSpotPriceHistoryCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { DRAIN_REASON_TAG, DRAINING_TAG } from '../../autoscaler/ports/fleet-provider.js';
import { callAws } from '../aws/aws-errors.js';
import { fetchMetricData } from '../aws/cloudwatch-metrics-source.js';
import { CLOUDWATCH_NAMESPACE } from '../aws/cloudwatch-publisher.js';
import type { Ec2Api } from '../aws/ec2-instances.js';
import type { CostInputs, HourlyWork, SpotPricePoint, UsageInstance } from './cost-model.js';
import type { PriceTable } from './price-table.js';

const HOUR_MS = 3_600_000;

/** Which instances belong to the fleet: one tag (the fleet's own, e.g. `aws:autoscaling:groupName`). */
export interface FleetSelector {
  tagKey: string;
  tagValue: string;
}

/** The tag AWS puts on instances of an Auto Scaling group / Spot Fleet / EC2 Fleet. */
export const FLEET_TAGS = {
  asg: 'aws:autoscaling:groupName',
  spotFleet: 'aws:ec2spot:fleet-request-id',
  ec2Fleet: 'aws:ec2:fleet-id',
} as const;

export interface UsageReadOptions {
  selector: FleetSelector;
  sinceMs: number;
  untilMs: number;
  priceTable: PriceTable;
  namespace?: string;
}

/** "User initiated (2026-11-26 18:00:00 GMT)" → epoch ms. */
export function transitionTimeMs(reason: string | undefined): number | undefined {
  const m = /\((\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) GMT\)/.exec(reason ?? '');
  return m ? Date.parse(`${m[1]}T${m[2]}Z`) : undefined;
}

function usageOf(
  instance: Instance,
  untilMs: number,
  table: PriceTable,
  notes: Set<string>,
): UsageInstance | undefined {
  if (!instance.InstanceId || !instance.LaunchTime) return undefined;
  const tags: Record<string, string> = {};
  for (const t of instance.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
  const type = instance.InstanceType ?? 'unknown';
  const state = instance.State?.Name;
  const ended =
    state === 'terminated' || state === 'shutting-down' || state === 'stopped' || state === 'stopping';
  const endMs = ended ? (transitionTimeMs(instance.StateTransitionReason) ?? untilMs) : untilMs;
  const cpu = instance.CpuOptions;
  const vcpu =
    table.prices[type]?.vcpu ??
    (cpu?.CoreCount && cpu.ThreadsPerCore ? cpu.CoreCount * cpu.ThreadsPerCore : undefined);
  if (vcpu === undefined)
    notes.add(`vCPU count of ${type} unknown: counted as 1 (add it to the price table)`);
  const drainStart = Number(tags[DRAINING_TAG]);
  const usage: UsageInstance = {
    instanceId: instance.InstanceId,
    instanceType: type,
    availabilityZone: instance.Placement?.AvailabilityZone ?? 'unknown',
    market: instance.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand',
    startMs: instance.LaunchTime.getTime(),
    endMs,
    vcpu: vcpu ?? 1,
    interrupted:
      (instance.StateReason?.Code ?? '').startsWith('Server.SpotInstance') ||
      tags[DRAIN_REASON_TAG] === 'interruption',
  };
  if (Number.isFinite(drainStart) && drainStart > 0) usage.drainStartMs = drainStart;
  return usage;
}

/**
 * Gathers what the cost model needs: the fleet's instances from EC2 (by its tag, terminated ones included while EC2
 * still lists them), spot price history for their types, and per-hour busy CPU and records per worker from CloudWatch.
 */
export async function readFleetUsage(
  clients: { ec2: Ec2Api; cloudwatch: Pick<CloudWatchClient, 'send'> },
  opts: UsageReadOptions,
): Promise<{ inputs: Omit<CostInputs, 'onDemandPerHour'>; notes: string[] }> {
  const notes = new Set<string>();
  const instances: UsageInstance[] = [];
  let nextToken: string | undefined;
  do {
    const page = await callAws('DescribeInstances', () =>
      clients.ec2.send(
        new DescribeInstancesCommand({
          Filters: [{ Name: `tag:${opts.selector.tagKey}`, Values: [opts.selector.tagValue] }],
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      ),
    );
    for (const r of page.Reservations ?? []) {
      for (const i of r.Instances ?? []) {
        const usage = usageOf(i, opts.untilMs, opts.priceTable, notes);
        if (usage && usage.endMs > opts.sinceMs && usage.startMs < opts.untilMs) instances.push(usage);
      }
    }
    nextToken = page.NextToken;
  } while (nextToken);
  if (instances.length === 0) {
    notes.add(`no instance tagged ${opts.selector.tagKey}=${opts.selector.tagValue} ran in the window`);
  }
  notes.add(
    'EC2 lists terminated instances for about an hour only: older ones are missing from instance-hours',
  );

  const spotTypes = [...new Set(instances.filter((i) => i.market === 'spot').map((i) => i.instanceType))];
  const spotPrices = spotTypes.length > 0 ? await readSpotPrices(clients.ec2, spotTypes, opts) : [];
  const { work, replayedRecords } = await readWork(
    clients.cloudwatch,
    new Set(instances.map((i) => i.instanceId)),
    opts,
  );
  return {
    inputs: { sinceMs: opts.sinceMs, untilMs: opts.untilMs, instances, spotPrices, work, replayedRecords },
    notes: [...notes],
  };
}

async function readSpotPrices(
  ec2: Ec2Api,
  types: string[],
  opts: UsageReadOptions,
): Promise<SpotPricePoint[]> {
  const out: SpotPricePoint[] = [];
  let nextToken: string | undefined;
  do {
    const page = await callAws('DescribeSpotPriceHistory', () =>
      ec2.send(
        new DescribeSpotPriceHistoryCommand({
          StartTime: new Date(opts.sinceMs),
          EndTime: new Date(opts.untilMs),
          InstanceTypes: types as _InstanceType[],
          ProductDescriptions: ['Linux/UNIX'],
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      ),
    );
    for (const p of page.SpotPriceHistory ?? []) {
      const price = Number(p.SpotPrice);
      if (!p.InstanceType || !p.AvailabilityZone || !p.Timestamp || !Number.isFinite(price)) continue;
      out.push({
        instanceType: p.InstanceType,
        availabilityZone: p.AvailabilityZone,
        timestampMs: p.Timestamp.getTime(),
        pricePerHour: price,
      });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return out;
}

const WORK_METRICS = [
  'la_busy_seconds_total',
  'la_consumer_records_total',
  'la_replay_records_total',
] as const;

async function readWork(
  cloudwatch: Pick<CloudWatchClient, 'send'>,
  instanceIds: Set<string>,
  opts: UsageReadOptions,
): Promise<{ work: HourlyWork[]; replayedRecords: number }> {
  const namespace = opts.namespace ?? CLOUDWATCH_NAMESPACE;
  const queries: MetricDataQuery[] = [];
  const meta: { metric: string; instanceId: string }[] = [];
  const seen = new Set<string>();
  for (const metric of WORK_METRICS) {
    let nextToken: string | undefined;
    do {
      const page = await callAws('ListMetrics', () =>
        cloudwatch.send(
          new ListMetricsCommand({
            Namespace: namespace,
            MetricName: metric,
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        ),
      );
      for (const m of page.Metrics ?? []) {
        const dims = m.Dimensions ?? [];
        const instanceId = dims.find((d) => d.Name === 'InstanceId')?.Value;
        if (!instanceId || !instanceIds.has(instanceId)) continue;
        const key = `${metric}|${dims
          .map((d) => `${d.Name}=${d.Value}`)
          .sort()
          .join(',')}`;
        if (seen.has(key)) continue;
        seen.add(key);
        queries.push({
          Id: `w${queries.length}`,
          MetricStat: {
            Metric: { Namespace: namespace, MetricName: metric, Dimensions: dims },
            Period: 3600,
            Stat: 'Sum',
          },
        });
        meta.push({ metric, instanceId });
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  const start = Math.floor(opts.sinceMs / HOUR_MS) * HOUR_MS;
  const results = await fetchMetricData(cloudwatch, queries, new Date(start), new Date(opts.untilMs + 1000));
  const byKey = new Map<string, HourlyWork>();
  let replayedRecords = 0;
  meta.forEach((m, i) => {
    for (const point of results.get(`w${i}`) ?? []) {
      if (point.timestampMs < opts.sinceMs - HOUR_MS || point.timestampMs > opts.untilMs + 1000) continue;
      if (m.metric === 'la_replay_records_total') {
        replayedRecords += point.value;
        continue;
      }
      const hourStartMs = Math.floor(point.timestampMs / HOUR_MS) * HOUR_MS;
      const key = `${m.instanceId}@${hourStartMs}`;
      const w = byKey.get(key) ?? { instanceId: m.instanceId, hourStartMs, busyCpuSeconds: 0, records: 0 };
      if (m.metric === 'la_busy_seconds_total') w.busyCpuSeconds += point.value;
      else w.records += point.value;
      byKey.set(key, w);
    }
  });
  return { work: [...byKey.values()], replayedRecords };
}
