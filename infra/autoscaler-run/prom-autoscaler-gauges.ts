import { Counter, Gauge, Registry } from 'prom-client';
import type { AutoscalerGauges } from '../../autoscaler/control/autoscaler-gauges.js';

/**
 * The loop's own metrics as prom-client gauges (`la_autoscaler_*`) and the drain-failure counter the deployment's alarm
 * reads (`la_drain_failures_total`, label `reason`), served on the dashboard's /metrics and published to CloudWatch.
 */
export class PromAutoscalerGauges implements AutoscalerGauges {
  readonly registry = new Registry();
  readonly #desired = this.#gauge('la_autoscaler_desired_units', 'Target capacity decided, weighted units');
  readonly #actual = this.#gauge('la_autoscaler_actual_units', 'Capacity of ready instances, weighted units');
  readonly #utilization = this.#gauge('la_autoscaler_utilization', 'Planned load / kept capacity (fraction)');
  readonly #forecast = this.#gauge(
    'la_autoscaler_forecast_records_per_second',
    'Planned input rate, records/s',
  );
  readonly #drains = this.#gauge('la_autoscaler_pending_drains', 'Drains in progress');
  readonly #drainFailures = new Counter({
    name: 'la_drain_failures_total',
    help: 'Drains that did not finish in time (the worker was terminated anyway)',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  #gauge(name: string, help: string): Gauge {
    return new Gauge({ name, help, registers: [this.registry] });
  }

  desiredUnits(units: number): void {
    this.#desired.set(units);
  }
  actualUnits(units: number): void {
    this.#actual.set(units);
  }
  utilization(fraction: number): void {
    this.#utilization.set(fraction);
  }
  forecastRecordsPerSecond(rate: number): void {
    this.#forecast.set(rate);
  }
  pendingDrains(count: number): void {
    this.#drains.set(count);
  }
  drainFailed(reason: string): void {
    this.#drainFailures.inc({ reason });
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
