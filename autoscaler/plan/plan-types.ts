import type { AutoscalerPolicy } from '../policy/policy-schema.js';
import type { FleetInstance, FleetSnapshot, InstanceId, PoolId } from '../ports/fleet-provider.js';
import type { InterruptionNotice } from '../ports/interruption-source.js';
import type { MetricsSnapshot } from '../ports/metrics-source.js';

/** The stream key meaning "all streams together" in forecasts and models. */
export const ALL_STREAMS = '*';

/** One forecast point: input records/s expected at `timestampMs`, with its prediction band. */
export interface LoadForecastPoint {
  timestampMs: number;
  value: number;
  lower: number;
  upper: number;
}

/** Forecast of input records/s per stream (or for all streams together under {@link ALL_STREAMS}). */
export interface LoadForecast {
  generatedAtMs: number;
  series: readonly { stream: string; points: readonly LoadForecastPoint[] }[];
}

/** Learned lead-time parts, ms (override the policy's defaults when present). */
export interface LearnedLeadTime {
  bootMs?: number;
  joinMs?: number;
  restoreMs?: number;
}

/**
 * What the planner knows about the workload (from autoscaler/learn, or given by the simulator).
 * CPU need of a stream on a type = records/s × cpuSecondsPerRecord[type][stream]; a type without a value for a
 * stream falls back to its {@link ALL_STREAMS} value, then to the mean over the other types.
 */
export interface CapacityModel {
  /** instance type → stream (or ALL_STREAMS) → CPU seconds per record. */
  cpuSecondsPerRecord: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Memory one live series needs, bytes (state bytes / live series). */
  bytesPerSeries?: number;
  leadTime?: LearnedLeadTime;
  /** Measured restore throughput, bytes/s. */
  restoreBytesPerSecond?: number;
}

/** What plan remembers between calls; plan returns it updated (plan stays pure). Start from {@link emptyPlannerMemory}. */
export interface PlannerMemory {
  lastScaleOutMs?: number;
  lastScaleInMs?: number;
  /** Last time capacity was lost (or announced lost) to an interruption. */
  lastCapacityLossMs?: number;
  /** Instances already counted as lost (so a notice redelivered is counted once). */
  lostInstances: InstanceId[];
  /** Required units seen recently (trimmed to the scale-in sustain window), oldest first. */
  recentRequired: { atMs: number; units: number }[];
  /** Since when a scale-in has been wanted continuously, if it is. */
  scaleInWantedSinceMs?: number;
  /** Capacity (target minus leaving units) the last decision settled on; capacity lost to interruptions is replaced up to it. */
  lastKeptUnits?: number;
  /** Pools that reported insufficient spot capacity (or were just interrupted), and until when to avoid them. */
  poolUnavailableUntilMs: Record<PoolId, number>;
}

/**
 * The fleet as the planner splits it: live instances that stay and those leaving (draining-tagged, or under one of
 * the input's interruption notices), each in the snapshot's order, and the staying instances' units per pool.
 * {@link fleetViewOf} computes it from a snapshot; a caller that plans every tick on a large fleet (the simulator)
 * may keep it up to date between ticks instead and pass it in {@link PlanInput.fleetView}.
 */
export interface PlanFleetView {
  /** Live (not shutting down or terminated) instances that are not leaving, in snapshot order. */
  readonly staying: readonly FleetInstance[];
  /** Live instances draining or under a notice of the input, in snapshot order. */
  readonly leaving: readonly FleetInstance[];
  /** Units per pool of the staying instances (pools without any are absent). */
  readonly stayingPoolUnits: ReadonlyMap<PoolId, number>;
  /** Units of the staying instances that are ready. */
  readonly stayingReadyUnits: number;
  /** Whether the snapshot holds this instance live. */
  isLive(id: InstanceId): boolean;
}

/** Everything plan needs. */
export interface PlanInput {
  now: number;
  fleet: FleetSnapshot;
  /** Undefined when metrics are missing: plan holds capacity and says so. */
  metrics: MetricsSnapshot | undefined;
  forecast: LoadForecast | undefined;
  model: CapacityModel;
  policy: AutoscalerPolicy;
  memory: PlannerMemory;
  /** Interruption warnings / rebalance recommendations received since the last plan (or still pending). */
  interruptions?: readonly InterruptionNotice[];
  /**
   * The fleet already split as {@link fleetViewOf}(fleet, interruptions) would split it (kept incrementally by the
   * caller); when absent, plan computes it. It must agree with `fleet` and `interruptions`.
   */
  fleetView?: PlanFleetView;
}

/** One reason behind a decision: a stable code, a sentence, and the numbers it used. */
export interface PlanReason {
  code: string;
  message: string;
  values: Record<string, number>;
}

export type PlanAction = 'scale-out' | 'scale-in' | 'hold';

/** The figures a decision was made from (logged with it). */
export interface PlanInputsSummary {
  /** Units in the fleet's target now. */
  targetUnits: number;
  /** Units of instances that are ready (joined, restored). */
  readyUnits: number;
  /** Units leaving: draining or under an interruption warning (still in the target until terminated). */
  leavingUnits: number;
  /** Live input, records/s (sum over streams); undefined without metrics. */
  liveRecordsPerSecond?: number;
  /** Planned input over the lead time (forecast band max or live, whichever is higher), records/s. */
  plannedRecordsPerSecond?: number;
  lagRecords?: number;
  /** CPU need at 100 % utilization, units. */
  cpuUnitsAt100?: number;
  /** Memory floor, units. */
  memoryUnits?: number;
  /** Units needed after target utilization, lag burn-down, memory floor and pool-loss headroom. */
  requiredUnits?: number;
  /** Planned load / current kept capacity. */
  projectedUtilization?: number;
  leadTimeMs: number;
}

/** The output of plan. */
export interface PlanDecision {
  atMs: number;
  /** Target capacity after this decision, weighted units. */
  desiredUnits: number;
  /** The fleet's target before it. */
  previousUnits: number;
  action: PlanAction;
  /** Per-pool split of `desiredUnits` over the pools available now. */
  perPool?: Record<PoolId, number>;
  /** Victims to drain then terminate with decrement (scale-in), least state to move first. */
  drain: InstanceId[];
  reasons: PlanReason[];
  inputs: PlanInputsSummary;
  /** Memory to pass to the next plan call. */
  memory: PlannerMemory;
}

/** A fresh planner memory. */
export function emptyPlannerMemory(): PlannerMemory {
  return { lostInstances: [], recentRequired: [], poolUnavailableUntilMs: {} };
}

/**
 * A model from measured throughput per vCPU (records/s one vCPU of the type sustains at 100 %), for the simulator
 * and for configs without learned data: CPU seconds per record = 1 / throughput.
 */
export function capacityModelFromThroughput(
  recordsPerSecondPerVcpu: Readonly<Record<string, number>>,
  extra: Omit<CapacityModel, 'cpuSecondsPerRecord'> = {},
): CapacityModel {
  const cpu: Record<string, Record<string, number>> = {};
  for (const [type, rate] of Object.entries(recordsPerSecondPerVcpu)) {
    if (rate > 0) cpu[type] = { [ALL_STREAMS]: 1 / rate };
  }
  return { ...extra, cpuSecondsPerRecord: cpu };
}
