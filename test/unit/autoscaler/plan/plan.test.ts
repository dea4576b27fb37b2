import { describe, expect, it } from 'vitest';
import { plan } from '../../../../autoscaler/plan/plan.js';
import {
  emptyPlannerMemory,
  type PlanDecision,
  type PlanInput,
} from '../../../../autoscaler/plan/plan-types.js';
import { poolIdOf } from '../../../../autoscaler/ports/fleet-provider.js';
import { flatForecast, fleetOf, HOUR, input, MIN, metricsFor, T0, testPolicy } from './plan-fixtures.js';

const codes = (d: PlanDecision) => d.reasons.map((r) => r.code);

/** Calls plan every 5 minutes for `minutes`, carrying memory, with a fleet that does not change. */
function holdFor(first: PlanInput, minutes: number): PlanDecision[] {
  const out: PlanDecision[] = [];
  let memory = first.memory;
  for (let t = 0; t <= minutes; t += 5) {
    const now = first.now + t * MIN;
    const metrics = first.metrics ? { ...first.metrics, observedAtMs: now } : undefined;
    const d = plan({ ...first, now, metrics, memory });
    out.push(d);
    memory = d.memory;
    if (d.action !== 'hold') break;
  }
  return out;
}

describe('plan: ramp up', () => {
  it('scales out so that used / (capacity × target) = 1 when utilization leaves the band', () => {
    const fleet = fleetOf(10); // 40 units
    const d = plan(input({ fleet, metrics: metricsFor(fleet, 38_000) }));
    expect(d.action).toBe('scale-out');
    // 38 units at 100 % / 0.75 = 50.7 → 52 (whole 4-unit instances)
    expect(d.desiredUnits).toBe(52);
    expect(d.previousUnits).toBe(40);
    expect(codes(d)).toContain('above-band');
    expect(d.drain).toEqual([]);
  });

  it('provisions ahead for the forecast upper band within the lead time, not beyond it', () => {
    const fleet = fleetOf(10);
    const metrics = metricsFor(fleet, 20_000);
    const rising = flatForecast(20_000);
    const within = {
      ...rising,
      series: [
        {
          stream: '*',
          points: rising.series[0]!.points.map((p) =>
            p.timestampMs >= T0 + 2 * MIN ? { ...p, value: 40_000, upper: 44_000 } : p,
          ),
        },
      ],
    };
    const policy = testPolicy({ leadTime: { bootMs: 240_000, joinMs: 30_000, restoreMs: 30_000 } }); // 5 min
    const d = plan(input({ fleet, metrics, forecast: within, policy }));
    expect(d.action).toBe('scale-out');
    // Anchored on live: the upper band doubles over the lead time (22 k → 44 k), so 20 k live → 40 k: 53.3 units at
    // 0.75. Whole instances of 4: 52 runs at 0.77, nearer the target than 56 at 0.71, and inside the band.
    expect(d.desiredUnits).toBe(52);
    const absolute = plan(
      input({ fleet, metrics, forecast: within, policy: { ...policy, forecastAnchor: 'absolute' } }),
    );
    expect(absolute.desiredUnits).toBe(60); // the band's own level: 44 / 0.75 = 58.7 → 60
    const later = {
      ...rising,
      series: [
        {
          stream: '*',
          points: rising.series[0]!.points.map((p) =>
            p.timestampMs >= T0 + 30 * MIN ? { ...p, value: 40_000, upper: 44_000 } : p,
          ),
        },
      ],
    };
    expect(plan(input({ fleet, metrics, forecast: later, policy })).action).toBe('hold');
  });

  it('limits one scale-out to maxScaleUpStepUnits', () => {
    const fleet = fleetOf(10);
    const d = plan(
      input({ fleet, metrics: metricsFor(fleet, 90_000), policy: testPolicy({ maxScaleUpStepUnits: 20 }) }),
    );
    expect(d.desiredUnits).toBe(60);
  });
});

