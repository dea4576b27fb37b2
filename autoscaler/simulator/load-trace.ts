import { createRandom } from './seeded-random.js';

/** A trace on a regular grid (the shape forecasting's `resample` returns). */
export interface TraceSeries {
  startMs: number;
  intervalMs: number;
  values: readonly number[];
}

/** The input the simulator replays: records/s at each simulation step. */
export interface StepLoad {
  startMs: number;
  stepMs: number;
  /** Records/s during step i (from startMs + i·stepMs). */
  rates: Float64Array;
  /** The largest rate of the scaled trace before noise (= the --scale asked for). */
  peakRate: number;
}

/**
 * Maps a trace to records/s per simulation step: scaled so the trace's peak equals `peakRate`,
 * linearly interpolated between trace points (hourly counts do not jump at the hour), with a
 * seeded multiplicative noise so minute-scale load is not unrealistically smooth. Gaps (non-finite
 * values) carry the last known value forward.
 */
export function buildStepLoad(
  trace: TraceSeries,
  opts: { peakRate: number; stepMs: number; noise: number; seed: number },
): StepLoad {
  const values = fillGaps(trace.values);
  if (values.length === 0)
    throw new Error('trace has no values: give a CSV with a header timestamp,value and rows');
  const peak = Math.max(...values);
  if (!(peak > 0)) throw new Error(`trace peak is ${peak}: a load trace needs positive values to scale`);
  const factor = opts.peakRate / peak;
  const spanMs = (values.length - 1) * trace.intervalMs + trace.intervalMs;
  const steps = Math.max(1, Math.floor(spanMs / opts.stepMs));
  const rates = new Float64Array(steps);
  const rng = createRandom(opts.seed, 'load-noise');
  for (let i = 0; i < steps; i++) {
    const pos = (i * opts.stepMs) / trace.intervalMs;
    const k = Math.floor(pos);
    const a = values[Math.min(k, values.length - 1)] as number;
    const b = values[Math.min(k + 1, values.length - 1)] as number;
    const base = (a + (b - a) * (pos - k)) * factor;
    const noise = opts.noise > 0 ? Math.max(0, 1 + opts.noise * rng.normal()) : 1;
    rates[i] = base * noise;
  }
  return { startMs: trace.startMs, stepMs: opts.stepMs, rates, peakRate: opts.peakRate };
}

function fillGaps(values: readonly number[]): number[] {
  const out: number[] = [];
  let last = values.find((v) => Number.isFinite(v)) ?? 0;
  for (const v of values) {
    if (Number.isFinite(v)) last = Math.max(0, v);
    out.push(last);
  }
  return out;
}
