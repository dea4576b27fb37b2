/**
 * What a worker reports about itself (ARCHITECTURE.md "Metrics"). The prom-client adapter
 * (infra/metrics) names them `la_*`; a CloudWatch publisher reads the same registry.
 */
export interface WorkerMetrics {
  /** Consumer: records and bytes fetched from one partition. */
  consumed(topic: string, partition: number, records: number, bytes: number): void;
  /** Consumer: records behind the partition's high watermark. */
  lag(topic: string, partition: number, records: number): void;
  /** Busy time of a component, in seconds ('consumer' decode+fetch handling, 'aggregator' updates). */
  busy(component: 'consumer' | 'aggregator', seconds: number): void;
  /** Memory manager: bytes used, the budget and live series. */
  memory(usedBytes: number, limitBytes: number, liveSeries: number, byPipeline: Record<string, number>): void;
  /** Aggregator: updates applied and windows emitted for a pipeline. */
  aggregated(pipeline: string, updates: number): void;
  windowsEmitted(pipeline: string, windows: number): void;
  transitionsEmitted(pipeline: string, transitions: number): void;
  /** Sink writes: rows, outcome and latency. */
  sinkWrite(sink: string, rows: number, seconds: number, ok: boolean): void;
  /** Dead letters by reason. */
  deadLetter(pipeline: string, reason: string): void;
  /** Checkpoints: duration, stored bytes, and the age of the newest durable one. */
  checkpointWritten(pipeline: string, seconds: number, storedBytes: number): void;
  checkpointAge(pipeline: string, topic: string, partition: number, seconds: number): void;
  /** Restore progress after an assignment: bytes loaded and records replayed. */
  restored(pipeline: string, bytes: number, seconds: number): void;
  replayed(pipeline: string, records: number): void;
  /** A silent partition's watermark moved on without records (pipeline `idleAfterMs`), by `eventSeconds`. */
  idleAdvanced(pipeline: string, eventSeconds: number): void;
  /** 1 while consumption is paused by memory backpressure or a sink outage. */
  paused(reason: 'memory' | 'sink', value: 0 | 1): void;
}
