import { z } from 'zod';

/** One EC2 instance type the simulated fleet can launch. Capacity units are vCPUs. */
export const simInstanceTypeSchema = z
  .object({
    name: z.string().min(1),
    vcpu: z.number().int().positive(),
    memoryGiB: z.number().positive(),
    /** Records/s one vCPU of this type sustains at 100 % CPU (configured or learned). */
    recordsPerSecPerVcpu: z.number().positive(),
    onDemandPricePerHour: z.number().positive(),
    /** Long-run mean of the spot price the seeded walk reverts to. */
    spotBasePricePerHour: z.number().positive(),
    /** Base rate of interruption events per (type, AZ) pool per day, before clustering. */
    interruptionEventsPerPoolPerDay: z.number().nonnegative().default(0.02),
  })
  .strict();

const defaultInstanceTypes = [
  {
    name: 'c6i.2xlarge',
    vcpu: 8,
    memoryGiB: 16,
    recordsPerSecPerVcpu: 1000,
    onDemandPricePerHour: 0.34,
    spotBasePricePerHour: 0.135,
    interruptionEventsPerPoolPerDay: 0.03,
  },
  {
    name: 'c5.2xlarge',
    vcpu: 8,
    memoryGiB: 16,
    recordsPerSecPerVcpu: 850,
    onDemandPricePerHour: 0.34,
    spotBasePricePerHour: 0.125,
    interruptionEventsPerPoolPerDay: 0.04,
  },
  {
    name: 'c6a.2xlarge',
    vcpu: 8,
    memoryGiB: 16,
    recordsPerSecPerVcpu: 900,
    onDemandPricePerHour: 0.306,
    spotBasePricePerHour: 0.12,
    interruptionEventsPerPoolPerDay: 0.02,
  },
  {
    name: 'm6i.2xlarge',
    vcpu: 8,
    memoryGiB: 32,
    recordsPerSecPerVcpu: 950,
    onDemandPricePerHour: 0.384,
    spotBasePricePerHour: 0.15,
    interruptionEventsPerPoolPerDay: 0.015,
  },
  {
    name: 'm5.2xlarge',
    vcpu: 8,
    memoryGiB: 32,
    recordsPerSecPerVcpu: 800,
    onDemandPricePerHour: 0.384,
    spotBasePricePerHour: 0.14,
    interruptionEventsPerPoolPerDay: 0.02,
  },
];

/** The simulated fleet: what can be launched, and how long each step of a launch or removal takes. */
export const simFleetSchema = z
  .object({
    instanceTypes: z.array(simInstanceTypeSchema).min(1).default(defaultInstanceTypes),
    availabilityZones: z.array(z.string().min(1)).min(1).default(['us-east-1a', 'us-east-1b', 'us-east-1c']),
    /** Launch request to OS up. */
    bootSeconds: z.number().nonnegative().default(90),
    /** Worker start to consumer-group member. */
    joinSeconds: z.number().nonnegative().default(15),
    /** Loading the moved partitions' checkpoints before taking them (warm-up, as KIP-441). */
    restoreSeconds: z.number().nonnegative().default(45),
    /** Consumption pause on the partitions that move at a rebalance. */
    rebalancePauseSeconds: z.number().nonnegative().default(10),
    /** Checkpoint-then-drain duration of a worker being removed (billed, not consuming). */
    drainSeconds: z.number().nonnegative().default(30),
    /** Spot interruption notice: capacity is reclaimed this long after the warning. */
    noticeSeconds: z.number().positive().default(120),
    /** New instances are spread over this many of the cheapest pools (price-capacity-optimized style). */
    launchPools: z.number().int().positive().default(4),
    /** Kafka partitions of the input: the most workers that can share the load. */
    partitions: z.number().int().positive().default(1024),
    /** The fleet never goes below this many vCPUs. */
    minUnits: z.number().nonnegative().default(8),
  })
  .strict();

