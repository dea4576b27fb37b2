import type { AutoscalerPolicy, InstanceTypeSpec } from '../policy/policy-schema.js';
import { type MetricsSnapshot, totalLagRecords } from '../ports/metrics-source.js';
import { ALL_STREAMS, type CapacityModel, type LoadForecast, type LoadForecastPoint } from './plan-types.js';

/** Live and planned input of one stream, and what one record of it costs in capacity units. */
export interface StreamNeed {
  stream: string;
  liveRecordsPerSecond: number;
  /** Max of the forecast band over the lead time, or live if higher (never plan below live load). */
  plannedRecordsPerSecond: number;
  /** Forecast max over the lead time alone, when a forecast covered it. */
  forecastRecordsPerSecond?: number;
  lagRecords: number;
  /** Capacity-unit seconds one record costs on the planned type mix; undefined when nothing was learned. */
  unitSecondsPerRecord?: number;
}

/**
 * The forecast's chosen band over [now, now + leadTimeMs], read as a piecewise-linear curve between points: its max
 * over the window and its value at `now`; undefined when no point covers `now` (or the forecast is stale).
 */
export function forecastOverLead(
  points: readonly LoadForecastPoint[],
  now: number,
  leadTimeMs: number,
  quantile: 'upper' | 'value',
): { max: number; atNow: number } | undefined {
  const first = points[0];
  const last = points[points.length - 1];
  if (first === undefined || last === undefined) return undefined;
  const prev = points[points.length - 2];
  const stepMs = prev !== undefined ? last.timestampMs - prev.timestampMs : 0;
  if (now > last.timestampMs + stepMs || now + leadTimeMs < first.timestampMs) return undefined;
  const at = (t: number): number => {
    if (t <= first.timestampMs) return first[quantile];
    if (t >= last.timestampMs) return last[quantile];
    let lo = 0;
    let hi = points.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (points[mid]!.timestampMs <= t) lo = mid;
      else hi = mid;
    }
    const a = points[lo]!;
    const b = points[hi]!;
    const f = (t - a.timestampMs) / Math.max(1, b.timestampMs - a.timestampMs);
    return a[quantile] + f * (b[quantile] - a[quantile]);
  };
  const atNow = at(now);
  let max = Math.max(atNow, at(now + leadTimeMs));
  for (const p of points)
    if (p.timestampMs > now && p.timestampMs < now + leadTimeMs) max = Math.max(max, p[quantile]);
  return { max, atNow };
}

/**
 * Capacity-unit seconds per record of `stream` on the planned type mix. A unit of type t gives vcpu/weight CPU
 * seconds per second, so one record costs cpuSecondsPerRecord × weight / vcpu unit-seconds on t.
 */
export function unitSecondsPerRecord(
  model: CapacityModel,
  mix: ReadonlyMap<string, number>,
  types: ReadonlyMap<string, InstanceTypeSpec>,
  stream: string,
): number | undefined {
  const known: number[] = [];
  for (const perStream of Object.values(model.cpuSecondsPerRecord)) {
    const v = perStream[stream] ?? perStream[ALL_STREAMS];
    if (v !== undefined && v > 0) known.push(v);
  }
  const fallback = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : undefined;
  let sum = 0;
  let weight = 0;
  for (const [type, fraction] of mix) {
    const spec = types.get(type);
    if (spec === undefined || fraction <= 0) continue;
    const perStream = model.cpuSecondsPerRecord[type];
    const cps = perStream?.[stream] ?? perStream?.[ALL_STREAMS] ?? fallback;
    if (cps === undefined) continue;
    sum += fraction * cps * (spec.weight / spec.vcpu);
    weight += fraction;
  }
  return weight > 0 ? sum / weight : undefined;
}

