import { describe, expect, it } from 'vitest';
import { MERGED_PART_ROWS } from '../../../aggregator/engine/partial-merger.js';
import { measureEmit } from '../../bench/emit-bench.js';

describe('bench emit', () => {
  it('takes the same rows of a closing window whole and in parts, part by part', () => {
    const r = measureEmit({ series: 40_000, inFlightWrites: 2 });
    expect(r.source).toBe('window');
    expect(r.rows).toBe(40_000);
    // 40,000 rows in tables of more than 32,768 slots: at least three parts, one per take.
    expect(r.parts.takes).toBeGreaterThanOrEqual(3);
    expect(r.parts.takesMs).toBeGreaterThanOrEqual(r.parts.longestPauseMs);
    // (Heap figures are left to the bench: a unit test on a shared machine cannot pin them.)
  });

  it('takes a mass timeout as transitions, at most maxRowsPerWrite per take', () => {
    const r = measureEmit({ source: 'timeouts', series: 30_000, maxRowsPerWrite: 10_000, inFlightWrites: 2 });
    // Every key's timeout, the last closing key's record transition, and the first closing key's
    // 1m and 10m windows (the step that times everyone out closes them too).
    expect(r.rows).toBe(30_000 + 1 + 2);
    expect(r.parts.takes).toBe(4);
  });

  it('takes a closing level-2 window in whole parts of merged rows', () => {
    const r = measureEmit({ source: 'merged', series: 20_000, maxRowsPerWrite: 1, inFlightWrites: 2 });
    expect(r.rows).toBe(20_000);
    expect(r.parts.takes).toBe(Math.ceil(20_000 / MERGED_PART_ROWS));
  });
});
