import { describe, expect, it } from 'vitest';
import { largestPoolUnits, splitPerPool } from '../../../../autoscaler/plan/pool-split.js';
import { testPolicy } from './plan-fixtures.js';

const policy = testPolicy();
const types = new Map(policy.instanceTypes.map((t) => [t.name, t]));
const open = ['m.x@a', 'm.x@b', 'm.x@c'];
const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

describe('splitPerPool', () => {
  it('fills the emptiest pools first, in whole instances, to the exact total', () => {
    const split = splitPerPool(40, new Map([['m.x@a', 20]]), open, types);
    expect(sum(split)).toBe(40);
    expect(split).toEqual({ 'm.x@a': 20, 'm.x@b': 12, 'm.x@c': 8 });
    for (const u of Object.values(split)) expect(u % 4).toBe(0);
  });

  it('keeps what pools hold when adding, and shrinks the fullest first when removing', () => {
    const base = new Map([
      ['m.x@a', 40],
      ['m.x@b', 12],
      ['m.x@c', 8],
    ]);
    const up = splitPerPool(100, base, open, types);
    expect(sum(up)).toBe(100);
    expect(up['m.x@a']).toBe(40);
    expect(largestPoolUnits(up)).toBe(40);
    const down = splitPerPool(36, base, open, types);
    expect(sum(down)).toBe(36);
    expect(down).toEqual({ 'm.x@a': 16, 'm.x@b': 12, 'm.x@c': 8 });
  });

  it('never puts units in a closed pool', () => {
    const split = splitPerPool(24, new Map(), ['m.x@b', 'm.x@c'], types);
    expect(split).toEqual({ 'm.x@b': 12, 'm.x@c': 12 });
  });

  it('gives cheaper pools more of the new units, and every open pool some', () => {
    const priced = testPolicy({
      instanceTypes: [
        { name: 'cheap', vcpu: 4, memoryGiB: 16, spotPriceHintPerHour: 0.1 },
        { name: 'dear', vcpu: 4, memoryGiB: 16, spotPriceHintPerHour: 0.15 },
      ],
    });
    const pricedTypes = new Map(priced.instanceTypes.map((t) => [t.name, t]));
    const split = splitPerPool(200, new Map(), ['cheap@a', 'dear@a'], pricedTypes);
    expect(sum(split)).toBe(200);
    expect(split['cheap@a']!).toBeGreaterThan(split['dear@a']!);
    expect(split['dear@a']!).toBeGreaterThan(0);
  });
});
