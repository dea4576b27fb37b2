import { z } from 'zod';

const loopback = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.');

/** The `worker` section of the config file. */
export const workerConfigSchema = z
  .object({
    /** Worker identity in logs, manifests and metrics; defaults to the instance id (IMDS) or host:pid. */
    id: z.string().min(1).optional(),
    /** Kafka consumer group shared by the workers of one deployment. */
    groupId: z.string().min(1).default('liveagg-workers'),
    sessionTimeoutMs: z.number().int().min(6000).default(10_000),
    heartbeatIntervalMs: z.number().int().positive().default(1000),
    maxBytesPerPartition: z.number().int().positive().default(1_048_576),
    admin: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(19100),
        /** Bearer token for /drain and /checkpoint; required off loopback. Prefer LIVEAGG__WORKER__ADMIN__TOKEN. */
        token: z.string().min(16, 'must be at least 16 characters').optional(),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 19100 }),
    memory: z
      .object({
        budgetBytes: z
          .number()
          .int()
          .positive()
          .default(512 * 1024 * 1024),
        /** Pause fetching above this fraction of the budget… */
        highWater: z.number().gt(0).lte(1).default(0.9),
        /** …and resume below this one. */
        lowWater: z.number().gt(0).lte(1).default(0.75),
      })
      .strict()
      .default({ budgetBytes: 512 * 1024 * 1024, highWater: 0.9, lowWater: 0.75 })
      .refine((m) => m.lowWater < m.highWater, {
        message: 'lowWater must be below highWater',
        path: ['lowWater'],
      }),
    checkpoint: z
      .object({
        store: z.enum(['s3', 'local']).default('s3'),
        bucket: z.string().min(3).optional(),
        dir: z.string().min(1).optional(),
        prefix: z.string().min(1).default('checkpoints'),
        intervalMs: z.number().int().min(100).default(30_000),
        keep: z.number().int().min(1).default(3),
        orphanGraceMs: z.number().int().positive().default(600_000),
        /** How checkpoint data is stored: snappy (fast, the default), gzip (smaller, slower) or none. */
        compression: z.enum(['snappy', 'gzip', 'none']).default('snappy'),
        /**
         * A storage request that moves no bytes for this long fails (and is retried): a silent
         * network must not hang a checkpoint, and the worker with it, for ever.
         */
        storageIdleTimeoutMs: z.number().int().min(100).default(5_000),
        /**
         * A checkpoint is read from S3 as ranged GETs of 8 MiB, this many at a time (one
         * connection carries ~100 MB/s; a restore is on the path of every rebalance). 1: one
         * GET, for S3-compatible stores where a ranged GET costs as much as the whole object.
         */
        downloadConcurrency: z.number().int().min(1).max(64).default(4),
      })
      .strict()
      .refine((c) => c.store !== 's3' || c.bucket !== undefined, {
        message: 'is required when store is s3',
        path: ['bucket'],
      })
      .refine((c) => c.store !== 'local' || c.dir !== undefined, {
        message: 'is required when store is local',
        path: ['dir'],
      }),
    deadLetterTopic: z.string().min(1).default('liveagg-dead-letters'),
    sink: z
      .object({
        /** Concurrent writes in flight per sink. */
        concurrency: z.number().int().min(1).max(1024).default(64),
        retryBaseDelayMs: z.number().int().positive().default(200),
        retryMaxDelayMs: z.number().int().positive().default(10_000),
        /**
         * Window rows per sink write. A closed window with more rows (a partition's million
         * series) is handed to the sink in parts of about this many as earlier writes complete,
         * so only a few parts exist as result objects at once; the rest stays in the compact
         * store, charged to the memory budget. Whole parts of 16,384 table slots at least (8,192
         * merged rows at level 2); state-machine transitions fill a write up to exactly this many.
         */
        maxRowsPerWrite: z.number().int().min(1).max(1_000_000).default(16_384),
        /**
         * Sink writes queued per partition before consumption waits for the oldest: consumption
         * overlaps sink latency up to here, and at most this many + 1 parts of a closing window
         * exist as result objects (~420 bytes per row each).
         */
        maxPendingWrites: z.number().int().min(1).max(1024).default(8),
      })
      .strict()
      .default({
        concurrency: 64,
        retryBaseDelayMs: 200,
        retryMaxDelayMs: 10_000,
        maxRowsPerWrite: 16_384,
        maxPendingWrites: 8,
      }),
    notices: z
      .object({
        /** Poll instance metadata for spot interruption notices and rebalance recommendations. */
        enabled: z.boolean().default(false),
        pollIntervalMs: z.number().int().min(100).default(2000),
        /** Drain on a rebalance recommendation too (not only on an interruption notice). */
        drainOnRebalance: z.boolean().default(true),
      })
      .strict()
      .default({ enabled: false, pollIntervalMs: 2000, drainOnRebalance: true }),
    cloudwatch: z
      .object({
        /** Also publish the la_* metrics to CloudWatch (namespace LiveAggregators). */
        enabled: z.boolean().default(false),
        intervalMs: z.number().int().min(1000).default(60_000),
        /** Dimension value; on EC2 it is read from instance metadata when unset. */
        instanceType: z.string().min(1).optional(),
      })
      .strict()
      .default({ enabled: false, intervalMs: 60_000 }),
    /** A drain that has not finished by then commits what is durable and exits. */
    drainTimeoutMs: z.number().int().positive().default(90_000),
  })
  .strict()
  .refine((w) => loopback(w.admin.host) || w.admin.token !== undefined, {
    message: 'is required when admin.host is not a loopback address',
    path: ['admin', 'token'],
  });

export type WorkerConfig = z.infer<typeof workerConfigSchema>;
