import { describe, expect, it } from 'vitest';
import { seriesKeyOf, splitSeriesKey } from '../../../../aggregator/decode/series-key.js';

describe('series key', () => {
  it('leaves plain values unescaped', () => {
    expect(seriesKeyOf(['acme', 'dev-1'])).toBe('acme|dev-1');
    expect(seriesKeyOf(['solo'])).toBe('solo');
  });

  it('never maps two distinct key tuples to the same series key', () => {
    const alphabet = ['', 'a', '|', '\\', 'a|', '|a', '\\|', 'a\\', '||', '\\\\'];
    const seen = new Map<string, string>();
    for (const x of alphabet) {
      for (const y of alphabet) {
        for (const z of alphabet) {
          const tuple = JSON.stringify([x, y, z]);
          const key = seriesKeyOf([x, y, z]);
          expect(seen.get(key) ?? tuple).toBe(tuple);
          seen.set(key, tuple);
          expect(splitSeriesKey(key)).toEqual([x, y, z]);
        }
      }
    }
    expect(seen.size).toBe(alphabet.length ** 3);
  });

  it('is deterministic', () => {
    expect(seriesKeyOf(['a|b', 'c\\'])).toBe(seriesKeyOf(['a|b', 'c\\']));
    expect(seriesKeyOf(['a|b', 'c\\'])).toBe('a\\|b|c\\\\');
  });
});
