import type { Command } from 'commander';
import { LiveaggPolicy } from '../../autoscaler/simulator/liveagg-policy.js';
import type { TraceSeries } from '../../autoscaler/simulator/load-trace.js';
import { simConfigSchema } from '../../autoscaler/simulator/sim-config-schema.js';
import { baselineFactories, type PolicyFactories, simulate } from '../../autoscaler/simulator/simulate.js';
import type { BenchDefinition } from '../../infra/cli/commands/bench-command.js';

const HOUR = 3_600_000;

/** An hourly load with daily and weekly cycles and slow growth, like the shared traces. */
function syntheticYear(days: number): TraceSeries {
  const values: number[] = [];
  for (let h = 0; h < days * 24; h++) {
    const hour = h % 24;
    const weekday = Math.floor(h / 24) % 7 < 5 ? 1 : 0.7;
    const daily = 0.15 + 0.85 * Math.max(0, Math.sin((Math.PI * (hour - 5)) / 15));
    values.push(daily * weekday * (1 + (0.3 * h) / (days * 24)));
  }
  return { startMs: Date.UTC(2025, 0, 1), intervalMs: HOUR, values };
}

function timeRun(trace: TraceSeries, peakRate: number, policies: PolicyFactories, liveaggConfigured = false) {
  const config = simConfigSchema.parse({});
  const factories: PolicyFactories = liveaggConfigured
    ? {
        ...policies,
        liveagg: (ctx) => new LiveaggPolicy({ config, forecastIntervalMs: HOUR, startMs: ctx.startMs }),
      }
    : policies;
  const t0 = performance.now();
  const result = simulate({
    trace,
    traceName: 'synthetic',
    peakRate,
    seed: 1,
    stepMs: 300_000,
    config,
    policies: factories,
  });
  return { seconds: (performance.now() - t0) / 1000, result };
}

/**
 * `liveagg bench simulate`: a year of 5-minute steps for a fleet of about `--instances` 8-vCPU
 * instances at peak. The baseline is the same simulation with only static peak (fleet, market,
 * lag and cost accounting without a policy's work); the figures are ratios to it.
 */
export const simulateBench: BenchDefinition = {
  name: 'simulate',
  description:
    'simulate a year of 5-minute steps for a ~1,000-instance fleet (baselines and the real planner)',
  options: (cmd: Command) =>
    cmd
      .option('--days <n>', 'days of load', '365')
      .option('--instances <n>', 'static-peak fleet size at the peak', '1000')
      .option('--liveagg-days <n>', 'days simulated for the liveagg policy (default: all of --days)')
      .option('--no-liveagg', 'skip the liveagg policy'),
  run: async (opts, log) => {
    const days = Number(opts['days'] ?? 365);
    const instances = Number(opts['instances'] ?? 1000);
    const config = simConfigSchema.parse({});
    const meanRate =
      config.fleet.instanceTypes.reduce((s, t) => s + t.recordsPerSecPerVcpu, 0) /
      config.fleet.instanceTypes.length;
    // Peak so that static peak (at its 80 % peak utilization) runs `instances` 8-vCPU instances.
    const peakRate = instances * 8 * meanRate * config.staticPeak.peakUtilization;
    const trace = syntheticYear(days);
    const steps = (days * 86_400_000) / 300_000;
    log(`simulate bench: ${days} days, ${steps} steps of 5m, peak ${Math.round(peakRate)} records/s`);
    const base = timeRun(trace, peakRate, { 'static-peak': baselineFactories['static-peak'] });
    log(`static-peak only: ${base.seconds.toFixed(2)} s`);
    const baselines = timeRun(trace, peakRate, baselineFactories);
    log(`three baselines: ${baselines.seconds.toFixed(2)} s`);
    const figures: Record<string, unknown> = {
      days,
      steps,
      stepMinutes: 5,
      peakRecordsPerSecond: Math.round(peakRate),
      staticPeakInstances: Math.ceil(
        (baselines.result.summary.policies['static-peak'] ? peakRate : 0) / (8 * meanRate * 0.8),
      ),
      baseline: {
        name: 'static-peak only',
        seconds: round(base.seconds),
        stepsPerSecond: Math.round(steps / base.seconds),
      },
      threeBaselines: { seconds: round(baselines.seconds), ratio: round(baselines.seconds / base.seconds) },
    };
    if (opts['liveagg'] !== false) {
      // The real planner (fed an incrementally kept fleet view) and hourly forecast refreshes, over the whole
      // span by default; a shorter --liveagg-days is timed against the baseline on that same span.
      const liveDays = Math.min(days, Number(opts['liveaggDays'] ?? days));
      const span = liveDays === days ? trace : syntheticYear(liveDays);
      const liveSteps = (liveDays * 86_400_000) / 300_000;
      const spanBase =
        liveDays === days
          ? base
          : timeRun(span, peakRate, { 'static-peak': baselineFactories['static-peak'] });
      const cpu0 = process.cpuUsage();
      const live = timeRun(span, peakRate, {}, true);
      const cpu = process.cpuUsage(cpu0);
      log(
        `liveagg over ${liveDays} days (real plan + hourly forecast refresh): ${live.seconds.toFixed(2)} s`,
      );
      figures['liveagg'] = {
        days: liveDays,
        seconds: round(live.seconds),
        cpuSeconds: round((cpu.user + cpu.system) / 1e6),
        ratio: round(live.seconds / spanBase.seconds),
        stepsPerSecond: Math.round(liveSteps / live.seconds),
        ...(liveDays < days ? { extrapolatedSecondsForSpan: round((live.seconds * steps) / liveSteps) } : {}),
        meanUtilization: live.result.summary.policies.liveagg?.meanUtilization,
      };
    }
    return figures;
  },
};

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
