import type { AutoscalerPolicy } from '../policy/policy-schema.js';
import { unitSecondsPerRecord } from './load-need.js';
import type { CapacityModel, LoadForecast } from './plan-types.js';
import { availablePools, typeMix } from './pool-split.js';

const HOUR_MS = 3_600_000;

/** One hour of the capacity plan, with the forecast behind it. */
export interface CapacitySchedulePoint {
  /** Start of the hour (UTC), epoch ms. */
  timestampMs: number;
  /** Launch by this time for the capacity to be ready at `timestampMs` (start − lead time). */
  launchByMs: number;
  /** Forecast input over the hour, records/s (max of each band over the hour, summed over streams). */
  forecast: { value: number; lower: number; upper: number };
  /** CPU need of the provisioned band at 100 % utilization, units. */
  cpuUnitsAt100: number;
  /** Desired capacity for the hour, weighted units (after target, memory floor, pool-loss headroom, min/max). */
  desiredUnits: number;
  /** Memory floor that applied, units (0 when no state size was given). */
  memoryUnits: number;
}

export interface CapacityScheduleOptions {
  /** Hours planned (default 48, as EC2 predictive scaling). */
  hours?: number;
  /** Current state size, bytes: a memory floor for every hour. */
  stateBytes?: number;
}

/**
 * Hourly desired capacity for the next hours from a load forecast, as the planner would provision it: the chosen
 * forecast band's max over each hour, converted with the learned per-type cost per record, divided by the target
 * utilization (used / (capacity × target) = 1), with the memory floor and largest-pool-loss headroom. Pure.
 */
export function capacitySchedule(
  forecast: LoadForecast,
  model: CapacityModel,
  policy: AutoscalerPolicy,
  now: number,
  options: CapacityScheduleOptions = {},
): CapacitySchedulePoint[] {
  const hours = options.hours ?? 48;
  const pools = availablePools(policy, {}, now);
  const mix = typeMix(pools);
  const types = new Map(policy.instanceTypes.map((t) => [t.name, t]));
  const leadTimeMs =
    (model.leadTime?.bootMs ?? policy.leadTime.bootMs) +
    (model.leadTime?.joinMs ?? policy.leadTime.joinMs) +
    (model.leadTime?.restoreMs ?? policy.leadTime.restoreMs);
  const first = Math.ceil(now / HOUR_MS) * HOUR_MS;
  const granularity = Math.min(...pools.map((p) => types.get(p.slice(0, p.lastIndexOf('@')))?.weight ?? 1));
  const memoryUnits = memoryFloor(options.stateBytes ?? 0, policy, mix, types);
  const out: CapacitySchedulePoint[] = [];
  for (let h = 0; h < hours; h++) {
    const start = first + h * HOUR_MS;
    const band = { value: 0, lower: 0, upper: 0 };
    let cpuAt100 = 0;
    for (const series of forecast.series) {
      const cost = unitSecondsPerRecord(model, mix, types, series.stream);
      // The point in force at the hour's start counts too (a forecast may be coarser than hourly).
      const inHour = series.points.filter((p) => p.timestampMs >= start && p.timestampMs < start + HOUR_MS);
      const before = series.points.filter((p) => p.timestampMs <= start).at(-1);
      const pts = before ? [before, ...inHour] : inHour;
      if (pts.length === 0) continue;
      const max = (k: 'value' | 'lower' | 'upper') => Math.max(...pts.map((p) => p[k]));
      band.value += max('value');
      band.lower += max('lower');
      band.upper += max('upper');
      cpuAt100 += max(policy.forecastQuantile) * (cost ?? 0);
    }
    let desired = Math.max(cpuAt100 / policy.targetUtilization, memoryUnits, policy.minUnits);
    if (policy.largestPoolLossHeadroom && pools.length > 1) {
      // Even split over the pools: losing one leaves (N − 1) / N; keep ≥ the need at 100 % less the lag-SLO slack.
      const allowedShortfall = Math.min(1, policy.lagSloSeconds / Math.max(1, leadTimeMs / 1000));
      const needAfterLoss = Math.max(cpuAt100 * (1 - allowedShortfall), memoryUnits);
      desired = Math.max(desired, needAfterLoss / (1 - 1 / pools.length));
    }
    desired = Math.min(policy.maxUnits, Math.ceil(desired / granularity - 1e-9) * granularity);
    out.push({
      timestampMs: start,
      launchByMs: start - leadTimeMs,
      forecast: band,
      cpuUnitsAt100: Math.round(cpuAt100 * 1000) / 1000,
      desiredUnits: desired,
      memoryUnits: Math.round(memoryUnits * 1000) / 1000,
    });
  }
  return out;
}

function memoryFloor(
  stateBytes: number,
  policy: AutoscalerPolicy,
  mix: ReadonlyMap<string, number>,
  types: ReadonlyMap<string, { memoryGiB: number; weight: number }>,
): number {
  if (stateBytes <= 0) return 0;
  let bytesPerUnit = 0;
  let total = 0;
  for (const [type, fraction] of mix) {
    const spec = types.get(type);
    if (spec === undefined) continue;
    bytesPerUnit += (fraction * spec.memoryGiB * 2 ** 30 * policy.stateMemoryFraction) / spec.weight;
    total += fraction;
  }
  return total > 0 && bytesPerUnit > 0 ? stateBytes / (bytesPerUnit / total) : 0;
}
