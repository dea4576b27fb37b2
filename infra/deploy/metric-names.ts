/**
 * The metric contract between the workers, the autoscaler and the deployment's alarms and dashboard:
 * names in CloudWatch namespace {@link LIVEAGG_NAMESPACE} (the worker's CloudWatch publisher uses the same names as
 * its Prometheus registry). Keep this the one list: alarms, the dashboard and the IAM namespace condition read it.
 */
export const LIVEAGG_NAMESPACE = 'LiveAggregators';

export interface LiveAggMetric {
  /** CloudWatch metric name (= Prometheus name). */
  readonly name: string;
  /** Who publishes it. */
  readonly producer: 'worker' | 'autoscaler';
  /** gauge: a level; counter: published as the increase since the previous publish. */
  readonly kind: 'gauge' | 'counter';
  readonly help: string;
}

export const LIVEAGG_METRICS = [
  {
    name: 'la_consumer_lag_records',
    producer: 'worker',
    kind: 'gauge',
    help: 'Records behind the high watermark, per partition',
  },
  { name: 'la_consumer_records_total', producer: 'worker', kind: 'counter', help: 'Records consumed' },
  { name: 'la_consumer_bytes_total', producer: 'worker', kind: 'counter', help: 'Bytes consumed' },
  {
    name: 'la_consumer_paused',
    producer: 'worker',
    kind: 'gauge',
    help: '1 while fetching is paused by memory backpressure',
  },
  {
    name: 'la_busy_seconds_total',
    producer: 'worker',
    kind: 'counter',
    help: 'CPU-busy seconds per component',
  },
  { name: 'la_memory_used_bytes', producer: 'worker', kind: 'gauge', help: 'State memory in use' },
  { name: 'la_memory_limit_bytes', producer: 'worker', kind: 'gauge', help: 'State memory budget' },
  {
    name: 'la_checkpoint_age_seconds',
    producer: 'worker',
    kind: 'gauge',
    help: 'Age of the newest durable checkpoint',
  },
  { name: 'la_sink_errors_total', producer: 'worker', kind: 'counter', help: 'Sink write errors' },
  {
    name: 'la_dead_letters_total',
    producer: 'worker',
    kind: 'counter',
    help: 'Records sent to the dead-letter topic',
  },
  {
    name: 'la_drain_failures_total',
    producer: 'autoscaler',
    kind: 'counter',
    help: 'Drains that did not finish in time (the worker was terminated anyway)',
  },
] as const satisfies readonly LiveAggMetric[];

export type LiveAggMetricName = (typeof LIVEAGG_METRICS)[number]['name'];

/** The metric's name, checked at compile time against {@link LIVEAGG_METRICS}. */
export function metricName<N extends LiveAggMetricName>(name: N): N {
  return name;
}
