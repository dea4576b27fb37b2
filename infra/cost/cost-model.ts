/**
 * Pure cost accounting for `liveagg cost-report`: what the fleet cost, what it did, and where the idle part went.
 * No I/O: the usage reader gathers instances, spot prices and per-hour work from EC2 and CloudWatch.
 */

const HOUR_MS = 3_600_000;

/** One instance's stay in the fleet, clipped to the report window by the caller or here. */
export interface UsageInstance {
  instanceId: string;
  instanceType: string;
  availabilityZone: string;
  market: 'spot' | 'on-demand';
  startMs: number;
  endMs: number;
  /** Capacity units (vCPU) of the type. */
  vcpu: number;
  /** When its drain started (DRAINING_TAG), if it was drained. */
  drainStartMs?: number;
  /** Reclaimed by EC2 (spot interruption) rather than removed by the autoscaler. */
  interrupted: boolean;
}

/** A spot price change: from `timestampMs` on, the pool costs `pricePerHour`. */
export interface SpotPricePoint {
  instanceType: string;
  availabilityZone: string;
  timestampMs: number;
  pricePerHour: number;
}

/** What one worker did in one hour (from CloudWatch). */
export interface HourlyWork {
  instanceId: string;
  hourStartMs: number;
  busyCpuSeconds: number;
  records: number;
}

export interface CostInputs {
  sinceMs: number;
  untilMs: number;
  instances: readonly UsageInstance[];
  spotPrices: readonly SpotPricePoint[];
  onDemandPerHour: (instanceType: string) => number | undefined;
  work: readonly HourlyWork[];
  /** Records replayed after restores in the window (la_replay_records_total). */
  replayedRecords: number;
}

export interface WastePart {
  unitHours: number;
  cost: number;
}

export interface PoolCost {
  instanceType: string;
  availabilityZone: string;
  market: 'spot' | 'on-demand';
  instances: number;
  instanceHours: number;
  unitHours: number;
  cost: number;
  onDemandCost: number;
  /** cost / instance-hours. */
  meanPricePerHour: number;
  utilization: number;
}

export interface HourCost {
  hourStartMs: number;
  capacityUnits: number;
  busyUnits: number;
  cost: number;
  drainUnits: number;
  interruptionHeadroomUnits: number;
  forecastHeadroomUnits: number;
}

export interface CostReport {
  sinceMs: number;
  untilMs: number;
  totals: {
    cost: number;
    onDemandCost: number;
    savingsPct: number;
    instanceHours: number;
    unitHours: number;
    busyUnitHours: number;
    utilization: number;
    records: number;
    costPerMillionRecords: number | null;
  };
  pools: PoolCost[];
  waste: {
    idle: WastePart;
    drainTime: WastePart;
    interruptionHeadroom: WastePart;
    forecastHeadroom: WastePart;
  };
  interruptions: {
    count: number;
    instanceIds: string[];
    replayedRecords: number;
    /** The replayed records priced at the window's cost per record. */
    replayCost: number;
  };
  hourly: HourCost[];
  notes: string[];
}

function poolKey(type: string, az: string): string {
  return `${type}@${az}`;
}

/** Step-function spot prices per pool, sorted by time, with an integral over any interval. */
class PriceCurves {
  private readonly byPool = new Map<string, SpotPricePoint[]>();
  private readonly byType = new Map<string, SpotPricePoint[]>();
  constructor(points: readonly SpotPricePoint[]) {
    for (const p of points) {
      for (const [map, key] of [
        [this.byPool, poolKey(p.instanceType, p.availabilityZone)],
        [this.byType, p.instanceType],
      ] as const) {
        const list = map.get(key) ?? [];
        list.push(p);
        map.set(key, list);
      }
    }
    for (const list of [...this.byPool.values(), ...this.byType.values()])
      list.sort((a, b) => a.timestampMs - b.timestampMs);
  }

