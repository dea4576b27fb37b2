import { LagReactivePolicy } from './baselines/lag-reactive.js';
import { StaticPeakPolicy } from './baselines/static-peak.js';
import { TargetTrackingPolicy } from './baselines/target-tracking.js';
import { buildStepLoad, type TraceSeries } from './load-trace.js';
import { runPolicy } from './run-policy.js';
import type { SimConfig } from './sim-config-schema.js';
import type { SimPolicy } from './sim-policy.js';
import { POLICY_NAMES, type PolicyName, type SimulationResult } from './sim-result.js';
import { createSpotMarket } from './spot-market.js';

/** What a policy factory may use to size itself: known before the run starts. */
export interface PolicyContext {
  config: SimConfig;
  /** Records/s at the trace's peak (static-peak sizes on it; others must not peek). */
  peakRate: number;
  /** Mean records/s per vCPU over the instance types. */
  recordsPerSecPerUnit: number;
  /** vCPUs per instance (mean over the types), for replica-counting baselines. */
  unitsPerInstance: number;
  startMs: number;
  stepMs: number;
}

export type PolicyFactories = Partial<Record<PolicyName, (ctx: PolicyContext) => SimPolicy>>;

/** The three baselines; the caller adds `liveagg` (it needs the planner and forecasting). */
export const baselineFactories: PolicyFactories = {
  'target-tracking': (ctx) => new TargetTrackingPolicy(ctx.config.targetTracking),
  'lag-reactive': (ctx) =>
    new LagReactivePolicy(ctx.config.lagReactive, ctx.unitsPerInstance, ctx.config.fleet.partitions),
  'static-peak': (ctx) => new StaticPeakPolicy(ctx.config.staticPeak, ctx.peakRate, ctx.recordsPerSecPerUnit),
};

export interface SimulateOptions {
  trace: TraceSeries;
  /** Shown in the summary (file name). */
  traceName: string;
  peakRate: number;
  seed: number;
  stepMs: number;
  config: SimConfig;
  policies: PolicyFactories;
}

/**
 * Runs every policy on the same load and the same spot market (prices and interruption storms
 * drawn once from the seed), and returns the contract summary plus the series for a report.
 */
export function simulate(opts: SimulateOptions): SimulationResult {
  const { config } = opts;
  const load = buildStepLoad(opts.trace, {
    peakRate: opts.peakRate,
    stepMs: opts.stepMs,
    noise: config.loadNoise,
    seed: opts.seed,
  });
  const steps = load.rates.length;
  const endMs = load.startMs + steps * opts.stepMs;
  const types = config.fleet.instanceTypes;
  const market = createSpotMarket(
    types,
    config.fleet.availabilityZones,
    config.market,
    load.startMs,
    endMs,
    opts.seed,
  );
  const recordsPerSecPerUnit = types.reduce((s, t) => s + t.recordsPerSecPerVcpu, 0) / types.length;
  const unitsPerInstance = Math.round(types.reduce((s, t) => s + t.vcpu, 0) / types.length);
  const ctx: PolicyContext = {
    config,
    peakRate: opts.peakRate,
    recordsPerSecPerUnit,
    unitsPerInstance,
    startMs: load.startMs,
    stepMs: opts.stepMs,
  };
  // Every policy starts from the same fleet: the first step's load at 70 % CPU.
  const initialUnits = Math.max(
    config.fleet.minUnits,
    Math.ceil((load.rates[0] ?? 0) / (recordsPerSecPerUnit * 0.7)),
  );
  const bucketMs = chooseBucketMs(steps * opts.stepMs, opts.stepMs);
  const zoom = peakWeek(load.rates, load.startMs, opts.stepMs);
  const result: SimulationResult = {
    summary: {
      trace: opts.traceName,
      scale: opts.peakRate,
      seed: opts.seed,
      step: formatDuration(opts.stepMs),
      sloLagSeconds: config.sloLagSeconds,
      startTime: new Date(load.startMs).toISOString(),
      endTime: new Date(endMs).toISOString(),
      steps,
      policies: {},
    },
    runs: {},
  };
  for (const name of POLICY_NAMES) {
    const factory = opts.policies[name];
    if (!factory) continue;
    const run = runPolicy(factory(ctx), {
      config,
      market,
      load,
      seed: opts.seed,
      bucketMs,
      initialUnits,
      zoom,
    });
    result.summary.policies[name] = run.summary;
    result.runs[name] = run;
  }
  return result;
}

/** The 7 days (or the whole run if shorter) centred on the peak step, in buckets of ≥ 15 min. */
export function peakWeek(
  rates: Float64Array,
  startMs: number,
  stepMs: number,
): { startMs: number; bucketMs: number; buckets: number } {
  const spanMs = rates.length * stepMs;
  const windowMs = Math.min(spanMs, 7 * 86_400_000);
  let peak = 0;
  for (let i = 1; i < rates.length; i++) if ((rates[i] as number) > (rates[peak] as number)) peak = i;
  const from = Math.min(Math.max(0, peak * stepMs - windowMs / 2), spanMs - windowMs);
  const bucketMs = Math.max(stepMs, Math.ceil(900_000 / stepMs) * stepMs);
  const aligned = Math.floor(from / stepMs) * stepMs;
  return { startMs: startMs + aligned, bucketMs, buckets: Math.max(1, Math.floor(windowMs / bucketMs)) };
}

/** Report buckets: a multiple of the step, at most ~1,500 per chart. */
export function chooseBucketMs(spanMs: number, stepMs: number): number {
  const nice = [
    60_000,
    300_000,
    900_000,
    1_800_000,
    3_600_000,
    3 * 3_600_000,
    6 * 3_600_000,
    12 * 3_600_000,
    86_400_000,
  ];
  for (const b of nice) if (b >= stepMs && b % stepMs === 0 && spanMs / b <= 1500) return b;
  return Math.ceil(spanMs / 1500 / stepMs) * stepMs;
}

/** Parses "30s", "1m", "5m", "1h" (or plain milliseconds). */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new Error(`duration "${text}" is not valid: use e.g. 30s, 1m, 5m, 1h`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  const ms = n * unit;
  if (!(ms >= 1000)) throw new Error(`duration "${text}" is shorter than 1s: use e.g. 30s, 1m, 5m`);
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
