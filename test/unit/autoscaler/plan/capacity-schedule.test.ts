import { describe, expect, it } from 'vitest';
import { capacitySchedule } from '../../../../autoscaler/plan/capacity-schedule.js';
import type { LoadForecast } from '../../../../autoscaler/plan/plan-types.js';
import { HOUR, MIN, T0, testModel, testPolicy } from './plan-fixtures.js';

/** A daily-shaped forecast every 15 min for 3 days: 10 k records/s at night, 40 k at 12:00–13:00 UTC. */
function daily(): LoadForecast {
  const points = Array.from({ length: 3 * 96 }, (_, k) => {
    const t = T0 - 12 * HOUR + k * 15 * MIN;
    const hour = new Date(t).getUTCHours();
    const value = hour === 12 ? 40_000 : 10_000;
    return { timestampMs: t, value, lower: value * 0.8, upper: value * 1.2 };
  });
  return { generatedAtMs: T0, series: [{ stream: '*', points }] };
}

describe('capacitySchedule', () => {
  it('gives 48 hourly points with the forecast behind each, sized on the upper band', () => {
    const now = T0 + 10 * MIN;
    const s = capacitySchedule(daily(), testModel, testPolicy(), now);
    expect(s).toHaveLength(48);
    expect(s[0]!.timestampMs).toBe(T0 + HOUR); // next whole hour
    expect(s[0]!.launchByMs).toBe(T0 + HOUR - 120_000);
    const noon = s.find((p) => new Date(p.timestampMs).getUTCHours() === 12)!;
    expect(noon.forecast.upper).toBe(48_000);
    // 48 units at 100 % / 0.75 = 64
    expect(noon.desiredUnits).toBe(64);
    const night = s.find((p) => new Date(p.timestampMs).getUTCHours() === 3)!;
    expect(night.desiredUnits).toBe(16); // 12 / 0.75
  });

  it('applies min/max, the memory floor and pool-loss headroom', () => {
    const s = capacitySchedule(daily(), testModel, testPolicy({ maxUnits: 40 }), T0);
    expect(Math.max(...s.map((p) => p.desiredUnits))).toBe(40);
    const mem = capacitySchedule(daily(), testModel, testPolicy(), T0 + 2 * HOUR, {
      stateBytes: 100 * 2 ** 30,
      hours: 2,
    });
    expect(mem[0]!.memoryUnits).toBeCloseTo(100 / 2.4, 2);
    expect(mem[0]!.desiredUnits).toBe(44);
    const headroom = capacitySchedule(
      daily(),
      testModel,
      testPolicy({ largestPoolLossHeadroom: true, availabilityZones: ['a', 'b'], lagSloSeconds: 12 }),
      T0,
    );
    const noon = headroom.find((p) => new Date(p.timestampMs).getUTCHours() === 12)!;
    expect(noon.desiredUnits / 2).toBeGreaterThanOrEqual(48 * 0.9);
  });
});
