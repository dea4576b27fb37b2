import { describe, expect, it } from 'vitest';
import { measureEmit } from '../../bench/emit-bench.js';

describe('bench emit', () => {
  it('takes the same rows whole and in parts, part by part', () => {
    const r = measureEmit({ series: 40_000, inFlightWrites: 2 });
    expect(r.rows).toBe(40_000);
    // 40,000 rows in tables of more than 32,768 slots: at least three parts, one per take.
    expect(r.parts.takes).toBeGreaterThanOrEqual(3);
    expect(r.parts.takesMs).toBeGreaterThanOrEqual(r.parts.longestPauseMs);
    // (Heap figures are left to the bench: a unit test on a shared machine cannot pin them.)
  });
});
