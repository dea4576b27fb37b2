import type { LoadForecast, PlanDecision } from '../../autoscaler/plan/plan-types.js';
import type { AutoscalerPolicy } from '../../autoscaler/policy/policy-schema.js';
import type { DecisionLogRecord } from '../../autoscaler/ports/decision-log.js';
import type { FleetSnapshot } from '../../autoscaler/ports/fleet-provider.js';
import type { MetricsSnapshot } from '../../autoscaler/ports/metrics-source.js';
import { totalLagRecords } from '../../autoscaler/ports/metrics-source.js';

/** One point of the dashboard's time series (one per loop decision). */
export interface DashboardSample {
  atMs: number;
  /** Input measured from the workers' metrics, records/s. */
  liveRate?: number;
  /** Input being offered (the demo's load generator), records/s. */
  offeredRate?: number;
  /** Forecast at this moment (value, band), records/s. */
  forecast?: { value: number; lower: number; upper: number };
  desiredUnits: number;
  targetUnits: number;
  readyUnits: number;
  utilization?: number;
  lagRecords?: number;
}

/** A line of the decision log as the dashboard shows it. */
export interface DashboardEntry {
  atMs: number;
  kind: string;
  summary: string;
  reasons: string[];
}

const MAX_SAMPLES = 600;
const MAX_ENTRIES = 200;

/**
 * What the dashboard shows, folded from the decision log as the loop writes it: time series per decision, the
 * latest fleet and metrics, the forecast, notable decisions and events (scale, drains, interruptions), and the cost
 * of the capacity so far (instance-seconds × the type's spot price hint).
 */
export class DashboardState {
  readonly samples: DashboardSample[] = [];
  readonly entries: DashboardEntry[] = [];
  fleet: FleetSnapshot | undefined;
  metrics: MetricsSnapshot | undefined;
  forecast: LoadForecast | undefined;
  lastDecision: PlanDecision | undefined;
  costSoFar = 0;
  counts = { scaleOuts: 0, scaleIns: 0, drains: 0, interruptions: 0, forced: 0 };
  #lastCostAtMs: number | undefined;

  constructor(
    private readonly policy: AutoscalerPolicy,
    private readonly offeredRate?: () => number,
  ) {}

  /** Folds one decision-log record in. */
  add(r: DecisionLogRecord): void {
    if (r.kind === 'decision') {
      this.#decision(r);
      return;
    }
    const id = typeof r['instanceId'] === 'string' ? r['instanceId'] : undefined;
    switch (r.kind) {
      case 'set-target': {
        const up = Number(r['totalUnits']) > Number(r['previousUnits']);
        if (up) this.counts.scaleOuts++;
        this.#entry(r, `target ${r['previousUnits']} → ${r['totalUnits']} units`);
        break;
      }
      case 'drain-started':
        if (r['reason'] === 'interruption' || r['reason'] === 'rebalance') this.counts.interruptions++;
        this.#entry(r, `drain ${id} (${String(r['reason'])})`);
        break;
      case 'terminated':
        if (r['how'] === 'drained') this.counts.drains++;
        else this.counts.forced++;
        if (r['reason'] === 'scale-in') this.counts.scaleIns++;
        this.#entry(
          r,
          `terminated ${id} after ${r['how'] === 'drained' ? 'a complete drain' : 'a forced stop'} (${String(r['reason'])}, ${Number(r['drainSeconds']).toFixed(1)} s, ${(r['checkpointIds'] as unknown[] | undefined)?.length ?? 0} checkpoints)`,
        );
        break;
      case 'start':
        this.#entry(r, `autoscaler started${r['dryRun'] ? ' (dry run)' : ''}`);
        break;
      default:
        this.#entry(r, `${r.kind}${id ? ` ${id}` : ''}${r['error'] ? `: ${String(r['error'])}` : ''}`);
    }
  }

  /** A note from outside the loop (an injected interruption, a worker exit). */
  note(atMs: number, kind: string, summary: string): void {
    this.#entry({ kind, atMs }, summary);
  }

  #decision(r: DecisionLogRecord): void {
    const input = r['input'] as
      | { fleet: FleetSnapshot; metrics: MetricsSnapshot | null; forecast: LoadForecast | null }
      | undefined;
    const d = r['decision'] as PlanDecision;
    this.lastDecision = d;
    if (input) {
      this.fleet = input.fleet;
      if (input.metrics) this.metrics = input.metrics;
      if (input.forecast) this.forecast = input.forecast;
    }
    this.#accrueCost(r.atMs);
    const fc = this.forecastAt(r.atMs);
    const lag = input?.metrics
      ? input.metrics.streams.reduce((a, s) => a + totalLagRecords(s), 0)
      : undefined;
    const offered = this.offeredRate?.();
    this.samples.push({
      atMs: r.atMs,
      ...(d.inputs.liveRecordsPerSecond !== undefined ? { liveRate: d.inputs.liveRecordsPerSecond } : {}),
      ...(offered !== undefined ? { offeredRate: offered } : {}),
      ...(fc ? { forecast: fc } : {}),
      desiredUnits: d.desiredUnits,
      targetUnits: d.inputs.targetUnits,
      readyUnits: d.inputs.readyUnits,
      ...(d.inputs.projectedUtilization !== undefined ? { utilization: d.inputs.projectedUtilization } : {}),
      ...(lag !== undefined ? { lagRecords: lag } : {}),
    });
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
    if (
      d.action !== 'hold' ||
      (input?.fleet && (r as { input?: { interruptions?: unknown[] } }).input?.interruptions?.length)
    ) {
      this.#entry(
        r,
        `${d.action}: ${d.previousUnits} → ${d.desiredUnits} units${d.drain.length ? `, drain ${d.drain.join(', ')}` : ''}`,
        d.reasons.map((x) => x.message),
      );
    }
  }

  /** The forecast (summed over streams) at a time, linear between points; undefined outside it. */
  forecastAt(t: number): { value: number; lower: number; upper: number } | undefined {
    if (!this.forecast) return undefined;
    const out = { value: 0, lower: 0, upper: 0 };
    let any = false;
    for (const s of this.forecast.series) {
      const pts = s.points;
      for (let i = 0; i + 1 < pts.length; i++) {
        const a = pts[i]!;
        const b = pts[i + 1]!;
        if (t < a.timestampMs || t > b.timestampMs) continue;
        const f = (t - a.timestampMs) / Math.max(1, b.timestampMs - a.timestampMs);
        out.value += a.value + f * (b.value - a.value);
        out.lower += a.lower + f * (b.lower - a.lower);
        out.upper += a.upper + f * (b.upper - a.upper);
        any = true;
        break;
      }
    }
    return any ? out : undefined;
  }

  #accrueCost(now: number): void {
    const last = this.#lastCostAtMs;
    this.#lastCostAtMs = now;
    if (last === undefined || !this.fleet) return;
    const hours = (now - last) / 3_600_000;
    for (const i of this.fleet.instances) {
      if (i.state === 'terminated') continue;
      const t = this.policy.instanceTypes.find((x) => x.name === i.instanceType);
      this.costSoFar += hours * (t?.spotPriceHintPerHour ?? 0);
    }
  }

  #entry(r: { kind: string; atMs: number }, summary: string, reasons: string[] = []): void {
    this.entries.push({ atMs: r.atMs, kind: r.kind, summary, reasons });
    if (this.entries.length > MAX_ENTRIES) this.entries.shift();
  }
}
