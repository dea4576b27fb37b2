import { z } from 'zod';
import { stateMachinesSchema } from './state-machines-section.js';

/** `500ms`, `30s`, `1m`, `10m`, `1h`, `1d` → milliseconds. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] as 'ms' | 's' | 'm' | 'h' | 'd';
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit];
  return n * factor;
}

/** Shortest text for a duration in ms (inverse of {@link parseDurationMs} for whole units). */
export function formatDurationMs(ms: number): string {
  for (const [unit, f] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % f === 0) return `${ms / f}${unit}`;
  }
  return `${ms}ms`;
}

const durationSchema = z.string().transform((text, ctx) => {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'is not a positive duration like "1m", "10m", "1h", "30s"' });
    return z.NEVER;
  }
  return ms;
});

const fieldName = z.string().min(1).max(200);

export const aggregateKinds = [
  'count',
  'sum',
  'min',
  'max',
  'mean',
  'last',
  'quantiles',
  'distinct',
] as const;
export type AggregateKind = (typeof aggregateKinds)[number];

/** The aggregates of one field of the input records. */
export const fieldAggregateSchema = z
  .object({
    /** Field of the record (top level). Numeric kinds read a number; `distinct` reads a string or number. */
    field: fieldName,
    kinds: z
      .array(z.enum(aggregateKinds))
      .min(1)
      .refine((k) => new Set(k).size === k.length, 'lists a kind twice'),
    /** Quantiles reported when `quantiles` is a kind, each in [0, 1]. */
    quantiles: z.array(z.number().min(0).max(1)).min(1).default([0.5, 0.9, 0.99]),
    /** DDSketch relative accuracy α: a reported quantile is within ±α of the true value (relative). */
    relativeAccuracy: z.number().gt(0).lt(1).default(0.01),
    /** HyperLogLog precision p (2^p one-byte registers; standard error ≈ 1.04 / √2^p). */
    hllPrecision: z.number().int().min(4).max(16).default(12),
  })
  .strict();
export type FieldAggregateConfig = z.infer<typeof fieldAggregateSchema>;

export const pipelineSinkSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('cassandra'), table: z.string().regex(/^[a-z][a-z0-9_]*$/i) }).strict(),
  z
    .object({ type: z.literal('s3'), bucket: z.string().min(3), prefix: z.string().default('results') })
    .strict(),
  z.object({ type: z.literal('kafka'), topic: z.string().min(1) }).strict(),
]);
export type PipelineSink = z.infer<typeof pipelineSinkSchema>;

/** One pipeline: what to read, how to key and window it, what to compute, where results go. */
export const pipelineSchema = z
  .object({
    /** Used in sink keys, checkpoint keys and metric labels. */
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,62}$/i, 'must be letters, digits, "_" or "-", starting with a letter'),
    source: z
      .object({
        topics: z.array(z.string().min(1)).min(1),
        /** `json`: raw events; `partial`: mergeable partials written by a level-1 pipeline's `nextLevel`. */
        format: z.enum(['json', 'partial']).default('json'),
      })
      .strict(),
    /** Fields whose values identify a series (at level 2: a subset of the level-1 key fields). */
    keyFields: z.array(fieldName).min(1),
    /** Event time: epoch milliseconds (number) or an ISO 8601 string. Ignored for `partial` sources. */
    eventTimeField: fieldName.default('timestamp'),
    /** Tumbling window sizes, e.g. ["1m", "10m"]; each must divide the next larger one. */
    windows: z.array(durationSchema).min(1).max(8),
    /** How long after a window's end (in event time) it stays open for out-of-order records. */
    allowedLatenessMs: z.number().int().min(0).default(0),
    /**
     * Event time of a silent partition moves on: once a partition is caught up (nothing left in
     * Kafka) and has had no record for this long (wall clock), its watermark advances as if event
     * time had kept pace with the wall clock since its last record, less this delay — closing the
     * windows and firing the state-machine timeouts that silence would otherwise hold forever. A
     * record delayed by more than this may then be late. Absent: the watermark moves only with records.
     */
    idleAfterMs: z
      .number()
      .int()
      .min(1_000)
      .max(7 * 86_400_000)
      .optional(),
    aggregates: z.array(fieldAggregateSchema).min(1),
    /** Records larger than this go to the dead-letter topic as `oversized`. */
    maxRecordBytes: z.number().int().positive().default(65_536),
    stateMachines: stateMachinesSchema.default([]),
    sink: pipelineSinkSchema,
    /** Multi-level aggregation: also write partials to `topic`, keyed by `keyFields` (a subset of ours). */
    nextLevel: z
      .object({ topic: z.string().min(1), keyFields: z.array(fieldName).min(1) })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const sizes = [...p.windows].sort((a, b) => a - b);
    if (new Set(sizes).size !== sizes.length) {
      ctx.addIssue({ code: 'custom', path: ['windows'], message: 'lists a window size twice' });
    }
    for (let i = 1; i < sizes.length; i++) {
      const a = sizes[i - 1]!;
      const b = sizes[i]!;
      if (a !== b && b % a !== 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['windows'],
          message: `${formatDurationMs(b)} is not a multiple of ${formatDurationMs(a)}; use sizes that divide each other (e.g. 1m, 10m, 1h)`,
        });
      }
    }
    const fields = p.aggregates.map((a) => a.field);
    fields.forEach((f, i) => {
      if (fields.indexOf(f) !== i) {
        ctx.addIssue({
          code: 'custom',
          path: ['aggregates', i, 'field'],
          message: `"${f}" is aggregated twice; list all its kinds in one entry`,
        });
      }
      if (p.keyFields.includes(f)) {
        ctx.addIssue({
          code: 'custom',
          path: ['aggregates', i, 'field'],
          message: `"${f}" is a key field; key fields cannot be aggregated`,
        });
      }
    });
    if (new Set(p.keyFields).size !== p.keyFields.length) {
      ctx.addIssue({ code: 'custom', path: ['keyFields'], message: 'lists a field twice' });
    }
    if (p.source.format === 'json' && p.keyFields.includes(p.eventTimeField)) {
      ctx.addIssue({
        code: 'custom',
        path: ['eventTimeField'],
        message: `"${p.eventTimeField}" is also a key field`,
      });
    }
    p.nextLevel?.keyFields.forEach((f, i) => {
      if (!p.keyFields.includes(f)) {
        ctx.addIssue({
          code: 'custom',
          path: ['nextLevel', 'keyFields', i],
          message: `"${f}" is not one of keyFields (${p.keyFields.join(', ')})`,
        });
      }
    });
    if (p.sink.type === 'kafka' && p.source.topics.includes(p.sink.topic)) {
      ctx.addIssue({
        code: 'custom',
        path: ['sink', 'topic'],
        message: `"${p.sink.topic}" is also a source topic (a loop)`,
      });
    }
    if (p.nextLevel && p.source.topics.includes(p.nextLevel.topic)) {
      ctx.addIssue({
        code: 'custom',
        path: ['nextLevel', 'topic'],
        message: `"${p.nextLevel.topic}" is also a source topic (a loop)`,
      });
    }
    if (p.source.format === 'partial' && p.stateMachines.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['stateMachines'],
        message: 'are not supported on a partial (level-2) source',
      });
    }
  });

export type PipelineConfig = z.output<typeof pipelineSchema>;
export type PipelineInput = z.input<typeof pipelineSchema>;

/** The `pipelines` section: names unique. */
export const pipelinesSchema = z.array(pipelineSchema).superRefine((ps, ctx) => {
  const names = ps.map((p) => p.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i)
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${n}" names two pipelines` });
  });
});
