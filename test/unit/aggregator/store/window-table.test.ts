import { describe, expect, it } from 'vitest';
import { compileLayout } from '../../../../aggregator/aggregates/aggregate-layout.js';
import { ByteReader, ByteWriter, CorruptStateError } from '../../../../aggregator/codec/byte-io.js';
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

  it('indexed by id: a row sits at its series id, the table grows to ids beyond its end and keeps its rows', () => {
    const tb = new WindowTable(60_000, 0, layout, 100, 100);
    expect(tb.cap).toBe(100);
    for (const id of [0, 5, 99]) expect(tb.slotOf(id)).toBe(id);
    expect(tb.isNew).toBe(true);
    tb.isNew = false;
    put(tb, 5, 3, 10, 1);
    put(tb, 5, 4, 11, 2);
    for (let id = 6; id < 99; id++) put(tb, id, id, id, id);
    put(tb, 150, 7, 12, 3); // beyond the end, 100 rows expected for 151 ids: grows, rows stay where they are
    expect(tb.byId).toBe(true);
    expect(tb.cap).toBeGreaterThan(150);
    expect(tb.slotOf(150)).toBe(150);
    expect(tb.rows).toBe(97);
    expect([tb.has(5), tb.has(150), tb.has(100), tb.has(5000)]).toEqual([true, true, false, false]);
    expect(tb.fits(1e9)).toBe(true);
    const s = tb.fieldState(5, 0);
    expect([s.count, s.sum, s.min, s.max, s.lastValue]).toEqual([2, 7, 3, 4, 4]);
    expect(s.sketch!.count).toBe(2);
    expect(tb.fieldState(150, 1).hll!.estimate()).toBeCloseTo(1, 0);
    expect(tb.touch(5000)).toBe(tb.touch(0)); // out of range reads slot 0, changes nothing
  });

  it('indexed by id: an id that would leave rows (or rows expected) under 60 % of the ids turns it into a hashed table', () => {
    const tb = new WindowTable(60_000, 0, layout, 40, 100);
    for (let id = 0; id < 40; id++) put(tb, id, id, id, id);
    put(tb, 100, 1, 1, 1); // 41 rows for 101 ids
    expect(tb.byId).toBe(false);
    expect(tb.rows).toBe(41);
    expect(tb.cap).toBeLessThan(101);
    for (let id = 0; id < 40; id++) expect(tb.fieldState(tb.slotOf(id), 0).sum).toBe(id);
    expect(tb.fieldState(tb.slotOf(100), 0).sketch!.count).toBe(1);
    expect([tb.has(39), tb.has(40), tb.has(100)]).toEqual([true, false, true]);
  });

  it('indexed by id: written and read back with its kind; a bitmap that disagrees with the row count is refused as corrupt', () => {
    const tb = new WindowTable(60_000, 0, layout, 64, 64);
    for (let id = 0; id < 64; id++) if (id % 2 === 1 || id === 40) put(tb, id, id, id, id);
    const w = new ByteWriter(1024);
    tb.write(w);
    const bytes = w.finish();
    const back = WindowTable.read(new ByteReader(bytes, 'table'), layout, true, 64);
    expect([back.byId, back.expectedRows]).toEqual([true, 64]);
    expect([back.rows, back.slotOf(40), back.fieldState(40, 0).sum]).toEqual([33, 40, 40]);
    back.isNew = false;
    expect(back.slotOf(64)).toBe(64);
    // The bitmap of rows follows the 24-byte header: mark slot 42 too (33 rows said, 34 marked).
    const bad = Buffer.from(bytes);
    const bitsAt = 8 + 8 + 4 + 4;
    bad[bitsAt + 5] = bad[bitsAt + 5]! | (1 << 2);
    expect(() => WindowTable.read(new ByteReader(bad, 'table'), layout, true)).toThrow(CorruptStateError);
    expect(() => WindowTable.read(new ByteReader(bad, 'table'), layout, true)).toThrow(
      /marks 34 rows \(33 said\)/,
    );
  });
});
