import type { StaticPeakConfig } from '../sim-config-schema.js';
import type { SimDecision, SimPolicy } from '../sim-policy.js';

/**
 * What an SRE does without an autoscaler: a fixed fleet sized for the trace's peak at
 * `peakUtilization` CPU, replacing interrupted instances (the fleet keeps its target).
 */
export class StaticPeakPolicy implements SimPolicy {
  readonly name = 'static-peak';
  readonly units: number;

  constructor(config: StaticPeakConfig, peakRate: number, recordsPerSecPerUnit: number) {
    // Capacity so that the peak runs at peakUtilization: peak / (rate per vCPU × utilization).
    this.units = Math.ceil(peakRate / (recordsPerSecPerUnit * config.peakUtilization));
  }

  decide(): SimDecision {
    return { desiredUnits: this.units };
  }
}