/** Per-stream live load, lag and planned load (forecast band over the lead time, never below live). */
export function streamNeeds(
  metrics: MetricsSnapshot,
  forecast: LoadForecast | undefined,
  now: number,
  leadTimeMs: number,
  policy: AutoscalerPolicy,
  model: CapacityModel,
  mix: ReadonlyMap<string, number>,
  types: ReadonlyMap<string, InstanceTypeSpec>,
): StreamNeed[] {
  const live = new Map<string, { rate: number; lag: number }>();
  for (const s of metrics.streams) {
    live.set(s.stream, { rate: Math.max(0, s.recordsPerSecond), lag: totalLagRecords(s) });
  }
  if (live.size === 0) {
    // No stream-level metrics: derive input rates from what the workers consumed.
    const windowSec = Math.max(1, metrics.windowMs / 1000);
    for (const w of metrics.workers) {
      for (const s of w.streams) {
        const cur = live.get(s.stream) ?? { rate: 0, lag: 0 };
        cur.rate += s.records / windowSec;
        live.set(s.stream, cur);
      }
    }
  }
  // Per stream (or for all streams together): the band's max over the lead time, and its growth over it.
  const perStreamForecast = new Map<string, { max: number; growth: number | undefined }>();
  let totalForecast: { max: number; growth: number | undefined } | undefined;
  for (const series of forecast?.series ?? []) {
    const f = forecastOverLead(series.points, now, leadTimeMs, policy.forecastQuantile);
    if (f === undefined) continue;
    const entry = { max: f.max, growth: f.atNow > 0 ? f.max / f.atNow : undefined };
    if (series.stream === ALL_STREAMS) totalForecast = entry;
    else perStreamForecast.set(series.stream, entry);
  }
  for (const stream of perStreamForecast.keys()) if (!live.has(stream)) live.set(stream, { rate: 0, lag: 0 });
  let liveTotal = 0;
  for (const v of live.values()) liveTotal += v.rate;
  if (totalForecast !== undefined && live.size === 0) live.set(ALL_STREAMS, { rate: 0, lag: 0 });

  const needs: StreamNeed[] = [];
  for (const [stream, { rate, lag }] of live) {
    const f = perStreamForecast.get(stream) ?? totalForecast;
    let forecastRate: number | undefined;
    if (f !== undefined && policy.forecastAnchor === 'live' && f.growth !== undefined && rate > 0) {
      // Anchored: the forecast's growth over the lead time applied to the live rate. Its band is calibrated for
      // hours ahead while the lead time is minutes, and its level may be biased; its shape is what we need.
      forecastRate = rate * f.growth;
    } else if (f !== undefined && f === totalForecast && !perStreamForecast.has(stream)) {
      // A total forecast is spread over the streams in their live proportions (all of it when none is live).
      forecastRate = liveTotal > 0 ? f.max * (rate / liveTotal) : f.max / live.size;
    } else if (f !== undefined) {
      forecastRate = f.max;
    }
    const need: StreamNeed = {
      stream,
      liveRecordsPerSecond: rate,
      plannedRecordsPerSecond: Math.max(rate, forecastRate ?? 0),
      lagRecords: lag,
    };
    if (forecastRate !== undefined) need.forecastRecordsPerSecond = forecastRate;
    const cost = unitSecondsPerRecord(model, mix, types, stream);
    if (cost !== undefined) need.unitSecondsPerRecord = cost;
    needs.push(need);
  }
  return needs;
}

/** CPU actually busy in the window, in capacity units (busy CPU seconds per second × weight / vcpu). */
export function busyUnits(metrics: MetricsSnapshot, types: ReadonlyMap<string, InstanceTypeSpec>): number {
  const windowSec = Math.max(1, metrics.windowMs / 1000);
  let units = 0;
  // Workers of one type tend to come together: the last type's factor is reused.
  let lastType: string | undefined;
  let perCpu = 1;
  for (const w of metrics.workers) {
    if (w.instanceType !== lastType) {
      const spec = types.get(w.instanceType);
      perCpu = spec !== undefined ? spec.weight / spec.vcpu : 1;
      lastType = w.instanceType;
    }
    units += (w.busyCpuSeconds / windowSec) * perCpu;
  }
  return units;
}

/**
 * Memory floor in units: state must fit in the fleet's state memory (instance memory × stateMemoryFraction),
 * averaged per unit over the planned type mix.
 */
export function memoryFloorUnits(
  metrics: MetricsSnapshot,
  model: CapacityModel,
  policy: AutoscalerPolicy,
  mix: ReadonlyMap<string, number>,
  types: ReadonlyMap<string, InstanceTypeSpec>,
): { units: number; stateBytes: number } {
  let stateBytes = 0;
  let series = 0;
  for (const w of metrics.workers) {
    stateBytes += Math.max(0, w.stateBytes);
    series += Math.max(0, w.liveSeries);
  }
  if (model.bytesPerSeries !== undefined) stateBytes = Math.max(stateBytes, series * model.bytesPerSeries);
  let bytesPerUnit = 0;
  let total = 0;
  for (const [type, fraction] of mix) {
    const spec = types.get(type);
    if (spec === undefined) continue;
    bytesPerUnit += (fraction * spec.memoryGiB * 2 ** 30 * policy.stateMemoryFraction) / spec.weight;
    total += fraction;
  }
  if (total <= 0 || bytesPerUnit <= 0) return { units: 0, stateBytes };
  return { units: stateBytes / (bytesPerUnit / total), stateBytes };
}
