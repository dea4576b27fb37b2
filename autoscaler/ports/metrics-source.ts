import type { InstanceId } from './fleet-provider.js';

/** What one worker did for one stream over the window. */
export interface WorkerStreamObservation {
  stream: string;
  /** Records consumed in the window. */
  records: number;
  /** CPU seconds spent busy on this stream (consumer + aggregator) in the window. */
  busyCpuSeconds: number;
}

/** One worker's observations over the window. */
export interface WorkerObservation {
  instanceId: InstanceId;
  instanceType: string;
  /** Per-stream work in the window. */
  streams: readonly WorkerStreamObservation[];
  /** Total busy CPU seconds in the window (≥ the per-stream sum; includes checkpointing etc.). */
  busyCpuSeconds: number;
  /** State held in memory now, bytes. */
  stateBytes: number;
  /** Live series (keys with state) now. */
  liveSeries: number;
  /** Last launch→ready time observed for this worker, ms (for learning lead time). */
  launchToReadyMs?: number;
  /** Last state restore time observed for this worker, ms. */
  restoreMs?: number;
  /** Age of the worker's newest durable checkpoint, ms. */
  checkpointAgeMs?: number;
}

/** One input stream (topic) across the fleet over the window. */
export interface StreamObservation {
  stream: string;
  /** Mean input rate over the window, records/s. */
  recordsPerSecond: number;
  /** Consumer lag per partition now, records (key: partition number as a string). */
  lagByPartition: Readonly<Record<string, number>>;
  /** Partition count (parallelism cap). */
  partitions?: number;
}

/** Everything observed over one window. */
export interface MetricsSnapshot {
  observedAtMs: number;
  windowMs: number;
  workers: readonly WorkerObservation[];
  streams: readonly StreamObservation[];
}

/** Where component metrics come from (CloudWatch GetMetricData, Prometheus scrape, recorded trace, simulator). */
export interface MetricsSource {
  /**
   * Observations over the `windowMs` ending now. Resolves `undefined` when there is no data at all (the planner
   * then holds capacity); throws only on transport failures (ThrottledError is retryable).
   */
  observe(windowMs: number): Promise<MetricsSnapshot | undefined>;
}

/** Total lag of a stream, records. */
export function totalLagRecords(stream: StreamObservation): number {
  let sum = 0;
  for (const lag of Object.values(stream.lagByPartition)) sum += Math.max(0, lag);
  return sum;
}