describe('plan: ramp down with hysteresis', () => {
  it('holds inside the utilization band', () => {
    const fleet = fleetOf(10);
    const d = plan(input({ fleet, metrics: metricsFor(fleet, 31_000) })); // 0.775
    expect(d.action).toBe('hold');
    expect(d.desiredUnits).toBe(40);
    expect(codes(d)).toContain('within-band');
  });

  it('scales in only after the lower need lasted scaleInSustainMs, by at most maxScaleDownFraction, draining victims', () => {
    const fleet = fleetOf(20); // 80 units
    const policy = testPolicy({
      scaleInSustainMs: 15 * MIN,
      scaleDownCooldownMs: 0,
      scaleInMinSavingRatio: 1,
    });
    const seq = holdFor(input({ fleet, policy, metrics: metricsFor(fleet, 15_000) }), 60);
    const last = seq[seq.length - 1]!;
    expect(seq[0]!.action).toBe('hold');
    expect(codes(seq[0]!)).toContain('scale-in-not-sustained');
    expect(last.action).toBe('scale-in');
    expect(last.atMs - T0).toBeGreaterThanOrEqual(15 * MIN);
    // need 20 units; the step cap keeps 80 × 0.6 = 48
    expect(last.desiredUnits).toBe(48);
    expect(last.drain).toHaveLength(8);
    expect(last.previousUnits - last.desiredUnits).toBe(8 * 4);
  });

  it('removes one whole instance when maxScaleDownFraction is less than one (a fleet of two goes to one)', () => {
    const fleet = fleetOf(2); // 8 units: 40 % of it is 3.2 units, less than one 4-unit instance
    const policy = testPolicy({
      scaleInSustainMs: 15 * MIN,
      scaleDownCooldownMs: 0,
      scaleInMinSavingRatio: 1,
    });
    const seq = holdFor(input({ fleet, policy, metrics: metricsFor(fleet, 1_000) }), 60);
    const last = seq[seq.length - 1]!;
    expect(last.action).toBe('scale-in');
    expect(last.desiredUnits).toBe(4);
    expect(last.drain).toHaveLength(1);
    // On a larger fleet the fraction still bounds the step (one instance is below it there).
    const five = fleetOf(5);
    const step = holdFor(input({ fleet: five, policy, metrics: metricsFor(five, 1_000) }), 60);
    expect(step[step.length - 1]!.desiredUnits).toBe(12); // ceil(20 × 0.6) = 12
  });

  it('scales in to the highest need seen over the sustain window', () => {
    const fleet = fleetOf(20);
    const policy = testPolicy({
      scaleInSustainMs: 15 * MIN,
      scaleDownCooldownMs: 0,
      maxScaleDownFraction: 0.9,
      scaleInMinSavingRatio: 1,
    });
    let memory = emptyPlannerMemory();
    const rates = [30_000, 30_000, 33_000, 30_000, 15_000]; // a spike at +10 min stays within the window at +20 min
    let d: PlanDecision | undefined;
    rates.forEach((rate, k) => {
      const now = T0 + k * 5 * MIN;
      d = plan(input({ now, fleet, policy, memory, metrics: metricsFor(fleet, rate, { at: now }) }));
      memory = d.memory;
    });
    expect(d!.action).toBe('scale-in');
    expect(d!.desiredUnits).toBe(44); // 33 / 0.75 = 44
  });

  it('never scales in on the forecast alone while live load is higher', () => {
    const fleet = fleetOf(20);
    const policy = testPolicy({ scaleInSustainMs: 0, scaleDownCooldownMs: 0 });
    const d = plan(
      input({ fleet, policy, metrics: metricsFor(fleet, 58_000), forecast: flatForecast(10_000) }),
    );
    expect(d.inputs.plannedRecordsPerSecond).toBe(58_000);
    expect(d.action).toBe('hold');
  });

  it('does not scale in when moving the state costs more than the saving over the forecast horizon', () => {
    const fleet = fleetOf(20);
    const policy = testPolicy({ scaleInSustainMs: 0, scaleDownCooldownMs: 0 });
    // Load comes back in 20 minutes; each worker holds 50 GB that would take minutes to restore.
    const forecast = flatForecast(15_000);
    const back = {
      ...forecast,
      series: [
        {
          stream: '*',
          points: forecast.series[0]!.points.map((p) =>
            p.timestampMs >= T0 + 20 * MIN ? { ...p, value: 58_000, upper: 60_000 } : p,
          ),
        },
      ],
    };
    const metrics = metricsFor(fleet, 15_000, { stateBytesPerWorker: 5e9 });
    const d = plan(input({ fleet, policy, metrics, forecast: back }));
    expect(d.action).toBe('hold');
    expect(codes(d)).toContain('scale-in-not-worth-moving-state');
    // With a flat low forecast the saving lasts the whole horizon and wins.
    const flat = plan(input({ fleet, policy, metrics, forecast: flatForecast(15_000) }));
    expect(flat.action).toBe('scale-in');
  });

  it('picks victims with the least state to move first, keeping pools balanced', () => {
    const fleet = fleetOf(6);
    const policy = testPolicy({
      scaleInSustainMs: 0,
      scaleDownCooldownMs: 0,
      maxScaleDownFraction: 0.34,
      scaleInMinSavingRatio: 1,
    });
    const metrics = metricsFor(fleet, 3_000);
    const workers = metrics.workers.map((w, k) => ({ ...w, stateBytes: [9e6, 1e6, 8e6, 7e6, 2e6, 6e6][k]! }));
    const d = plan(input({ fleet, policy, metrics: { ...metrics, workers } }));
    expect(d.action).toBe('scale-in');
    expect(d.drain).toEqual(['i-001', 'i-004']); // least state: 1e6 (AZ b), 2e6 (AZ b)
  });

  it('adds no victims while a scale-in drain is in progress', () => {
    const fleet = fleetOf(20, { draining: { 'i-000': 'scale-in' } });
    const policy = testPolicy({ scaleInSustainMs: 0, scaleDownCooldownMs: 0 });
    const d = plan(input({ fleet, policy, metrics: metricsFor(fleet, 10_000) }));
    expect(d.drain).toEqual([]);
    expect(codes(d)).toContain('drain-in-progress');
    expect(d.desiredUnits).toBe(80);
  });
});

