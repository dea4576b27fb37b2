import type {
  MetricsSnapshot,
  StreamObservation,
  WorkerObservation,
  WorkerStreamObservation,
} from '../../autoscaler/ports/metrics-source.js';

/**
 * One worker metric over a window, whatever the source (CloudWatch, a Prometheus scrape): counters as their increase
 * over the window, gauges as their latest value.
 */
export interface WindowSample {
  instanceId: string;
  instanceType: string;
  /** The `la_*` metric name (without a `_total` rewrite: counters keep their Prometheus names). */
  metric: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

/** The worker metrics the autoscaler reads; counters are window increases. */
export const METRICS = {
  records: 'la_consumer_records_total',
  busySeconds: 'la_busy_seconds_total',
  lag: 'la_consumer_lag_records',
  memoryUsed: 'la_memory_used_bytes',
  liveSeries: 'la_memory_live_series',
  checkpointAge: 'la_checkpoint_age_seconds',
  restoreSeconds: 'la_restore_seconds_total',
} as const;

export const COUNTER_METRICS: readonly string[] = [
  METRICS.records,
  METRICS.busySeconds,
  METRICS.restoreSeconds,
];
export const GAUGE_METRICS: readonly string[] = [
  METRICS.lag,
  METRICS.memoryUsed,
  METRICS.liveSeries,
  METRICS.checkpointAge,
];

interface WorkerAccumulator {
  instanceType: string;
  recordsByStream: Map<string, number>;
  busy: number;
  stateBytes: number;
  liveSeries: number;
  checkpointAgeSeconds: number | undefined;
  restoreSeconds: number;
}

/**
 * Folds window samples into the autoscaler's snapshot. Per-stream CPU: workers measure busy time per component, not per
 * topic, so a worker's busy seconds are split across its streams in proportion to the records each consumed (the
 * learner then sees CPU-seconds per record per stream per instance type). Lag per partition is the largest value any
 * worker reported for it (after a rebalance the old owner's last value is stale but the new owner's replaces it within
 * a publish interval; the larger one is the safe choice for planning). Undefined when the window holds no sample.
 */
export function buildSnapshot(
  samples: readonly WindowSample[],
  window: { observedAtMs: number; windowMs: number },
): MetricsSnapshot | undefined {
  if (samples.length === 0) return undefined;
  const workers = new Map<string, WorkerAccumulator>();
  const streamRecords = new Map<string, number>();
  const lag = new Map<string, Map<string, number>>();
  for (const s of samples) {
    let w = workers.get(s.instanceId);
    if (!w) {
      w = {
        instanceType: s.instanceType,
        recordsByStream: new Map(),
        busy: 0,
        stateBytes: 0,
        liveSeries: 0,
        checkpointAgeSeconds: undefined,
        restoreSeconds: 0,
      };
      workers.set(s.instanceId, w);
    }
    const value = Number.isFinite(s.value) ? s.value : 0;
    const topic = s.labels['topic'];
    switch (s.metric) {
      case METRICS.records:
        if (topic !== undefined) {
          w.recordsByStream.set(topic, (w.recordsByStream.get(topic) ?? 0) + value);
          streamRecords.set(topic, (streamRecords.get(topic) ?? 0) + value);
        }
        break;
      case METRICS.busySeconds:
        w.busy += value;
        break;
      case METRICS.memoryUsed:
        w.stateBytes = Math.max(w.stateBytes, value);
        break;
      case METRICS.liveSeries:
        w.liveSeries = Math.max(w.liveSeries, value);
        break;
      case METRICS.checkpointAge:
        w.checkpointAgeSeconds = Math.max(w.checkpointAgeSeconds ?? 0, value);
        break;
      case METRICS.restoreSeconds:
        w.restoreSeconds += value;
        break;
      case METRICS.lag: {
        const partition = s.labels['partition'];
        if (topic === undefined || partition === undefined) break;
        const byPartition = lag.get(topic) ?? new Map<string, number>();
        byPartition.set(partition, Math.max(byPartition.get(partition) ?? 0, value));
        lag.set(topic, byPartition);
        break;
      }
    }
  }
  const workerObservations: WorkerObservation[] = [];
  for (const [instanceId, w] of workers) {
    const totalRecords = [...w.recordsByStream.values()].reduce((a, b) => a + b, 0);
    const streams: WorkerStreamObservation[] = [...w.recordsByStream].map(([stream, records]) => ({
      stream,
      records,
      busyCpuSeconds: totalRecords > 0 ? (w.busy * records) / totalRecords : 0,
    }));
    const observation: WorkerObservation = {
      instanceId,
      instanceType: w.instanceType,
      streams,
      busyCpuSeconds: w.busy,
      stateBytes: w.stateBytes,
      liveSeries: w.liveSeries,
    };
    if (w.checkpointAgeSeconds !== undefined) observation.checkpointAgeMs = w.checkpointAgeSeconds * 1000;
    if (w.restoreSeconds > 0) observation.restoreMs = w.restoreSeconds * 1000;
    workerObservations.push(observation);
  }
  const streams: StreamObservation[] = [];
  for (const stream of new Set([...streamRecords.keys(), ...lag.keys()])) {
    const byPartition = lag.get(stream) ?? new Map<string, number>();
    streams.push({
      stream,
      recordsPerSecond: (streamRecords.get(stream) ?? 0) / (window.windowMs / 1000),
      lagByPartition: Object.fromEntries(byPartition),
      ...(byPartition.size > 0 ? { partitions: byPartition.size } : {}),
    });
  }
  return {
    observedAtMs: window.observedAtMs,
    windowMs: window.windowMs,
    workers: workerObservations,
    streams,
  };
}
