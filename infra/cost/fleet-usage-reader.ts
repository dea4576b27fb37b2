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
  /**
   * Also count workers seen only in CloudWatch (terminated too long ago for EC2 to list them): each is billed from
   * the start of its first hour with data to the end of its last, as a spot instance in an unknown AZ. Use it when the
   * namespace holds this fleet's workers only.
   */
  includeMetricsOnlyWorkers?: boolean;
  /** Instances the fleet API lists as members now (Spot Fleet / EC2 Fleet), in case they lack the fleet's tag. */
  memberInstanceIds?: readonly string[];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
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
  const add = (page: { Reservations?: { Instances?: Instance[] }[] }) => {
    for (const r of page.Reservations ?? []) {
      for (const i of r.Instances ?? []) {
        if (instances.some((x) => x.instanceId === i.InstanceId)) continue;
        const usage = usageOf(i, opts.untilMs, opts.priceTable, notes);
        if (usage && usage.endMs > opts.sinceMs && usage.startMs < opts.untilMs) instances.push(usage);
      }
    }
  };
  const filters = [
    [{ Name: `tag:${opts.selector.tagKey}`, Values: [opts.selector.tagValue] }],
    // DescribeInstances takes up to 200 values per filter.
    ...chunks(opts.memberInstanceIds ?? [], 200).map((ids) => [{ Name: 'instance-id', Values: ids }]),
  ];
  for (const Filters of filters) {
    let nextToken: string | undefined;
    do {
      const page = await callAws('DescribeInstances', () =>
        clients.ec2.send(
          new DescribeInstancesCommand({ Filters, ...(nextToken ? { NextToken: nextToken } : {}) }),
        ),
      );
      add(page);
      nextToken = page.NextToken;
    } while (nextToken);
  }
  if (instances.length === 0) {
    notes.add(`no instance tagged ${opts.selector.tagKey}=${opts.selector.tagValue} ran in the window`);
  }
  const known = new Set(instances.map((i) => i.instanceId));
  const { work, replayedRecords, instanceTypes } = await readWork(
    clients.cloudwatch,
    (id) => opts.includeMetricsOnlyWorkers === true || known.has(id),
    opts,
  );
  if (opts.includeMetricsOnlyWorkers) {
    const added = metricsOnlyWorkers(work, known, instanceTypes, opts.priceTable);
    instances.push(...added);
    if (added.length > 0) {
      notes.add(
        `${added.length} worker(s) seen only in CloudWatch: billed by the hours they published metrics, as spot in an unknown AZ (the type's mean spot price)`,
      );
    }
  } else {
    notes.add(
      'EC2 lists terminated instances for about an hour only: older ones are missing from instance-hours (add --include-metrics-only-workers)',
    );
  }
  const spotTypes = [...new Set(instances.filter((i) => i.market === 'spot').map((i) => i.instanceType))];
  const spotPrices = spotTypes.length > 0 ? await readSpotPrices(clients.ec2, spotTypes, opts) : [];
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

/** Workers with hourly data but no EC2 record, billed over the hours they published. */
function metricsOnlyWorkers(
  work: readonly HourlyWork[],
  known: ReadonlySet<string>,
  instanceTypes: ReadonlyMap<string, string>,
  table: PriceTable,
): UsageInstance[] {
  const spans = new Map<string, { first: number; last: number }>();
  for (const w of work) {
    if (known.has(w.instanceId)) continue;
    const span = spans.get(w.instanceId);
    if (!span) spans.set(w.instanceId, { first: w.hourStartMs, last: w.hourStartMs });
    else {
      span.first = Math.min(span.first, w.hourStartMs);
      span.last = Math.max(span.last, w.hourStartMs);
    }
  }
  return [...spans].map(([instanceId, span]) => {
    const instanceType = instanceTypes.get(instanceId) ?? 'unknown';
    return {
      instanceId,
      instanceType,
      availabilityZone: 'unknown',
      market: 'spot' as const,
      startMs: span.first,
      endMs: span.last + HOUR_MS,
      vcpu: table.prices[instanceType]?.vcpu ?? 1,
      interrupted: false,
    };
  });
}

async function readWork(
  cloudwatch: Pick<CloudWatchClient, 'send'>,
  accept: (instanceId: string) => boolean,
  opts: UsageReadOptions,
): Promise<{ work: HourlyWork[]; replayedRecords: number; instanceTypes: Map<string, string> }> {
  const instanceTypes = new Map<string, string>();
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
        if (!instanceId || !accept(instanceId)) continue;
        const type = dims.find((d) => d.Name === 'InstanceType')?.Value;
        if (type) instanceTypes.set(instanceId, type);
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
  return { work: [...byKey.values()], replayedRecords, instanceTypes };
}
