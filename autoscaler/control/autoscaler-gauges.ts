/** The loop's own metrics; the CLI backs this with prom-client gauges (la_autoscaler_*). */
export interface AutoscalerGauges {
  /** Target capacity decided, units. */
  desiredUnits(units: number): void;
  /** Capacity of ready instances, units. */
  actualUnits(units: number): void;
  /** Planned load / kept capacity (fraction). */
  utilization(fraction: number): void;
  /** Planned input rate (forecast band or live), records/s. */
  forecastRecordsPerSecond(rate: number): void;
  /** Drains in progress. */
  pendingDrains(count: number): void;
  /**
   * One drain did not finish (timed out or failed through every retry) and its worker was terminated anyway;
   * `reason` is why it was draining (`scale-in`, `interruption`, `rebalance`). Backs `la_drain_failures_total`.
   */
  drainFailed(reason: string): void;
}

/** Gauges that record nothing. */
export const noopAutoscalerGauges: AutoscalerGauges = {
  desiredUnits: () => {},
  actualUnits: () => {},
  utilization: () => {},
  forecastRecordsPerSecond: () => {},
  pendingDrains: () => {},
  drainFailed: () => {},
};
