import { describe, expect, it } from 'vitest';
import { flattenAggregates } from '../../../../aggregator/sink/flatten-aggregates.js';

describe('flattenAggregates', () => {
  it('names scalar kinds field.kind and quantiles field.pNN, skipping non-finite values', () => {
    const flat = flattenAggregates({
      temp: { count: 3, sum: 9, min: 1, max: 5, mean: 3, quantiles: { '0.5': 2.9, '0.999': 4.9 } },
      device: { distinct: 42, last: Number.NaN },
    });
    expect(flat).toEqual({
      'device.distinct': 42,
      'temp.count': 3,
      'temp.sum': 9,
      'temp.min': 1,
      'temp.max': 5,
      'temp.mean': 3,
      'temp.p50': 2.9,
      'temp.p99.9': 4.9,
    });
    expect(Object.keys(flat)[0]).toBe('device.distinct');
  });
});
