/** The per-policy figures of a simulation: the JSON contract of `liveagg simulate --json`. */
export interface PolicySummary {
  /** Processed / capacity of the consuming fleet over the run (0–1). */
  meanUtilization: number;
  p99LagSeconds: number;
  /** Percent of minutes with lag above the SLO. */
  sloViolationMinutesPct: number;
  /** Spot cost of every billed instance-hour (booting, consuming, draining, under notice). */
  cost: number;
  /** The same instance-hours at on-demand prices. */
  onDemandCost: number;
  /** 100 × (1 − cost / onDemandCost). */
  savingsPct: number;
  /** Control ticks at which the fleet launched or drained. */
  scaleEvents: number;
  /** Instances that got a spot interruption warning. */
  interruptions: number;
  /** Instances checkpoint-then-drained by a scale-in. */
  drains: number;
}

/** Time series for the report, in buckets of `bucketMs`. */
export interface PolicySeries {
  startMs: number;
  bucketMs: number;
  /** Mean input records/s. */
  inputRate: number[];
  /** Mean consuming capacity, records/s at 100 % CPU. */
  capacityRate: number[];
  /** Processed / capacity. */
  utilization: number[];
  maxLagSeconds: number[];
  /** Spot cost in the bucket. */
  cost: number[];
}

export interface PolicyRun {
  summary: PolicySummary;
  series: PolicySeries;
  /** The same figures, finer, over the week around the load's peak. */
  zoom: PolicySeries;
  /** Spot cost per UTC day from the start. */
  dailyCost: number[];
}

/** Load per simulation step. */
export interface LoadSteps {
  startMs: number;
  stepMs: number;
  rates: Float64Array;
}

/** The policy names the contract fixes, in report order. */
export const POLICY_NAMES = ['liveagg', 'target-tracking', 'lag-reactive', 'static-peak'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/** `liveagg simulate --json`. */
export interface SimulationSummary {
  trace: string;
  /** Records/s at the trace's peak. */
  scale: number;
  seed: number;
  /** Simulation step, e.g. "1m". */
  step: string;
  sloLagSeconds: number;
  startTime: string;
  endTime: string;
  steps: number;
  policies: Partial<Record<PolicyName, PolicySummary>>;
}

/** Everything a report needs: the summary plus the series per policy. */
export interface SimulationResult {
  summary: SimulationSummary;
  runs: Partial<Record<PolicyName, PolicyRun>>;
}
