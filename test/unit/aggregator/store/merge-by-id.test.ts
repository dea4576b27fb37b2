import { describe, expect, it } from 'vitest';
import { compileLayout } from '../../../../aggregator/aggregates/aggregate-layout.js';
import type { FieldAggregateConfig } from '../../../../aggregator/pipeline/pipeline-schema.js';
import { WindowTable } from '../../../../aggregator/store/window-table.js';
import { rng, T0 } from '../engine/engine-fixtures.js';
import { rowLayout as layout, randomRecord, snapshotOf } from './row-fixtures.js';

/** `n` random records over ids [0, ids) into `table`: missing fields, -0, NaN, ties on time. */
function fill(table: WindowTable, r: () => number, n: number, ids: number, offset: number): void {
  for (let i = 0; i < n; i++) {
    const id = Math.floor(r() * ids);
    const { numbers, t } = randomRecord(r);
    if (table.deferrable) table.defer(id, numbers, t, offset + i);
    else {
      const slot = table.slotOf(id);
      table.isNew = false;
      table.update(slot, numbers, {}, t, offset + i);
    }
  }
}

/** What the engine did before mergeAllById: mergeRow per row of `src`, in its slot order. */
function mergeRowByRow(into: WindowTable, src: WindowTable, made: number[]): void {
  for (let slot = 0; slot < src.cap; slot++) {
    const id = src.idAt(slot);
    if (id < 0) continue;
    const at = into.slotOf(id);
    if (into.isNew) {
      into.isNew = false;
      made.push(id);
    }
    into.mergeRow(at, src, slot);
  }
}

describe('WindowTable.mergeAllById', () => {
  it('merges a window indexed by id as mergeRow row by row does, bit for bit, new rows told once', () => {
    for (const seed of [1, 2, 3]) {
      const r = rng(seed);
      // The larger window already holds rows of earlier small windows (ids below 300); the
      // closing one has ids up to 450 (new series), some rows with no value of a field.
      const src = new WindowTable(60_000, T0 + 60_000, layout, 0, 450);
      fill(src, r, 3_000, 450, 10_000);
      const once = new WindowTable(600_000, T0, layout, 0, 300);
      const rowByRow = new WindowTable(600_000, T0, layout, 0, 300);
      for (const t of [once, rowByRow]) fill(t, rng(seed + 100), 2_000, 300, 0);
      expect(once.byId && src.byId).toBe(true);
      let top = -1;
      for (let slot = 0; slot < src.cap; slot++) top = Math.max(top, src.idAt(slot));
      expect(src.maxId()).toBe(top);

      const made: number[] = [];
      const madeRowByRow: number[] = [];
      for (const t of [once, rowByRow]) t.reserveId(src.maxId());
      expect(once.mergeAllById(src, (id) => made.push(id))).toBe(true);
      mergeRowByRow(rowByRow, src, madeRowByRow);

      expect(madeRowByRow.length).toBeGreaterThan(100);
      expect(made).toEqual(madeRowByRow);
      expect(once.rows).toBe(rowByRow.rows);
      expect(Buffer.from(snapshotOf(once))).toEqual(Buffer.from(snapshotOf(rowByRow)));
      // The source is left as it was (it is emitted too).
      expect(src.rows).toBeGreaterThan(400);
    }
  });

  it('declines, changing nothing, what it cannot merge in one pass', () => {
    const byId = (): WindowTable => new WindowTable(600_000, T0, layout, 0, 100);
    const hashed = new WindowTable(60_000, T0, layout, 100);
    fill(hashed, rng(4), 200, 100, 0);
    const target = byId();
    const before = Buffer.from(snapshotOf(target));
    expect(target.mergeAllById(hashed, () => {})).toBe(false);
    expect(new WindowTable(600_000, T0, layout, 100).mergeAllById(byId(), () => {})).toBe(false);
    // Ids beyond the target's (not reserved).
    const wide = new WindowTable(60_000, T0, layout, 0, 500);
    fill(wide, rng(5), 300, 500, 0);
    expect(target.mergeAllById(wide, () => {})).toBe(false);
    expect(Buffer.from(snapshotOf(target))).toEqual(before);
    // Sketches stay with mergeRow.
    const sketches = compileLayout([
      { field: 'temp', kinds: ['count', 'quantiles'], quantiles: [0.5], relativeAccuracy: 0.01 },
    ] as FieldAggregateConfig[]);
    const a = new WindowTable(600_000, T0, sketches, 0, 100);
    const b = new WindowTable(60_000, T0, sketches, 0, 100);
    expect(a.mergeAllById(b, () => {})).toBe(false);
  });
});
