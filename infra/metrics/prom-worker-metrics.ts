import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkerMetrics } from '../../aggregator/worker/worker-metrics.js';

/** The worker's metrics as Prometheus series, all prefixed `la_`. */
export class PromWorkerMetrics implements WorkerMetrics {
  readonly registry = new Registry();
  private readonly recordsIn = this.counter('la_consumer_records_total', 'Records fetched', [
    'topic',
    'partition',
  ]);
  private readonly bytesIn = this.counter('la_consumer_bytes_total', 'Bytes fetched', ['topic', 'partition']);
  private readonly lagRecords = this.gauge('la_consumer_lag_records', 'Records behind the high watermark', [
    'topic',
    'partition',
  ]);
  private readonly busySeconds = this.counter('la_busy_seconds_total', 'Busy seconds by component', [
    'component',
  ]);
  private readonly memUsed = this.gauge('la_memory_used_bytes', 'Memory manager bytes used', []);
  private readonly memLimit = this.gauge('la_memory_limit_bytes', 'Memory manager budget', []);
  private readonly memSeries = this.gauge('la_memory_live_series', 'Live series held', []);
  private readonly memPipeline = this.gauge('la_memory_pipeline_bytes', 'Bytes used per pipeline', [
    'pipeline',
  ]);
  private readonly updates = this.counter('la_aggregator_updates_total', 'Aggregate updates applied', [
    'pipeline',
  ]);
  private readonly windows = this.counter('la_aggregator_windows_emitted_total', 'Closed windows emitted', [
    'pipeline',
  ]);
  private readonly transitions = this.counter(
    'la_aggregator_transitions_emitted_total',
    'State machine transitions emitted',
    ['pipeline'],
  );
  private readonly sinkRows = this.counter('la_sink_rows_total', 'Rows written by sinks', ['sink']);
  private readonly sinkErrors = this.counter('la_sink_errors_total', 'Failed sink writes', ['sink']);
  private readonly sinkLatency = new Histogram({
    name: 'la_sink_write_seconds',
    help: 'Sink write latency',
    labelNames: ['sink'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly deadLetters = this.counter(
    'la_dead_letters_total',
    'Records sent to the dead-letter topic',
    ['pipeline', 'reason'],
  );
  private readonly ckptSeconds = new Histogram({
    name: 'la_checkpoint_duration_seconds',
    help: 'Checkpoint duration',
    labelNames: ['pipeline'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly ckptBytes = this.counter('la_checkpoint_bytes_total', 'Checkpoint bytes stored', [
    'pipeline',
  ]);
  private readonly ckptAge = this.gauge('la_checkpoint_age_seconds', 'Age of the newest durable checkpoint', [
    'pipeline',
    'topic',
    'partition',
  ]);
  private readonly restoreBytes = this.counter('la_restore_bytes_total', 'Checkpoint bytes restored', [
    'pipeline',
  ]);
  private readonly restoreSeconds = this.counter('la_restore_seconds_total', 'Seconds spent restoring', [
    'pipeline',
  ]);
  private readonly replayRecords = this.counter(
    'la_replay_records_total',
    'Records replayed after a restore',
    ['pipeline'],
  );
  private readonly idleAdvances = this.counter(
    'la_idle_watermark_advances_total',
    'Watermark advances of silent partitions (pipeline idleAfterMs)',
    ['pipeline'],
  );
  private readonly idleEventSeconds = this.counter(
    'la_idle_watermark_advance_seconds_total',
    'Event time a silent partition moved on by, seconds',
    ['pipeline'],
  );
  private readonly pausedGauge = this.gauge('la_consumer_paused', 'Consumption paused (1) by reason', [
    'reason',
  ]);

  constructor(defaultMetrics = true) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'la_process_' });
  }

  consumed(topic: string, partition: number, records: number, bytes: number): void {
    const l = { topic, partition: String(partition) };
    this.recordsIn.inc(l, records);
    this.bytesIn.inc(l, bytes);
  }
  lag(topic: string, partition: number, records: number): void {
    this.lagRecords.set({ topic, partition: String(partition) }, records);
  }
  busy(component: 'consumer' | 'aggregator', seconds: number): void {
    this.busySeconds.inc({ component }, seconds);
  }
  memory(
    usedBytes: number,
    limitBytes: number,
    liveSeries: number,
    byPipeline: Record<string, number>,
  ): void {
    this.memUsed.set(usedBytes);
    this.memLimit.set(limitBytes);
    this.memSeries.set(liveSeries);
    for (const [pipeline, bytes] of Object.entries(byPipeline)) this.memPipeline.set({ pipeline }, bytes);
  }
  aggregated(pipeline: string, updates: number): void {
    this.updates.inc({ pipeline }, updates);
  }
  windowsEmitted(pipeline: string, windows: number): void {
    this.windows.inc({ pipeline }, windows);
  }
  transitionsEmitted(pipeline: string, transitions: number): void {
    this.transitions.inc({ pipeline }, transitions);
  }
  sinkWrite(sink: string, rows: number, seconds: number, ok: boolean): void {
    if (ok) this.sinkRows.inc({ sink }, rows);
    else this.sinkErrors.inc({ sink });
    this.sinkLatency.observe({ sink }, seconds);
  }
  deadLetter(pipeline: string, reason: string): void {
    this.deadLetters.inc({ pipeline, reason });
  }
  checkpointWritten(pipeline: string, seconds: number, storedBytes: number): void {
    this.ckptSeconds.observe({ pipeline }, seconds);
    this.ckptBytes.inc({ pipeline }, storedBytes);
  }
  checkpointAge(pipeline: string, topic: string, partition: number, seconds: number): void {
    this.ckptAge.set({ pipeline, topic, partition: String(partition) }, seconds);
  }
  restored(pipeline: string, bytes: number, seconds: number): void {
    this.restoreBytes.inc({ pipeline }, bytes);
    this.restoreSeconds.inc({ pipeline }, seconds);
  }
  replayed(pipeline: string, records: number): void {
    this.replayRecords.inc({ pipeline }, records);
  }
  idleAdvanced(pipeline: string, eventSeconds: number): void {
    this.idleAdvances.inc({ pipeline });
    this.idleEventSeconds.inc({ pipeline }, eventSeconds);
  }
  paused(reason: 'memory' | 'sink', value: 0 | 1): void {
    this.pausedGauge.set({ reason }, value);
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  private counter(name: string, help: string, labelNames: string[]): Counter {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
  private gauge(name: string, help: string, labelNames: string[]): Gauge {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }
}
