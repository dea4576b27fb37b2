import { describe, expect, it } from 'vitest';
import { compileLayout } from '../../../../aggregator/aggregates/aggregate-layout.js';
import { pipelineSchema } from '../../../../aggregator/pipeline/pipeline-schema.js';
import { WindowTable } from '../../../../aggregator/store/window-table.js';

const layout = compileLayout(
  pipelineSchema.parse({
    name: 'p',
    source: { topics: ['in'] },
    keyFields: ['k'],
    eventTimeField: 'ts',
    windows: ['1m', '10m'],
    aggregates: [
      { field: 'v', kinds: ['count', 'sum', 'min', 'max', 'last', 'quantiles'], quantiles: [0.5] },
      { field: 'u', kinds: ['distinct'] },
    ],
    sink: { type: 'cassandra', table: 't' },
  }).aggregates,
);

function put(tb: WindowTable, id: number, v: number, t: number, offset: number): void {
  const slot = tb.slotOf(id);
  tb.isNew = false;
  tb.update(slot, { v }, { u: `u${v}` }, t, offset);
}

describe('WindowTable', () => {
  it('reserves room so that inserting that many rows does not grow it', () => {
    const tb = new WindowTable(600_000, 0, layout);
    expect(tb.fits(1000)).toBe(false);
    tb.reserve(1000);
    const cap = tb.cap;
    expect(tb.fits(1000)).toBe(true);
    for (let id = 0; id < 1000; id++) put(tb, id, id, id, id);
    expect(tb.cap).toBe(cap);
    expect(tb.rows).toBe(1000);
    expect(tb.has(999)).toBe(true);
    expect(tb.has(1000)).toBe(false);
    tb.reserve(10);
    expect(tb.cap).toBe(cap);
  });

  it('merges a smaller window row: counts and sums add, min/max, the later last, sketches copied', () => {
    const a = new WindowTable(60_000, 0, layout);
    put(a, 7, 5, 1000, 1);
    put(a, 7, -3, 2000, 2);
    const b = new WindowTable(60_000, 60_000, layout);
    put(b, 7, 10, 61_000, 3);
    const big = new WindowTable(600_000, 0, layout);
    for (const src of [b, a]) {
      const slot = big.slotOf(7);
      big.isNew = false;
      big.mergeRow(slot, src, src.slotOf(7));
    }
    const s = big.fieldState(big.slotOf(7), 0);
    expect([s.count, s.sum, s.min, s.max, s.lastValue, s.lastTimeMs]).toEqual([3, 12, -3, 10, 10, 61_000]);
    expect(s.sketch!.count).toBe(3);
    expect(big.fieldState(big.slotOf(7), 1).hll!.estimate()).toBeCloseTo(3, 0);
    // The source rows keep their own sketches (they are emitted too).
    expect(a.fieldState(a.slotOf(7), 0).sketch!.count).toBe(2);
    expect(b.fieldState(b.slotOf(7), 0).sketch!.count).toBe(1);
  });
});
