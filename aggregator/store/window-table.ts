import type { FieldLayout, FieldState } from '../aggregates/aggregate-layout.js';
import { emptyFieldState } from '../aggregates/aggregate-layout.js';
import { DDSketch } from '../aggregates/dd-sketch.js';
import { HyperLogLog } from '../aggregates/hyper-log-log.js';
import type { ByteReader, ByteWriter } from '../codec/byte-io.js';

/** Typed columns of one field; a column exists only when a declared kind needs it. */
interface FieldColumns {
  layout: FieldLayout;
  count: Float64Array | null;
  sum: Float64Array | null;
  min: Float64Array | null;
  max: Float64Array | null;
  lastValue: Float64Array | null;
  lastTime: Float64Array | null;
  lastOffset: Float64Array | null;
  sketches: (DDSketch | null)[] | null;
  hlls: (HyperLogLog | null)[] | null;
}

const MIN_ROWS = 64;
/** Fibonacci hashing multiplier (2^32 / φ): spreads consecutive series ids over the slots. */
const FIB = 0x9e3779b1;

/**
 * The rows of ONE open window [startMs, startMs + sizeMs) of one window size: an open-addressing
 * table seriesId → row (Int32 slots, load ≤ 0.5) over dense rows whose aggregates live in
 * Float64Array columns. Sketches sit in side arrays only for fields that declare them.
 * Rows keep insertion order, which depends only on the input sequence (deterministic output).
 * Memory for count/sum/min/max/mean of one field: 8 × 4 (columns) + 4 (series id) + 8 (slots)
 * = 44 bytes per row at full capacity.
 */
export class WindowTable {
  rows = 0;
  private cap: number;
  private slots: Int32Array;
  private shift: number;
  seriesIds: Int32Array;
  readonly fields: FieldColumns[];
  /** Bytes held by sketches (maintained incrementally). */
  private sideBytes = 0;

  constructor(
    readonly sizeMs: number,
    readonly startMs: number,
    layout: readonly FieldLayout[],
    expectedRows = MIN_ROWS,
  ) {
    let cap = MIN_ROWS;
    while (cap < expectedRows) cap *= 2;
    this.cap = cap;
    this.slots = new Int32Array(cap * 2);
    this.shift = 32 - Math.log2(cap * 2);
    this.seriesIds = new Int32Array(cap);
    this.fields = layout.map((l) => ({
      layout: l,
      count: l.numeric ? new Float64Array(cap) : null,
      sum: l.sum || l.mean ? new Float64Array(cap) : null,
      min: l.min ? new Float64Array(cap) : null,
      max: l.max ? new Float64Array(cap) : null,
      lastValue: l.last ? new Float64Array(cap) : null,
      lastTime: l.last ? new Float64Array(cap) : null,
      lastOffset: l.last ? new Float64Array(cap) : null,
      sketches: l.quantiles ? [] : null,
      hlls: l.distinct !== null ? [] : null,
    }));
  }

  /** Bytes held: typed columns at capacity, slots, sketch side arrays. */
  bytes(): number {
    let b = this.slots.byteLength + this.seriesIds.byteLength + this.sideBytes;
    for (const f of this.fields) {
      for (const c of [f.count, f.sum, f.min, f.max, f.lastValue, f.lastTime, f.lastOffset])
        if (c) b += c.byteLength;
      if (f.sketches) b += f.sketches.length * 8;
      if (f.hlls) b += f.hlls.length * 8;
    }
    return b;
  }

  /** The row of `seriesId`, or -1. */
  find(seriesId: number): number {
    const mask = this.slots.length - 1;
    let i = Math.imul(seriesId, FIB) >>> this.shift;
    for (;;) {
      const s = this.slots[i]!;
      if (s === 0) return -1;
      if (this.seriesIds[s - 1] === seriesId) return s - 1;
      i = (i + 1) & mask;
    }
  }

  /** Appends a row for a series not in the table yet; returns it. */
  insert(seriesId: number): number {
    if (this.rows === this.cap) this.grow();
    const row = this.rows++;
    this.seriesIds[row] = seriesId;
    this.place(seriesId, row);
    for (const f of this.fields) {
      if (f.min) f.min[row] = Number.POSITIVE_INFINITY;
      if (f.max) f.max[row] = Number.NEGATIVE_INFINITY;
      if (f.lastTime) f.lastTime[row] = Number.NEGATIVE_INFINITY;
      if (f.lastOffset) f.lastOffset[row] = -1;
      if (f.lastValue) f.lastValue[row] = Number.NaN;
      if (f.sketches) f.sketches.push(null);
      if (f.hlls) f.hlls.push(null);
    }
    return row;
  }

