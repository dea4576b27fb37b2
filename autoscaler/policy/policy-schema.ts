import { z } from 'zod';

const instanceTypeSchema = z
  .object({
    /** EC2 instance type, e.g. `m6i.xlarge`. */
    name: z.string().min(1),
    vcpu: z.number().positive(),
    memoryGiB: z.number().positive(),
    /** Capacity units this type counts for in the fleet; defaults to its vCPU count. */
    weight: z.number().positive().optional(),
    /** Typical spot price, $/hour (pricing hint for cost and pool choice). */
    spotPriceHintPerHour: z.number().nonnegative().optional(),
    onDemandPricePerHour: z.number().nonnegative().optional(),
  })
  .strict();

const poolSchema = z
  .object({
    instanceType: z.string().min(1),
    availabilityZone: z.string().min(1),
  })
  .strict();

const leadTimeSchema = z
  .object({
    /** Launch request → instance booted. */
    bootMs: z.number().int().nonnegative().default(120_000),
    /** Booted → worker joined the consumer group. */
    joinMs: z.number().int().nonnegative().default(30_000),
    /** Joined → partitions' state restored from checkpoints. */
    restoreMs: z.number().int().nonnegative().default(60_000),
  })
  .strict();

const fraction = (what: string) =>
  z
    .number()
    .refine((v) => v > 0 && v <= 1, { message: 'is not in (0, 1]' })
    .describe(what);

const defaultInstanceTypes = [
  { name: 'm6i.xlarge', vcpu: 4, memoryGiB: 16, spotPriceHintPerHour: 0.08, onDemandPricePerHour: 0.192 },
  { name: 'm5.xlarge', vcpu: 4, memoryGiB: 16, spotPriceHintPerHour: 0.075, onDemandPricePerHour: 0.192 },
  { name: 'c6i.xlarge', vcpu: 4, memoryGiB: 8, spotPriceHintPerHour: 0.07, onDemandPricePerHour: 0.17 },
];

/**
 * The `autoscaler` section: policy of the planner and the control loop. Times in ms, capacity in weighted units
 * (vCPU unless an instance type says otherwise). Cross-field rules: minUnits ≤ maxUnits, band low ≤ target ≤ high,
 * every referenced instance type is declared.
 */