  /** Dollars for one instance of the pool between `a` and `b`; undefined when the type has no price at all. */
  integral(type: string, az: string, a: number, b: number): number | undefined {
    const points = this.byPool.get(poolKey(type, az));
    if (!points || points.length === 0) {
      // AZ unknown or no history for it: the type's mean price over its other AZs.
      const any = this.byType.get(type);
      if (!any || any.length === 0) return undefined;
      const mean = any.reduce((s, p) => s + p.pricePerHour, 0) / any.length;
      return (mean * (b - a)) / HOUR_MS;
    }
    // The price in force at `a` is the last change at or before it (or the first one, if history starts later).
    let i = 0;
    while (i + 1 < points.length && (points[i + 1] as SpotPricePoint).timestampMs <= a) i++;
    let total = 0;
    let t = a;
    while (t < b) {
      const next = points[i + 1];
      const segmentEnd = next && next.timestampMs < b ? next.timestampMs : b;
      total += ((points[i] as SpotPricePoint).pricePerHour * (segmentEnd - t)) / HOUR_MS;
      t = segmentEnd;
      i++;
      if (!next) break;
    }
    return total;
  }
}

/**
 * Computes the report. Costs integrate each instance's price over its stay (spot: the pool's price history; on demand:
 * the price table). Capacity is in vCPU units; busy units are the workers' busy CPU-seconds.
 *
 * Waste: per hour, idle = paid capacity − busy. It is split, in this order, so the parts add up to the idle total:
 *  1. drain time — capacity of instances after their drain started (checkpointing and handing off, not processing);
 *  2. interruption headroom — the planner keeps enough capacity that losing the largest (type, AZ) pool still meets the
 *     need, so up to that pool's units of the remaining idle capacity are held on purpose for interruptions;
 *  3. forecast headroom — the rest: capacity provisioned above the observed load for the forecast's upper band, the
 *     target-utilization margin and scale-in hysteresis.
 * Each part's dollars are its unit-hours at that hour's mean price per unit-hour.
 */