describe('plan: lag, memory, pools', () => {
  it('adds capacity to burn the lag down within catchUpSeconds', () => {
    const fleet = fleetOf(20); // 80 units
    const base = plan(input({ fleet, metrics: metricsFor(fleet, 60_000) })); // 0.75: in band
    // 9 M records = 150 s of lag; / 300 s = 30 000 records/s more = 30 units at 100 %: 60 + 30 > 80 spare.
    const lagged = plan(input({ fleet, metrics: metricsFor(fleet, 60_000, { lag: 9_000_000 }) }));
    expect(base.action).toBe('hold');
    expect(lagged.action).toBe('scale-out');
    expect(lagged.desiredUnits).toBe(112); // 60 / 0.75 + 30 = 110 → 112
    expect(codes(lagged)).toContain('lag-over-slo');
    // Lag the spare capacity burns within catchUpSeconds does not force a scale-out.
    const small = plan(input({ fleet, metrics: metricsFor(fleet, 60_000, { lag: 4_000_000 }) }));
    expect(small.action).toBe('hold');
  });

  it('keeps the memory floor: state must fit', () => {
    const fleet = fleetOf(10);
    const policy = testPolicy({ scaleInSustainMs: 0, scaleDownCooldownMs: 0 });
    // 10 × 20 GiB of state; a unit holds 16 GiB × 0.6 / 4 = 2.4 GiB → 83.3 units
    const d = plan(
      input({ fleet, policy, metrics: metricsFor(fleet, 1_000, { stateBytesPerWorker: 20 * 2 ** 30 }) }),
    );
    expect(d.action).toBe('scale-out');
    expect(d.desiredUnits).toBe(84);
    expect(codes(d)).toContain('floor');
    const big = fleetOf(30);
    const held = plan(
      input({
        fleet: big,
        policy,
        metrics: metricsFor(big, 1_000, { stateBytesPerWorker: (20 * 2 ** 30) / 3 }),
      }),
    );
    expect(held.desiredUnits).toBeGreaterThanOrEqual(84);
  });

  it('keeps capacity after losing the largest (type, AZ) pool', () => {
    const policy = testPolicy({
      availabilityZones: ['a', 'b'],
      largestPoolLossHeadroom: true,
      lagSloSeconds: 12,
    });
    const fleet = fleetOf(10, { azs: ['a', 'b'] });
    const d = plan(input({ fleet, policy, metrics: metricsFor(fleet, 30_000) }));
    const cpuAt100 = 30;
    const allowedShortfall = 12 / 120; // lag SLO / lead time
    const largest = Math.max(...Object.values(d.perPool ?? {}));
    expect(d.desiredUnits - largest).toBeGreaterThanOrEqual(cpuAt100 * (1 - allowedShortfall));
    expect(d.desiredUnits).toBeGreaterThan(40); // without headroom 40 would do (0.75)
    const noHeadroom = plan(
      input({
        fleet,
        policy: { ...policy, largestPoolLossHeadroom: false },
        metrics: metricsFor(fleet, 30_000),
      }),
    );
    expect(noHeadroom.desiredUnits).toBe(40);
  });

  it('skips the pool-loss headroom while the need is within poolLossHeadroomMinUnits, and keeps it above', () => {
    const policy = testPolicy({
      availabilityZones: ['a', 'b'],
      largestPoolLossHeadroom: true,
      lagSloSeconds: 12,
    });
    const one = fleetOf(1, { azs: ['a', 'b'] });
    // 3 units at 100 % → 4 at the 0.75 target: one instance; losing its pool would leave nothing.
    const covered = plan(input({ fleet: one, policy, metrics: metricsFor(one, 3_000) }));
    expect(covered.desiredUnits).toBe(8);
    expect(covered.perPool).toEqual({ 'm.x@a': 4, 'm.x@b': 4 });
    const accepted = plan(
      input({
        fleet: one,
        policy: { ...policy, poolLossHeadroomMinUnits: 4 },
        metrics: metricsFor(one, 3_000),
      }),
    );
    expect(accepted.desiredUnits).toBe(4);
    expect(accepted.reasons.find((r) => r.code === 'need')?.values['headroomUnits']).toBe(0);
    // A need above the threshold gets the headroom as before.
    const fleet = fleetOf(10, { azs: ['a', 'b'] });
    const metrics = metricsFor(fleet, 30_000);
    const big = plan(input({ fleet, policy: { ...policy, poolLossHeadroomMinUnits: 4 }, metrics }));
    expect(big.desiredUnits).toBeGreaterThan(40);
    expect(big.desiredUnits).toBe(plan(input({ fleet, policy, metrics })).desiredUnits);
  });
});