export const autoscalerPolicySchema = z
  .object({
    /** Fraction of capacity the planned load should use: scale so that used / (capacity × target) = 1. */
    targetUtilization: fraction('target utilization').default(0.75),
    /** [low, high]: hold while projected utilization stays inside; act outside. */
    utilizationBand: z.tuple([fraction('band low'), fraction('band high')]).default([0.7, 0.85]),
    minUnits: z.number().int().nonnegative().default(2),
    maxUnits: z.number().int().positive().default(1000),
    instanceTypes: z.array(instanceTypeSchema).min(1).default(defaultInstanceTypes),
    /** AZs combined with every instance type when `pools` is empty. */
    availabilityZones: z.array(z.string().min(1)).min(1).default(['us-east-1a', 'us-east-1b', 'us-east-1c']),
    /** Spot pools (instance type × AZ) the fleet may use; empty = every type in every AZ. */
    pools: z.array(poolSchema).default([]),
    /** Largest single scale-out, units. */
    maxScaleUpStepUnits: z.number().positive().default(256),
    /** Largest single scale-in as a fraction of capacity (0.4 = Flink's ×0.6). */
    maxScaleDownFraction: fraction('max scale-down fraction').default(0.4),
    /** Minimum time between two scale-outs. */
    scaleUpCooldownMs: z.number().int().nonnegative().default(60_000),
    /** No scale-in within this time after any scale event. */
    scaleDownCooldownMs: z.number().int().nonnegative().default(1_800_000),
    /** A lower need must last this long before scaling in (the scale-in target is the max need over it). */
    scaleInSustainMs: z.number().int().nonnegative().default(900_000),
    /** No scale-in within this time after losing capacity to an interruption. */
    noScaleInAfterInterruptionMs: z.number().int().nonnegative().default(1_800_000),
    /** Consumer lag allowed, seconds of input. */
    lagSloSeconds: z.number().positive().default(60),
    /** Burn the current lag down within this time (extra capacity = lag / catchUpSeconds). */
    catchUpSeconds: z.number().positive().default(300),
    /** Which forecast band to provision for. */
    forecastQuantile: z.enum(['upper', 'value']).default('upper'),
    /**
     * `live`: apply the forecast band's growth over the lead time to the live rate (robust to a biased level and to
     * bands calibrated for hours ahead); `absolute`: provision for the band's own level.
     */
    forecastAnchor: z.enum(['live', 'absolute']).default('live'),
    /** Launch → useful capacity; learned values override these defaults. */
    leadTime: leadTimeSchema.default({ bootMs: 120_000, joinMs: 30_000, restoreMs: 60_000 }),
    /** Without a forecast, savings of a scale-in are counted over this horizon. */
    savingHorizonMs: z.number().int().positive().default(3_600_000),
    /** Scale in only when saved unit-hours ≥ this × the unit-hours spent moving state. */
    scaleInMinSavingRatio: z.number().min(1).default(1.5),
    /** Consumption pause of the partitions that move at a rebalance. */
    rebalancePauseMs: z.number().int().nonnegative().default(10_000),
    /** Restore throughput of a worker, bytes/s (learned values override). */
    restoreBytesPerSecond: z
      .number()
      .positive()
      .default(100 * 1024 * 1024),
    /** Fraction of an instance's memory usable for state (rest: runtime, buffers). */
    stateMemoryFraction: fraction('state memory fraction').default(0.6),
    drainTimeoutMs: z.number().int().positive().default(90_000),
    drainRetries: z.number().int().nonnegative().default(1),
    /** Checkpoint age + upload + hand-off must fit in this part of the 2-minute interruption notice. */
    checkpointNoticeBudgetMs: z.number().int().positive().max(120_000).default(90_000),
    /** Keep capacity ≥ need at 100 % (or lag within the SLO) after losing the largest (type, AZ) pool. */
    largestPoolLossHeadroom: z.boolean().default(true),
    /**
     * Apply that headroom only while the need without it exceeds this many units (0: always). On a fleet of one or
     * two instances, covering a pool's loss doubles the fleet, while an uncovered loss is a bounded, rare event:
     * at most the replacement lead time of lag, burned down in catchUpSeconds, against the SLO's error budget.
     * Set it to the fleet size below which that trade is accepted (e.g. one instance's weight).
     */
    poolLossHeadroomMinUnits: z.number().nonnegative().default(0),
    /** Avoid a pool for this long after it reported insufficient spot capacity. */
    poolBackoffMs: z.number().int().nonnegative().default(600_000),
    /** Loop period. */
    intervalMs: z.number().int().positive().default(30_000),
    /** Metrics window used for each decision. */
    metricsWindowMs: z.number().int().positive().default(300_000),
    /** Decide and record, never mutate the fleet. */
    dryRun: z.boolean().default(false),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.minUnits > p.maxUnits) {
      ctx.addIssue({ code: 'custom', path: ['minUnits'], message: `must be ≤ maxUnits (${p.maxUnits})` });
    }
    const [low, high] = p.utilizationBand;
    if (!(low <= p.targetUtilization && p.targetUtilization <= high)) {
      ctx.addIssue({
        code: 'custom',
        path: ['utilizationBand'],
        message: `must contain targetUtilization (${p.targetUtilization}): [${low}, ${high}]`,
      });
    }
    const known = new Set(p.instanceTypes.map((t) => t.name));
    p.pools.forEach((pool, i) => {
      if (!known.has(pool.instanceType)) {
        ctx.addIssue({
          code: 'custom',
          path: ['pools', i, 'instanceType'],
          message: `unknown instance type "${pool.instanceType}"; declare it in instanceTypes (known: ${[...known].join(', ')})`,
        });
      }
    });
  })
  .transform((p) => ({
    ...p,
    instanceTypes: p.instanceTypes.map((t) => ({ ...t, weight: t.weight ?? t.vcpu })),
    pools:
      p.pools.length > 0
        ? p.pools
        : p.instanceTypes.flatMap((t) =>
            p.availabilityZones.map((az) => ({ instanceType: t.name, availabilityZone: az })),
          ),
  }));

/** A validated policy (defaults filled, weights resolved, pools expanded). */
export type AutoscalerPolicy = z.output<typeof autoscalerPolicySchema>;
/** What a user may write (every field optional). */
export type AutoscalerPolicyInput = z.input<typeof autoscalerPolicySchema>;
/** A declared instance type with its weight resolved. */
export type InstanceTypeSpec = AutoscalerPolicy['instanceTypes'][number];

/** Validates a policy (throws ZodError; the CLI formats it with describeIssues). */
export function parseAutoscalerPolicy(input: AutoscalerPolicyInput = {}): AutoscalerPolicy {
  return autoscalerPolicySchema.parse(input, { reportInput: true });
}
