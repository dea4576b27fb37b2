import { describe, expect, it } from 'vitest';
import { CoreFloor } from '../../bench/core-floor.js';
import { BATCH, InputStream } from '../../bench/core-input.js';

describe('bench core floor', () => {
  it('keeps one exact count/sum/min/max row per distinct key', () => {
    const keys = 3_000;
    const floor = new CoreFloor(keys);
    const input = new InputStream(keys, 6, 2_000, Date.UTC(2026, 0, 1));
    const expected = new Map<string, { count: number; sum: number; min: number; max: number }>();
    const records = 40_000;
    for (let i = 0; i < records; i += BATCH) {
      const n = Math.min(BATCH, records - i);
      const batch = input.fillBatch(i, n);
      for (let j = 0; j < n; j++) {
        const r = batch[j]!;
        const v = r.numbers['value']!;
        const e = expected.get(r.seriesKey);
        if (e) {
          e.count++;
          e.sum += v;
          e.min = Math.min(e.min, v);
          e.max = Math.max(e.max, v);
        } else expected.set(r.seriesKey, { count: 1, sum: v, min: v, max: v });
      }
      floor.processBatch(batch, n);
    }
    expect(floor.size()).toBe(expected.size);
    for (const [key, e] of expected) {
      const id = floor.find(key);
      expect(id).toBeGreaterThanOrEqual(0);
      const [count, sum, min, max] = floor.rows.subarray(id * 4, id * 4 + 4);
      expect({ count, sum, min, max }).toEqual(e);
    }
    expect(floor.find('dev-none')).toBe(-1);
  });

  it('refuses more keys than it was sized for', () => {
    const floor = new CoreFloor(2);
    const input = new InputStream(3, 1, 0, 0);
    const batch = input.fillBatch(0, 64);
    expect(() => floor.processBatch(batch, 64)).toThrow(/more than 2 keys/);
  });
});
