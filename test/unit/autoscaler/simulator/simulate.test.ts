import { describe, expect, it } from 'vitest';
import { LiveaggPolicy } from '../../../../autoscaler/simulator/liveagg-policy.js';
import type { TraceSeries } from '../../../../autoscaler/simulator/load-trace.js';
import { simConfigSchema } from '../../../../autoscaler/simulator/sim-config-schema.js';
import { POLICY_NAMES } from '../../../../autoscaler/simulator/sim-result.js';
import { baselineFactories, simulate } from '../../../../autoscaler/simulator/simulate.js';

const HOUR = 3_600_000;

/** Hourly daily cycle: low at night, peak mid-day. */
function dailyTrace(days: number): TraceSeries {
  const values: number[] = [];
  for (let h = 0; h < days * 24; h++)
    values.push(20 + 80 * Math.max(0, Math.sin((Math.PI * ((h % 24) - 6)) / 12)));
  return { startMs: Date.UTC(2024, 0, 1), intervalMs: HOUR, values };
}

const FIELDS = [
  'meanUtilization',
  'p99LagSeconds',
  'sloViolationMinutesPct',
  'cost',
  'onDemandCost',
  'savingsPct',
  'scaleEvents',
  'interruptions',
  'drains',
].sort();

describe('simulate', () => {
  it('reports exactly the contract fields for each policy, plus the inputs', () => {
    const config = simConfigSchema.parse({});
    const result = simulate({
      trace: dailyTrace(3),
      traceName: 'synthetic.csv',
      peakRate: 50_000,
      seed: 4,
      stepMs: 60_000,
      config,
      policies: {
        ...baselineFactories,
        liveagg: (ctx) => new LiveaggPolicy({ config, forecastIntervalMs: HOUR, startMs: ctx.startMs }),
      },
    });
    const s = result.summary;
    expect(s).toMatchObject({
      trace: 'synthetic.csv',
      scale: 50_000,
      seed: 4,
      step: '1m',
      sloLagSeconds: 60,
    });
    expect(Object.keys(s.policies).sort()).toEqual([...POLICY_NAMES].sort());
    for (const name of POLICY_NAMES) {
      const p = s.policies[name];
      expect(Object.keys(p ?? {}).sort()).toEqual(FIELDS);
      expect(p?.meanUtilization).toBeGreaterThan(0);
      expect(p?.meanUtilization).toBeLessThanOrEqual(1);
      expect(p?.cost).toBeLessThan(p?.onDemandCost ?? 0);
    }
    // Static peak sits idle most of the day; an autoscaler does not.
    expect(s.policies['static-peak']?.meanUtilization).toBeLessThan(
      s.policies['target-tracking']?.meanUtilization ?? 0,
    );
    expect(s.policies['static-peak']?.drains).toBe(0);
    // Three days of 1-minute steps through the real planner: seconds, more on a busy machine.
  }, 60_000);

  it('is reproducible by seed', () => {
    const config = simConfigSchema.parse({
      fleet: {
        instanceTypes: [
          {
            name: 'x',
            vcpu: 8,
            memoryGiB: 16,
            recordsPerSecPerVcpu: 1000,
            onDemandPricePerHour: 0.4,
            spotBasePricePerHour: 0.12,
            interruptionEventsPerPoolPerDay: 2,
          },
        ],
      },
    });
    const run = (seed: number) =>
      simulate({
        trace: dailyTrace(4),
        traceName: 't',
        peakRate: 80_000,
        seed,
        stepMs: 60_000,
        config,
        policies: baselineFactories,
      }).summary.policies;
    const a = run(1);
    expect(run(1)).toEqual(a);
    expect(a['static-peak']?.interruptions).toBeGreaterThan(0);
    expect(run(2)).not.toEqual(a);
  });

  it('accounts cost per billed instance-hour at the spot price and on demand', () => {
    const config = simConfigSchema.parse({
      loadNoise: 0,
      market: { priceVolatilityPerHour: 0 },
      fleet: {
        instanceTypes: [
          {
            name: 'x',
            vcpu: 8,
            memoryGiB: 16,
            recordsPerSecPerVcpu: 1000,
            onDemandPricePerHour: 0.4,
            spotBasePricePerHour: 0.1,
            interruptionEventsPerPoolPerDay: 0,
          },
        ],
        availabilityZones: ['a'],
      },
      staticPeak: { peakUtilization: 1 },
    });
    const flat: TraceSeries = { startMs: 0, intervalMs: HOUR, values: new Array(48).fill(10) };
    const r = simulate({
      trace: flat,
      traceName: 'flat',
      peakRate: 8000 * 10,
      seed: 1,
      stepMs: 60_000,
      config,
      policies: { 'static-peak': baselineFactories['static-peak'] },
    });
    const p = r.summary.policies['static-peak'];
    // Static peak keeps 80 vCPU = 10 instances for 48 h (the start fleet's extra instances drain in the first step).
    expect(p?.cost).toBeCloseTo(10 * 48 * 0.1, 0);
    expect(p?.onDemandCost).toBeCloseTo(10 * 48 * 0.4, 0);
    expect(p?.savingsPct).toBeCloseTo(75, 0);
    expect(p?.meanUtilization).toBeCloseTo(1, 2);
  });
});