  private place(seriesId: number, row: number): void {
    const mask = this.slots.length - 1;
    let i = Math.imul(seriesId, FIB) >>> this.shift;
    while (this.slots[i] !== 0) i = (i + 1) & mask;
    this.slots[i] = row + 1;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const widen = (a: Float64Array | null): Float64Array | null => {
      if (!a) return null;
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const ids = new Int32Array(cap);
    ids.set(this.seriesIds);
    this.seriesIds = ids;
    for (const f of this.fields) {
      f.count = widen(f.count);
      f.sum = widen(f.sum);
      f.min = widen(f.min);
      f.max = widen(f.max);
      f.lastValue = widen(f.lastValue);
      f.lastTime = widen(f.lastTime);
      f.lastOffset = widen(f.lastOffset);
    }
    this.cap = cap;
    this.slots = new Int32Array(cap * 2);
    this.shift = 32 - Math.log2(cap * 2);
    for (let r = 0; r < this.rows; r++) this.place(this.seriesIds[r]!, r);
  }

  /**
   * Adds one record's field values to `row`. `numbers`/`strings` are the decoded record's maps.
   * Returns the bytes the sketches grew by (for memory accounting).
   */
  update(
    row: number,
    numbers: Record<string, number>,
    strings: Record<string, string>,
    timeMs: number,
    offset: number,
  ): number {
    let grown = 0;
    const fields = this.fields;
    for (let k = 0; k < fields.length; k++) {
      const f = fields[k]!;
      const l = f.layout;
      if (l.numeric) {
        const v = numbers[l.name];
        if (v !== undefined) {
          f.count![row]! += 1;
          if (f.sum) f.sum[row]! += v;
          if (f.min && v < f.min[row]!) f.min[row] = v;
          if (f.max && v > f.max[row]!) f.max[row] = v;
          if (f.lastTime) {
            const t = f.lastTime[row]!;
            // Ties on event time go to the later offset (records arrive in offset order).
            if (timeMs > t || (timeMs === t && offset >= f.lastOffset![row]!)) {
              f.lastTime[row] = timeMs;
              f.lastOffset![row] = offset;
              f.lastValue![row] = v;
            }
          }
          if (f.sketches) {
            let sk = f.sketches[row]!;
            if (!sk) {
              sk = new DDSketch(l.quantiles!.relativeAccuracy);
              f.sketches[row] = sk;
              grown += sk.bytes();
            }
            grown += sk.add(v);
          }
        }
      }
      if (f.hlls) {
        const s = strings[l.name];
        if (s !== undefined) {
          let h = f.hlls[row]!;
          if (!h) {
            h = new HyperLogLog(l.distinct!);
            f.hlls[row] = h;
            grown += h.bytes();
          }
          grown += h.add(s);
        }
      }
    }
    this.sideBytes += grown;
    return grown;
  }

  /** The mergeable state of one field at `row` (sketches shared, not copied). */
  fieldState(row: number, k: number): FieldState {
    const f = this.fields[k]!;
    const s = emptyFieldState({ ...f.layout, quantiles: null, distinct: null });
    if (f.count) s.count = f.count[row]!;
    if (f.sum) s.sum = f.sum[row]!;
    if (f.min) s.min = f.min[row]!;
    if (f.max) s.max = f.max[row]!;
    if (f.lastValue) {
      s.lastValue = f.lastValue[row]!;
      s.lastTimeMs = f.lastTime![row]!;
      s.lastOffset = f.lastOffset![row]!;
    }
    s.sketch = f.sketches ? (f.sketches[row] ?? null) : null;
    s.hll = f.hlls ? (f.hlls[row] ?? null) : null;
    return s;
  }

  /** Rows in insertion order: series id and every column (for a snapshot). */
  write(w: ByteWriter): void {
    w.f64(this.sizeMs).f64(this.startMs).u32(this.rows);
    w.raw(this.seriesIds, this.rows * 4);
    for (const f of this.fields) {
      for (const c of [f.count, f.sum, f.min, f.max, f.lastValue, f.lastTime, f.lastOffset]) {
        if (c) w.raw(c, this.rows * 8);
      }
      if (f.sketches) {
        for (let r = 0; r < this.rows; r++) {
          const sk = f.sketches[r];
          w.u8(sk ? 1 : 0);
          if (sk) sk.write(w);
        }
      }
      if (f.hlls) {
        for (let r = 0; r < this.rows; r++) {
          const h = f.hlls[r];
          w.u8(h ? 1 : 0);
          if (h) h.write(w);
        }
      }
    }
  }

  static read(r: ByteReader, layout: readonly FieldLayout[]): WindowTable {
    const sizeMs = r.f64();
    const startMs = r.f64();
    const rows = r.u32();
    r.expect(rows <= 1 << 30, `window table of ${rows} rows`);
    const t = new WindowTable(sizeMs, startMs, layout, rows);
    t.rows = rows;
    r.rawInto(t.seriesIds, rows * 4);
    for (let row = 0; row < rows; row++) t.place(t.seriesIds[row]!, row);
    for (const f of t.fields) {
      for (const c of [f.count, f.sum, f.min, f.max, f.lastValue, f.lastTime, f.lastOffset]) {
        if (c) r.rawInto(c, rows * 8);
      }
      if (f.sketches) {
        for (let row = 0; row < rows; row++) {
          const sk = r.u8() === 1 ? DDSketch.read(r) : null;
          f.sketches.push(sk);
          if (sk) t.sideBytes += sk.bytes();
        }
      }
      if (f.hlls) {
        for (let row = 0; row < rows; row++) {
          const h = r.u8() === 1 ? HyperLogLog.read(r) : null;
          f.hlls.push(h);
          if (h) t.sideBytes += h.bytes();
        }
      }
    }
    return t;
  }
}
