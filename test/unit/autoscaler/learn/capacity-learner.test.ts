import { describe, expect, it } from 'vitest';
import {
  capacityModelOf,
  emptyLearnerState,
  learn,
  mergeCapacityModels,
} from '../../../../autoscaler/learn/capacity-learner.js';
import { capacityModelFromThroughput } from '../../../../autoscaler/plan/plan-types.js';
import type { MetricsSnapshot } from '../../../../autoscaler/ports/metrics-source.js';
import { fleetOf, T0 } from '../plan/plan-fixtures.js';

function snapshot(cpuPerRecord: number, type = 'm.x', records = 100_000): MetricsSnapshot {
  return {
    observedAtMs: T0,
    windowMs: 300_000,
    streams: [],
    workers: [
      {
        instanceId: 'i-1',
        instanceType: type,
        streams: [{ stream: 'events', records, busyCpuSeconds: records * cpuPerRecord }],
        busyCpuSeconds: records * cpuPerRecord * 1.1,
        stateBytes: 2_000_000,
        liveSeries: 1000,
        launchToReadyMs: 150_000,
        restoreMs: 40_000,
      },
    ],
  };
}

describe('capacity learner', () => {
  it('learns CPU seconds per record per type and stream, robust to an outlier window', () => {
    let state = emptyLearnerState();
    for (let k = 0; k < 9; k++) state = learn(state, snapshot(0.001), undefined);
    state = learn(state, snapshot(0.05), undefined); // one pathological window (GC storm)
    const model = capacityModelOf(state);
    expect(model.cpuSecondsPerRecord['m.x']?.['events']).toBeCloseTo(0.001, 9);
    // all-streams estimate includes the worker's overhead (busy total 1.1 × the stream's)
    expect(model.cpuSecondsPerRecord['m.x']?.['*']).toBeCloseTo(0.0011, 9);
    expect(model.bytesPerSeries).toBe(2000);
  });

  it('ignores windows with too few records, and keeps types apart', () => {
    let state = learn(emptyLearnerState(), snapshot(0.5, 'm.x', 10), undefined);
    state = learn(state, snapshot(0.002, 'c.x'), undefined);
    const model = capacityModelOf(state);
    expect(model.cpuSecondsPerRecord['m.x']).toBeUndefined();
    expect(model.cpuSecondsPerRecord['c.x']?.['events']).toBeCloseTo(0.002, 9);
  });

  it('learns launch → ready and restore time once per instance, conservatively (p90)', () => {
    let state = learn(emptyLearnerState(), snapshot(0.001), undefined);
    state = learn(state, snapshot(0.001), undefined); // same instance again: not re-counted
    const fleet = fleetOf(3);
    const withReady = {
      ...fleet,
      instances: fleet.instances.map((i, k) => ({
        ...i,
        readyTimeMs: i.launchTimeMs + [100_000, 200_000, 300_000][k]!,
      })),
    };
    state = learn(state, undefined, withReady);
    expect(state.launchToReadyMs).toHaveLength(4);
    const model = capacityModelOf(state);
    expect(model.leadTime?.restoreMs).toBe(40_000);
    expect(model.leadTime?.bootMs).toBe(300_000 - 40_000);
  });

  it('learned values override configured ones', () => {
    const configured = capacityModelFromThroughput({ 'm.x': 500, 'c.x': 800 });
    const learned = capacityModelOf(learn(emptyLearnerState(), snapshot(0.001), undefined));
    const merged = mergeCapacityModels(configured, learned);
    expect(merged.cpuSecondsPerRecord['m.x']?.['*']).toBeCloseTo(0.0011, 9);
    expect(merged.cpuSecondsPerRecord['c.x']?.['*']).toBeCloseTo(1 / 800, 9);
  });
});