export function computeCostReport(inputs: CostInputs): CostReport {
  const notes: string[] = [];
  const prices = new PriceCurves(inputs.spotPrices);
  const hours = new Map<number, HourCost & { pools: Map<string, number> }>();
  const pools = new Map<string, PoolCost & { busy: number; ids: Set<string> }>();
  const workByInstanceHour = new Map<string, HourlyWork>();
  for (const w of inputs.work) workByInstanceHour.set(`${w.instanceId}@${w.hourStartMs}`, w);
  const missingPrices = new Set<string>();
  let records = 0;
  let busyTotal = 0;
  for (const w of inputs.work) records += w.records;

  for (const inst of inputs.instances) {
    const start = Math.max(inst.startMs, inputs.sinceMs);
    const end = Math.min(inst.endMs, inputs.untilMs);
    if (end <= start) continue;
    const onDemand = inputs.onDemandPerHour(inst.instanceType);
    if (onDemand === undefined) missingPrices.add(inst.instanceType);
    const key = `${poolKey(inst.instanceType, inst.availabilityZone)}|${inst.market}`;
    let pool = pools.get(key);
    if (!pool) {
      pool = {
        instanceType: inst.instanceType,
        availabilityZone: inst.availabilityZone,
        market: inst.market,
        instances: 0,
        instanceHours: 0,
        unitHours: 0,
        cost: 0,
        onDemandCost: 0,
        meanPricePerHour: 0,
        utilization: 0,
        busy: 0,
        ids: new Set(),
      };
      pools.set(key, pool);
    }
    pool.ids.add(inst.instanceId);
    for (let h = Math.floor(start / HOUR_MS) * HOUR_MS; h < end; h += HOUR_MS) {
      const a = Math.max(start, h);
      const b = Math.min(end, h + HOUR_MS);
      const fraction = (b - a) / HOUR_MS;
      const spot =
        inst.market === 'spot' ? prices.integral(inst.instanceType, inst.availabilityZone, a, b) : undefined;
      if (inst.market === 'spot' && spot === undefined)
        missingPrices.add(`${inst.instanceType} (spot history)`);
      const cost = spot ?? (onDemand ?? 0) * fraction;
      const units = inst.vcpu * fraction;
      const work = workByInstanceHour.get(`${inst.instanceId}@${h}`);
      const busy = Math.min(units, (work?.busyCpuSeconds ?? 0) / 3600);
      busyTotal += busy;
      const drainFrom = inst.drainStartMs !== undefined ? Math.max(a, inst.drainStartMs) : b;
      const drainUnits = (inst.vcpu * Math.max(0, b - drainFrom)) / HOUR_MS;
      let hour = hours.get(h);
      if (!hour) {
        hour = {
          hourStartMs: h,
          capacityUnits: 0,
          busyUnits: 0,
          cost: 0,
          drainUnits: 0,
          interruptionHeadroomUnits: 0,
          forecastHeadroomUnits: 0,
          pools: new Map(),
        };
        hours.set(h, hour);
      }
      hour.capacityUnits += units;
      hour.busyUnits += busy;
      hour.cost += cost;
      hour.drainUnits += drainUnits;
      const pk = poolKey(inst.instanceType, inst.availabilityZone);
      hour.pools.set(pk, (hour.pools.get(pk) ?? 0) + units);
      pool.instanceHours += fraction;
      pool.unitHours += units;
      pool.cost += cost;
      pool.onDemandCost += (onDemand ?? 0) * fraction;
      pool.busy += busy;
    }
  }
  if (missingPrices.size > 0) {
    notes.push(
      `no price for ${[...missingPrices].sort().join(', ')}: counted at the on-demand table price, or 0 when the table lacks the type (add it with --prices FILE)`,
    );
  }

  const waste = {
    idle: { unitHours: 0, cost: 0 },
    drainTime: { unitHours: 0, cost: 0 },
    interruptionHeadroom: { unitHours: 0, cost: 0 },
    forecastHeadroom: { unitHours: 0, cost: 0 },
  };
  const hourly: HourCost[] = [];
  for (const hour of [...hours.values()].sort((x, y) => x.hourStartMs - y.hourStartMs)) {
    const idle = Math.max(0, hour.capacityUnits - hour.busyUnits);
    const drain = Math.min(idle, hour.drainUnits);
    const largestPool = Math.max(0, ...hour.pools.values());
    const interruption = Math.min(idle - drain, largestPool);
    const forecast = idle - drain - interruption;
    const perUnit = hour.capacityUnits > 0 ? hour.cost / hour.capacityUnits : 0;
    for (const [part, units] of [
      [waste.idle, idle],
      [waste.drainTime, drain],
      [waste.interruptionHeadroom, interruption],
      [waste.forecastHeadroom, forecast],
    ] as const) {
      part.unitHours += units;
      part.cost += units * perUnit;
    }
    const { pools: _pools, ...rest } = hour;
    hourly.push({
      ...rest,
      drainUnits: drain,
      interruptionHeadroomUnits: interruption,
      forecastHeadroomUnits: forecast,
    });
  }

  const poolList: PoolCost[] = [...pools.values()]
    .map(({ busy, ids, ...p }) => ({
      ...p,
      instances: ids.size,
      meanPricePerHour: p.instanceHours > 0 ? p.cost / p.instanceHours : 0,
      utilization: p.unitHours > 0 ? busy / p.unitHours : 0,
    }))
    .sort((a, b) => b.cost - a.cost);
  const cost = poolList.reduce((s, p) => s + p.cost, 0);
  const onDemandCost = poolList.reduce((s, p) => s + p.onDemandCost, 0);
  const unitHours = poolList.reduce((s, p) => s + p.unitHours, 0);
  const interrupted = inputs.instances.filter((i) => i.interrupted && i.endMs > inputs.sinceMs);
  if (records === 0)
    notes.push('no records in CloudWatch for the window: cost per million records is unknown');
  return {
    sinceMs: inputs.sinceMs,
    untilMs: inputs.untilMs,
    totals: {
      cost,
      onDemandCost,
      savingsPct: onDemandCost > 0 ? (100 * (onDemandCost - cost)) / onDemandCost : 0,
      instanceHours: poolList.reduce((s, p) => s + p.instanceHours, 0),
      unitHours,
      busyUnitHours: busyTotal,
      utilization: unitHours > 0 ? busyTotal / unitHours : 0,
      records,
      costPerMillionRecords: records > 0 ? (cost / records) * 1e6 : null,
    },
    pools: poolList,
    waste,
    interruptions: {
      count: interrupted.length,
      instanceIds: interrupted.map((i) => i.instanceId),
      replayedRecords: inputs.replayedRecords,
      replayCost: records > 0 ? (inputs.replayedRecords * cost) / records : 0,
    },
    hourly,
    notes,
  };
}