describe('plan: interruptions', () => {
  const warning = (id: string) => ({
    instanceId: id,
    kind: 'interruption' as const,
    issuedAtMs: T0,
    deadlineMs: T0 + 2 * MIN,
  });

  it('replaces capacity under an interruption storm at once, in other pools, and counts each loss once', () => {
    const fleet = fleetOf(12);
    const metrics = metricsFor(fleet, 30_000);
    const notices = ['i-000', 'i-003', 'i-006', 'i-009'].map(warning); // all in AZ a
    const d = plan(input({ fleet, metrics, interruptions: notices }));
    expect(d.action).toBe('scale-out');
    expect(d.desiredUnits).toBe(48 + 16);
    expect(d.memory.lastCapacityLossMs).toBe(T0);
    expect(codes(d).filter((c) => c === 'interruption-warning')).toHaveLength(4);
    const poolA = poolIdOf({ instanceType: 'm.x', availabilityZone: 'a' });
    expect(d.memory.poolUnavailableUntilMs[poolA]).toBeGreaterThan(T0);
    expect(d.perPool?.[poolA]).toBe(16); // only the leaving ones stay in a; replacements go to b and c
    // Redelivered notices on the next tick, with the target raised: no second replacement.
    const next = plan(
      input({
        now: T0 + MIN,
        fleet: { ...fleet, targetUnits: d.desiredUnits },
        metrics,
        interruptions: notices,
        memory: d.memory,
      }),
    );
    expect(next.desiredUnits).toBe(d.desiredUnits);
    expect(next.action).toBe('hold');
  });

  it('does not scale in right after losing capacity, and does after noScaleInAfterInterruptionMs', () => {
    const policy = testPolicy({
      scaleInSustainMs: 0,
      scaleDownCooldownMs: 0,
      noScaleInAfterInterruptionMs: 30 * MIN,
    });
    const fleet = fleetOf(20);
    const first = plan(
      input({ fleet, policy, metrics: metricsFor(fleet, 50_000), interruptions: [warning('i-000')] }),
    );
    const after = fleetOf(20); // the replacement arrived, the interrupted one is gone
    const soon = plan(
      input({
        now: T0 + 10 * MIN,
        fleet: after,
        policy,
        metrics: metricsFor(after, 10_000, { at: T0 + 10 * MIN }),
        memory: first.memory,
      }),
    );
    expect(soon.action).toBe('hold');
    expect(codes(soon)).toContain('recent-capacity-loss');
    const later = plan(
      input({
        now: T0 + 31 * MIN,
        fleet: after,
        policy,
        metrics: metricsFor(after, 10_000, { at: T0 + 31 * MIN }),
        memory: soon.memory,
      }),
    );
    expect(later.action).toBe('scale-in');
  });
});