/** The spot market: price walk and clustered interruptions, per (type, AZ) pool. */
export const simMarketSchema = z
  .object({
    /** Hourly volatility of log spot price. */
    priceVolatilityPerHour: z.number().nonnegative().default(0.03),
    /** Fraction of the gap to the base price closed each hour (mean reversion). */
    priceReversionPerHour: z.number().min(0).max(1).default(0.05),
    /** Each event spawns on average this many follow-up events in the same pool (Hawkes branching ratio < 1). */
    interruptionBranchingRatio: z.number().min(0).lt(1).default(0.6),
    /** Mean delay from an interruption event to its follow-ups: interruptions cluster within this time. */
    interruptionClusterMinutes: z.number().positive().default(30),
    /** Mean fraction of a pool's instances one event reclaims. */
    interruptionFractionMean: z.number().gt(0).max(1).default(0.3),
  })
  .strict();

export const targetTrackingSchema = z
  .object({
    targetCpu: z.number().gt(0).max(1).default(0.7),
    /** Instance warm-up: new instances do not count in the metric or the next step-out until then. */
    warmupSeconds: z.number().nonnegative().default(300),
    /** Scale-out alarm: this many consecutive 1-minute datapoints above target. */
    scaleOutDatapoints: z.number().int().positive().default(3),
    /** Scale-in alarm: this many consecutive 1-minute datapoints below 90 % of target. */
    scaleInDatapoints: z.number().int().positive().default(15),
    scaleInCooldownSeconds: z.number().nonnegative().default(300),
  })
  .strict();

export const lagReactiveSchema = z
  .object({
    /** KEDA lagThreshold: target lag (records) per replica; desired = ceil(total lag / threshold). */
    lagThresholdRecords: z.number().positive().default(100_000),
    /**
     * The ScaledObject's second trigger, CPU utilization (HPA takes the larger of the two); without
     * it, a pure lag scaler shrinks to minReplicas whenever lag is zero and oscillates. 0 disables it.
     */
    cpuTargetUtilization: z.number().min(0).max(1).default(0.8),
    /** Replicas kept even with no lag (KEDA minReplicaCount). */
    minReplicas: z.number().int().nonnegative().default(1),
    pollingIntervalSeconds: z.number().positive().default(30),
    /** HPA scale-down stabilization window: the largest desired count over this window wins. */
    scaleDownStabilizationSeconds: z.number().nonnegative().default(300),
    /** HPA tolerance: no change while the ratio is within 1 ± tolerance. */
    tolerance: z.number().nonnegative().default(0.1),
  })
  .strict();

export const staticPeakSchema = z
  .object({
    /** CPU utilization at the trace's peak: capacity = peak / (per-vCPU rate × this). */
    peakUtilization: z.number().gt(0).max(1).default(0.8),
  })
  .strict();

/** Everything about a simulation except the trace and the liveagg policy (which has its own schema). */
export const simConfigSchema = z
  .object({
    sloLagSeconds: z.number().positive().default(60),
    /** Multiplicative per-step load noise (std dev, fraction): traces are hourly, real load is not smooth. */
    loadNoise: z.number().min(0).max(0.5).default(0.02),
    /** How often the liveagg policy refreshes its forecast from the history simulated so far. */
    forecastRefreshMinutes: z.number().positive().default(60),
    /** History window the forecast is fitted on. */
    forecastHistoryDays: z.number().positive().default(28),
    /** Forecast horizon. */
    forecastHorizonHours: z.number().positive().default(48),
    /** State held by the whole fleet (moves at rebalances; sets the planner's memory floor). */
    stateGiB: z.number().nonnegative().default(8),
    /** Bytes per live series, to turn state into series counts for the planner. */
    bytesPerSeries: z.number().positive().default(512),
    fleet: simFleetSchema.default(simFleetSchema.parse({})),
    market: simMarketSchema.default(simMarketSchema.parse({})),
    targetTracking: targetTrackingSchema.default(targetTrackingSchema.parse({})),
    lagReactive: lagReactiveSchema.default(lagReactiveSchema.parse({})),
    staticPeak: staticPeakSchema.default(staticPeakSchema.parse({})),
  })
  .strict();

export type SimInstanceType = z.infer<typeof simInstanceTypeSchema>;
export type SimFleetConfig = z.infer<typeof simFleetSchema>;
export type SimMarketConfig = z.infer<typeof simMarketSchema>;
export type TargetTrackingConfig = z.infer<typeof targetTrackingSchema>;
export type LagReactiveConfig = z.infer<typeof lagReactiveSchema>;
export type StaticPeakConfig = z.infer<typeof staticPeakSchema>;
export type SimConfig = z.infer<typeof simConfigSchema>;
