import {
  type CapacityModel,
  capacityModelFromThroughput,
  emptyPlannerMemory,
  type LoadForecast,
  type PlanInput,
} from '../../../../autoscaler/plan/plan-types.js';
import {
  type AutoscalerPolicyInput,
  parseAutoscalerPolicy,
} from '../../../../autoscaler/policy/policy-schema.js';
import {
  DRAIN_REASON_TAG,
  DRAINING_TAG,
  type FleetInstance,
  type FleetSnapshot,
} from '../../../../autoscaler/ports/fleet-provider.js';
import type { MetricsSnapshot, WorkerObservation } from '../../../../autoscaler/ports/metrics-source.js';

export const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
export const MIN = 60_000;
export const HOUR = 3_600_000;

/** One type (4 vCPU, weight 4) in three AZs; each vCPU does 1000 records/s. */
export function testPolicy(overrides: AutoscalerPolicyInput = {}) {
  return parseAutoscalerPolicy({
    instanceTypes: [{ name: 'm.x', vcpu: 4, memoryGiB: 16, spotPriceHintPerHour: 0.1 }],
    availabilityZones: ['a', 'b', 'c'],
    minUnits: 4,
    maxUnits: 400,
    largestPoolLossHeadroom: false,
    leadTime: { bootMs: 60_000, joinMs: 30_000, restoreMs: 30_000 },
    ...overrides,
  });
}

export const testModel: CapacityModel = capacityModelFromThroughput({ 'm.x': 1000 });

/** `n` ready instances spread over AZs a, b, c. */
export function fleetOf(
  n: number,
  opts: { draining?: Record<string, string>; azs?: string[] } = {},
): FleetSnapshot {
  const azs = opts.azs ?? ['a', 'b', 'c'];
  const instances: FleetInstance[] = Array.from({ length: n }, (_, k) => {
    const id = `i-${String(k).padStart(3, '0')}`;
    const reason = opts.draining?.[id];
    const tags: Record<string, string> = reason
      ? { [DRAINING_TAG]: String(T0), [DRAIN_REASON_TAG]: reason }
      : {};
    return {
      instanceId: id,
      instanceType: 'm.x',
      availabilityZone: azs[k % azs.length]!,
      market: 'spot',
      state: 'ready',
      launchTimeMs: T0 - HOUR + k,
      weightUnits: 4,
      tags,
    };
  });
  return { observedAtMs: T0, targetUnits: 4 * n, instances };
}

/** Metrics of `fleet` processing `rate` records/s (busy CPU consistent with 1000 records/s per vCPU). */
export function metricsFor(
  fleet: FleetSnapshot,
  rate: number,
  opts: { lag?: number; stateBytesPerWorker?: number; at?: number } = {},
): MetricsSnapshot {
  const windowMs = 5 * MIN;
  const live = fleet.instances.filter((i) => i.state === 'ready');
  const per = rate / Math.max(1, live.length);
  const workers: WorkerObservation[] = live.map((i) => ({
    instanceId: i.instanceId,
    instanceType: i.instanceType,
    streams: [
      {
        stream: 'events',
        records: (per * windowMs) / 1000,
        busyCpuSeconds: ((per / 1000) * windowMs) / 1000,
      },
    ],
    busyCpuSeconds: ((per / 1000) * windowMs) / 1000,
    stateBytes: opts.stateBytesPerWorker ?? 1_000_000,
    liveSeries: 1000,
  }));
  return {
    observedAtMs: opts.at ?? T0,
    windowMs,
    workers,
    streams: [{ stream: 'events', recordsPerSecond: rate, lagByPartition: { '0': opts.lag ?? 0 } }],
  };
}

/** A flat forecast of `value` (upper = value × 1.1) every 5 min over 2 h from `from`. */
export function flatForecast(value: number, from = T0, upperFactor = 1.1): LoadForecast {
  return {
    generatedAtMs: from,
    series: [
      {
        stream: '*',
        points: Array.from({ length: 25 }, (_, k) => ({
          timestampMs: from + k * 5 * MIN,
          value,
          lower: value * 0.9,
          upper: value * upperFactor,
        })),
      },
    ],
  };
}

export function input(partial: Partial<PlanInput> & Pick<PlanInput, 'fleet'>): PlanInput {
  return {
    now: T0,
    metrics: undefined,
    forecast: undefined,
    model: testModel,
    policy: testPolicy(),
    memory: emptyPlannerMemory(),
    ...partial,
  };
}
