import { describe, expect, it } from 'vitest';
import { LagReactivePolicy } from '../../../../../autoscaler/simulator/baselines/lag-reactive.js';
import { StaticPeakPolicy } from '../../../../../autoscaler/simulator/baselines/static-peak.js';
import { TargetTrackingPolicy } from '../../../../../autoscaler/simulator/baselines/target-tracking.js';
import {
  lagReactiveSchema,
  staticPeakSchema,
  targetTrackingSchema,
} from '../../../../../autoscaler/simulator/sim-config-schema.js';
import type { SimFleetView } from '../../../../../autoscaler/simulator/sim-fleet.js';
import type { SimObservation } from '../../../../../autoscaler/simulator/sim-policy.js';

function fleetView(ready: number, booting = 0): SimFleetView {
  return {
    readyUnits: ready,
    readyRate: ready * 1000,
    bootingUnits: booting,
    activeUnits: ready + booting,
    noticedUnits: 0,
    drainingUnits: 0,
    instances: () => [],
  };
}

function obs(minute: number, cpu: number, fleet: SimFleetView, backlog = 0): SimObservation {
  return {
    nowMs: minute * 60_000,
    stepMs: 60_000,
    inputRate: cpu * fleet.readyRate,
    processedRate: cpu * fleet.readyRate,
    cpuUtilization: cpu,
    backlogRecords: backlog,
    lagSeconds: 0,
    fleet,
    leadTimeMs: 150_000,
  };
}

describe('target tracking', () => {
  it('scales out only after 3 datapoints above 70 %, to put CPU back at target', () => {
    const p = new TargetTrackingPolicy(targetTrackingSchema.parse({}));
    const f = fleetView(100);
    expect(p.decide(obs(0, 0.9, f)).desiredUnits).toBe(100);
    expect(p.decide(obs(1, 0.9, f)).desiredUnits).toBe(100);
    expect(p.decide(obs(2, 0.9, f)).desiredUnits).toBe(Math.ceil((100 * 0.9) / 0.7));
  });

  it('scales in after 15 datapoints below 63 %, not while warming up', () => {
    const p = new TargetTrackingPolicy(targetTrackingSchema.parse({}));
    const f = fleetView(100);
    for (let m = 0; m < 14; m++) expect(p.decide(obs(m, 0.35, f)).desiredUnits).toBe(100);
    expect(p.decide(obs(14, 0.35, f)).desiredUnits).toBe(50);
    const warming = new TargetTrackingPolicy(targetTrackingSchema.parse({}));
    for (let m = 0; m < 20; m++)
      expect(warming.decide(obs(m, 0.35, fleetView(100, 8))).desiredUnits).toBe(108);
  });
});

describe('lag-reactive (KEDA)', () => {
  it('asks for ceil(lag / threshold) replicas, capped at the partitions', () => {
    const p = new LagReactivePolicy(lagReactiveSchema.parse({ cpuTargetUtilization: 0 }), 8, 50);
    expect(p.decide(obs(0, 0.5, fleetView(80), 2_500_000)).desiredUnits).toBe(25 * 8);
    const capped = new LagReactivePolicy(lagReactiveSchema.parse({ cpuTargetUtilization: 0 }), 8, 50);
    expect(capped.decide(obs(0, 0.5, fleetView(80), 90_000_000)).desiredUnits).toBe(50 * 8);
  });

  it('holds the highest recommendation of the stabilization window before scaling down', () => {
    const p = new LagReactivePolicy(lagReactiveSchema.parse({ cpuTargetUtilization: 0 }), 8, 100);
    expect(p.decide(obs(0, 0.5, fleetView(160), 2_000_000)).desiredUnits).toBe(160);
    expect(p.decide(obs(1, 0.5, fleetView(160), 0)).desiredUnits).toBe(160);
    expect(p.decide(obs(4, 0.5, fleetView(160), 0)).desiredUnits).toBe(160);
    expect(p.decide(obs(6, 0.5, fleetView(160), 0)).desiredUnits).toBe(8);
  });

  it('uses its CPU trigger when there is no lag', () => {
    const p = new LagReactivePolicy(lagReactiveSchema.parse({ cpuTargetUtilization: 0.8 }), 8, 100);
    expect(p.decide(obs(0, 1, fleetView(80), 0)).desiredUnits).toBe(Math.ceil(10 * 1.25) * 8);
  });
});

describe('static peak', () => {
  it("provisions the trace's peak at the configured utilization, whatever it observes", () => {
    const p = new StaticPeakPolicy(staticPeakSchema.parse({ peakUtilization: 0.8 }), 200_000, 1000);
    expect(p.units).toBe(250);
    expect(p.decide().desiredUnits).toBe(250);
  });
});
