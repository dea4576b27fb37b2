import type { PolicySeries } from './sim-result.js';

/** Accumulates per-step figures into fixed-width time buckets for the report. */
export class SeriesAccumulator {
  private readonly series: PolicySeries;
  private readonly counts: Float64Array;
  private readonly capacitySeconds: Float64Array;

  constructor(
    private readonly startMs: number,
    private readonly bucketMs: number,
    private readonly buckets: number,
  ) {
    const zeros = () => new Array<number>(buckets).fill(0);
    this.series = {
      startMs,
      bucketMs,
      inputRate: zeros(),
      capacityRate: zeros(),
      utilization: zeros(),
      maxLagSeconds: zeros(),
      cost: zeros(),
    };
    this.counts = new Float64Array(buckets);
    this.capacitySeconds = new Float64Array(buckets);
  }

  /** Adds one step starting at `atMs`; steps outside the window are ignored. */
  add(
    atMs: number,
    stepSec: number,
    input: number,
    capacity: number,
    processed: number,
    lag: number,
    cost: number,
  ): void {
    const b = Math.floor((atMs - this.startMs) / this.bucketMs);
    if (b < 0 || b >= this.buckets) return;
    const s = this.series;
    s.inputRate[b] = (s.inputRate[b] as number) + input;
    s.capacityRate[b] = (s.capacityRate[b] as number) + capacity;
    s.utilization[b] = (s.utilization[b] as number) + processed;
    s.maxLagSeconds[b] = Math.max(s.maxLagSeconds[b] as number, lag);
    s.cost[b] = (s.cost[b] as number) + cost;
    this.counts[b] = (this.counts[b] as number) + 1;
    this.capacitySeconds[b] = (this.capacitySeconds[b] as number) + capacity * stepSec;
  }

  /** Means per bucket (rates), processed / capacity (utilization), rounded for the JSON. */
  finish(): PolicySeries {
    const s = this.series;
    for (let b = 0; b < this.buckets; b++) {
      const n = this.counts[b] || 1;
      s.inputRate[b] = round((s.inputRate[b] as number) / n, 1);
      s.capacityRate[b] = round((s.capacityRate[b] as number) / n, 1);
      const cap = this.capacitySeconds[b] as number;
      s.utilization[b] = cap > 0 ? round((s.utilization[b] as number) / cap, 4) : 0;
      s.maxLagSeconds[b] = round(s.maxLagSeconds[b] as number, 1);
      s.cost[b] = round(s.cost[b] as number, 4);
    }
    return s;
  }
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