describe('plan: bounds and missing data', () => {
  it('stays within minUnits and maxUnits', () => {
    const policy = testPolicy({
      minUnits: 32,
      maxUnits: 60,
      scaleInSustainMs: 0,
      scaleDownCooldownMs: 0,
      maxScaleDownFraction: 1,
    });
    const fleet = fleetOf(10);
    const low = plan(input({ fleet, policy, metrics: metricsFor(fleet, 100) }));
    expect(low.desiredUnits).toBeGreaterThanOrEqual(32);
    const high = plan(input({ fleet, policy, metrics: metricsFor(fleet, 200_000) }));
    expect(high.desiredUnits).toBe(60);
    expect(codes(high)).toContain('capped-at-max');
  });

  it('says the fleet is already at its need, not within the band, when utilization is low at minUnits', () => {
    const fleet = fleetOf(10); // 40 units
    const policy = testPolicy({ minUnits: 40, scaleInSustainMs: 0, scaleDownCooldownMs: 0 });
    const d = plan(input({ fleet, policy, metrics: metricsFor(fleet, 100) }));
    expect(d.action).toBe('hold');
    expect(d.desiredUnits).toBe(40);
    expect(codes(d)).toContain('at-need');
    expect(codes(d)).not.toContain('within-band');
  });

  it('holds capacity without metrics and never scales to zero', () => {
    const fleet = fleetOf(10);
    const d = plan(input({ fleet, metrics: undefined }));
    expect(d.action).toBe('hold');
    expect(d.desiredUnits).toBe(40);
    expect(codes(d)).toContain('metrics-missing');
    const empty = plan(
      input({ fleet: { observedAtMs: T0, targetUnits: 0, instances: [] }, metrics: undefined }),
    );
    expect(empty.desiredUnits).toBe(4);
    const stale = plan(input({ now: T0 + HOUR, fleet, metrics: metricsFor(fleet, 1_000) }));
    expect(codes(stale)).toContain('metrics-stale');
    expect(stale.desiredUnits).toBe(40);
  });

  it('is pure: the input memory is not changed', () => {
    const fleet = fleetOf(10);
    const memory = emptyPlannerMemory();
    const snapshot = JSON.stringify(memory);
    const a = plan(input({ fleet, metrics: metricsFor(fleet, 38_000), memory }));
    const b = plan(input({ fleet, metrics: metricsFor(fleet, 38_000), memory }));
    expect(JSON.stringify(memory)).toBe(snapshot);
    expect(a).toEqual(b);
  });
});
