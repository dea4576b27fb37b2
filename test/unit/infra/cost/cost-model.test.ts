import { describe, expect, it } from 'vitest';
import { type CostInputs, computeCostReport, type UsageInstance } from '../../../../infra/cost/cost-model.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 0, 0, 0);

function instance(over: Partial<UsageInstance> & Pick<UsageInstance, 'instanceId'>): UsageInstance {
  return {
    instanceType: 'm6i.xlarge',
    availabilityZone: 'us-east-1a',
    market: 'spot',
    startMs: T0,
    endMs: T0 + 2 * H,
    vcpu: 4,
    interrupted: false,
    ...over,
  };
}

function inputs(over: Partial<CostInputs>): CostInputs {
  return {
    sinceMs: T0,
    untilMs: T0 + 2 * H,
    instances: [],
    spotPrices: [],
    onDemandPerHour: (t) => ({ 'm6i.xlarge': 0.192, 'c6i.xlarge': 0.17 })[t],
    work: [],
    replayedRecords: 0,
    ...over,
  };
}

describe('computeCostReport', () => {
  it('integrates a step spot price, including the price in force before the window', () => {
    const report = computeCostReport(
      inputs({
        instances: [instance({ instanceId: 'i-a' })],
        spotPrices: [
          {
            instanceType: 'm6i.xlarge',
            availabilityZone: 'us-east-1a',
            timestampMs: T0 - 5 * H,
            pricePerHour: 0.06,
          },
          {
            instanceType: 'm6i.xlarge',
            availabilityZone: 'us-east-1a',
            timestampMs: T0 + 1.5 * H,
            pricePerHour: 0.1,
          },
        ],
      }),
    );
    // 1.5 h at 0.06 + 0.5 h at 0.10.
    expect(report.totals.cost).toBeCloseTo(0.09 + 0.05, 12);
    expect(report.totals.onDemandCost).toBeCloseTo(0.384, 12);
    expect(report.totals.instanceHours).toBe(2);
    expect(report.totals.savingsPct).toBeCloseTo((100 * (0.384 - 0.14)) / 0.384, 9);
  });

  it('uses the type mean over other AZs when the AZ has no history, and the table price on demand', () => {
    const report = computeCostReport(
      inputs({
        instances: [
          instance({ instanceId: 'i-b', availabilityZone: 'us-east-1c' }),
          instance({ instanceId: 'i-c', instanceType: 'c6i.xlarge', market: 'on-demand' }),
        ],
        spotPrices: [
          { instanceType: 'm6i.xlarge', availabilityZone: 'us-east-1a', timestampMs: T0, pricePerHour: 0.05 },
          { instanceType: 'm6i.xlarge', availabilityZone: 'us-east-1b', timestampMs: T0, pricePerHour: 0.07 },
        ],
      }),
    );
    const spot = report.pools.find((p) => p.market === 'spot');
    expect(spot?.cost).toBeCloseTo(0.12, 12);
    expect(report.pools.find((p) => p.market === 'on-demand')?.cost).toBeCloseTo(0.34, 12);
  });

  it('splits idle capacity into drain time, interruption headroom (largest pool) and forecast headroom', () => {
    // Hour 0: two 4-vCPU instances in different pools, 3 vCPU-hours busy → 5 idle; i-b drains for the last half hour.
    const report = computeCostReport(
      inputs({
        untilMs: T0 + H,
        instances: [
          instance({ instanceId: 'i-a', endMs: T0 + H }),
          instance({
            instanceId: 'i-b',
            availabilityZone: 'us-east-1b',
            endMs: T0 + H,
            drainStartMs: T0 + 0.5 * H,
          }),
        ],
        spotPrices: [
          { instanceType: 'm6i.xlarge', availabilityZone: 'us-east-1a', timestampMs: T0, pricePerHour: 0.08 },
          { instanceType: 'm6i.xlarge', availabilityZone: 'us-east-1b', timestampMs: T0, pricePerHour: 0.08 },
        ],
        work: [
          { instanceId: 'i-a', hourStartMs: T0, busyCpuSeconds: 2 * 3600, records: 3_000_000 },
          { instanceId: 'i-b', hourStartMs: T0, busyCpuSeconds: 1 * 3600, records: 1_000_000 },
        ],
        replayedRecords: 40_000,
      }),
    );
    const w = report.waste;
    expect(w.idle.unitHours).toBeCloseTo(5, 12);
    expect(w.drainTime.unitHours).toBeCloseTo(2, 12); // 4 vCPU × 0.5 h
    expect(w.interruptionHeadroom.unitHours).toBeCloseTo(3, 12); // min(remaining 3, largest pool 4)
    expect(w.forecastHeadroom.unitHours).toBeCloseTo(0, 12);
    // $0.16 for 8 vCPU-hours → $0.02 per vCPU-hour.
    expect(w.idle.cost).toBeCloseTo(0.1, 12);
    expect(report.totals.utilization).toBeCloseTo(3 / 8, 12);
    expect(report.totals.costPerMillionRecords).toBeCloseTo(0.04, 12);
    expect(report.interruptions.replayCost).toBeCloseTo((40_000 * 0.16) / 4_000_000, 12);
  });

  it('clips stays to the window and counts interrupted instances', () => {
    const report = computeCostReport(
      inputs({
        instances: [
          instance({ instanceId: 'i-old', startMs: T0 - 10 * H, endMs: T0 + 0.5 * H, interrupted: true }),
          instance({ instanceId: 'i-gone', startMs: T0 - 10 * H, endMs: T0 - H, interrupted: true }),
        ],
        spotPrices: [
          {
            instanceType: 'm6i.xlarge',
            availabilityZone: 'us-east-1a',
            timestampMs: T0 - 20 * H,
            pricePerHour: 0.1,
          },
        ],
      }),
    );
    expect(report.totals.instanceHours).toBeCloseTo(0.5, 12);
    expect(report.interruptions.instanceIds).toEqual(['i-old']);
    expect(report.totals.costPerMillionRecords).toBeNull();
    expect(report.notes.join(' ')).toContain('no records');
  });
});
