import {
  blankFieldState,
  type FieldLayout,
  type FieldState,
  laterThan,
} from '../aggregates/aggregate-layout.js';
import { DDSketch } from '../aggregates/dd-sketch.js';
import { HyperLogLog } from '../aggregates/hyper-log-log.js';
import type { ByteReader, ByteWriter } from '../codec/byte-io.js';
import { ROW_BATCH, type RowKernel, type RowMemory, rowKernel } from './row-update-kernel.js';

/** Where one field's numbers sit inside a row's block of the data column (-1: not stored). */
interface FieldColumns {
  layout: FieldLayout;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** lastValue, lastTime, lastOffset at last, last + 1, last + 2. */
  last: number;
  sketches: (DDSketch | null)[] | null;
  hlls: (HyperLogLog | null)[] | null;
}

const MIN_SLOTS = 64;
/** Grow when rows exceed this fraction of the slots. */
const MAX_LOAD = 0.88;
/** A table sized from the previous window's rows starts at this load (no regrowth, little slack). */
const HINT_LOAD = 0.82;
/** A window of fewer rows than this stays a hashed table (its memory hardly matters). */
const MIN_BY_ID_ROWS = 64;
/** Growth of a table indexed by series id when an id beyond its end arrives. */
const BY_ID_GROWTH = 1.25;
/**
 * Growth of a table indexed by id whose rows are in a row memory: in place (the memory grows at
 * its end, nothing is copied), so by small steps; its bitmap has room for twice the ids it starts
 * with (an eighth of a byte per id).
 */
const BY_ID_STEP = 1 / 64;
/**
 * A table indexed by id keeps at least this share of the ids it covers as rows (else it is
 * hashed): its memory per row then stays within a hashed table's as it grows (load 0.59–0.88).
 */
const MIN_BY_ID_FILL = 0.6;

/**
 * The rows of ONE open window [startMs, startMs + sizeMs) of one window size: an open-addressing
 * table keyed by series id (linear probing, any capacity via multiply-shift, load ≤ 0.88) whose
 * numbers live in one Float64Array, a row's numbers side by side (count, sum, min, max of a field
 * share a cache line: one miss per update instead of one per column). Sketches sit in side
 * arrays only for fields that declare them. No deletes: a window's rows go away together when it
 * is emitted. Slot order, hence emission order, depends only on the input sequence.
 * Memory for count/sum/min/max/mean of one field: (4 × 8 + 4) / load ≈ 44 bytes per row.
 *
 * Indexed by id (`byId`): when nearly every live series has a row in the window (a window of
 * series that report steadily), a row's slot is its series id (ids are dense: the dictionary
 * hands out the lowest free one). No probing, and one cache line per update instead of the key
 * slot's and the row's (a bit per slot says which have a row: 128 KiB for a million ids, which
 * stays in cache); memory is 4 × 8 bytes and a bit per id, less than the hashed table's
 * (36 / load per row) once 75 % of the ids have a row. The engine picks the kind per window from
 * the last one ({@link indexesById}); a table indexed by id that would cover more than 1 / 0.6 of
 * its rows becomes a hashed one.
 */
export class WindowTable {
  /** Rows made (those of deferred records not yet applied excepted: see {@link rows}). */
  private made = 0;
  // Assigned by allocSlots (the constructor's last step, and every growth).
  cap!: number;
  /** Hashed: series id + 1 per slot; 0 = empty (empty when indexed by id). */
  private keys!: Int32Array;
  /** Indexed by id: one bit per slot, set when the slot's series has a row (empty when hashed). */
  private present!: Uint8Array;
  data!: Float64Array;
  readonly stride: number;
  readonly fields: FieldColumns[];
  /** Some field keeps sketches (quantiles or distinct) in side arrays. */
  private readonly hasSide: boolean;
  /** Bytes held by sketches (maintained incrementally). */
  private sideBytes = 0;
  /** The WebAssembly row updates for this layout, or null (sketches, or the kernel not loaded). */
  private readonly kernel: RowKernel | null;
  /** Indexed by id with the kernel: the memory holding the bitmap and numbers, and the records waiting in its I/O area. */
  private rowMemory: RowMemory | null = null;
  /** Per numeric field (the kernel's value columns, in order): its name. */
  private readonly kernelNames: string[];
  /** Records deferred (see {@link defer}) and not yet applied. */
  private pending = 0;
  /** Told each series id given a row (the engine counts the tables referring to an id). */
  newRowSink: ((seriesId: number) => void) | null = null;

  constructor(
    readonly sizeMs: number,
    readonly startMs: number,
    layout: readonly FieldLayout[],
    /** Rows expected (the last window's): the starting capacity of a hashed table. */
    readonly expectedRows = 0,
    /** > 0: rows indexed by series id, for ids below this to start with (see the class). */
    idSpace = 0,
  ) {
    this.byId = idSpace > 0;
    let stride = 0;
    this.fields = layout.map((l) => {
      const take = (on: boolean, n = 1): number => {
        if (!on) return -1;
        const at = stride;
        stride += n;
        return at;
      };
      return {
        layout: l,
        count: take(l.numeric),
        sum: take(l.numeric && (l.sum || l.mean)),
        min: take(l.min),
        max: take(l.max),
        last: take(l.last, 3),
        sketches: null,
        hlls: null,
      };
    });
    this.stride = stride;
    this.hasSide = this.fields.some((f) => f.layout.quantiles !== null || f.layout.distinct !== null);
    const numeric = this.fields.filter((f) => f.count >= 0);
    this.kernel = this.hasSide ? null : rowKernel(numeric, stride);
    this.kernelNames = numeric.map((f) => f.layout.name);
    this.allocSlots(Math.max(MIN_SLOTS, Math.ceil(this.byId ? idSpace : expectedRows / HINT_LOAD)));
  }

  /** Empty storage for `cap` slots of the kind `byId` says: key slots or a bitmap, the numbers, the sketches. */
  private allocSlots(cap: number): void {
    this.keys = this.byId ? NO_KEYS : new Int32Array(cap);
    this.useSlots(
      cap,
      this.byId && this.kernel
        ? allocateRows(this.kernel, bitBytes(cap), cap * this.stride, bitBytes(2 * cap))
        : null,
    );
    this.allocSide();
  }

  /** `cap` slots whose bitmap and numbers are in `rows`, or (null) on the JavaScript heap, new. */
  private useSlots(cap: number, rows: RowMemory | null): void {
    this.cap = cap;
    this.scale = cap / 4294967296;
    this.rowMemory = rows;
    this.present = rows?.present ?? (this.byId ? new Uint8Array(bitBytes(cap)) : NO_BITS);
    this.data = rows?.data ?? new Float64Array(cap * this.stride);
  }

  /**
   * True when records may be {@link defer}red: indexed by id, rows in the kernel's memory.
   * Changes with the table's kind (a table indexed by id may turn hashed).
   */
  get deferrable(): boolean {
    return this.rowMemory !== null;
  }

  /** Rows in the table (deferred records applied first). */
  get rows(): number {
    this.flush();
    return this.made;
  }

  /**
   * Queues the update of `seriesId`'s row by one record (as {@link slotOf} then {@link update}),
   * for a table that is {@link deferrable}; queued records are applied in order, in WebAssembly,
   * by {@link flush}, which every read of the rows does first. A record the kernel cannot take
   * (a NaN value) is applied at once in TypeScript, after those queued.
   */
  defer(seriesId: number, numbers: Record<string, number>, timeMs: number, offset: number): void {
    if (this.byId && seriesId >= this.cap) this.growById(seriesId);
    const rows = this.rowMemory;
    if (rows !== null) {
      const j = this.pending;
      const io = rows.io;
      const names = this.kernelNames;
      let ok = true;
      for (let k = 0; k < names.length; k++) {
        const v = numbers[names[k]!];
        if (Number.isNaN(v)) ok = false; // NaN: only undefined (no value) is written as NaN
        io.values[k]![j] = v === undefined ? Number.NaN : v;
      }
      if (ok) {
        io.ids[j] = seriesId;
        io.times[j] = timeMs;
        io.offsets[j] = offset;
        this.pending = j + 1;
        if (j + 1 === ROW_BATCH) this.flush();
        return;
      }
    }
    const slot = this.slotOf(seriesId);
    if (this.isNew) {
      this.isNew = false;
      this.newRowSink?.(seriesId);
    }
    this.update(slot, numbers, NO_STRINGS, timeMs, offset);
  }

  /**
   * {@link defer} of records `from..to` with series ids `ids[0..to - from)`, in order: the same
   * queue, written a field at a time rather than a record at a time.
   */
  deferAll(
    ids: Int32Array,
    records: readonly { numbers: Record<string, number>; eventTimeMs: number }[],
    from: number,
    to: number,
    offsets: ArrayLike<number>,
  ): void {
    const names = this.kernelNames;
    const name = names[0]!;
    for (let j = from; j < to; ) {
      const rows = this.rowMemory;
      if (rows === null || names.length !== 1) {
        for (; j < to; j++) {
          const r = records[j]!;
          this.defer(ids[j - from]!, r.numbers, r.eventTimeMs, offsets[j]!);
        }
        return;
      }
      // Up to the end of the kernel's batch; a record it cannot take as it is (a NaN value, an id
      // past the table's end) goes through defer, after the ones before it are queued.
      const io = rows.io;
      const values = io.values[0]!;
      let at = this.pending;
      const stop = Math.min(to, j + (ROW_BATCH - at));
      for (; j < stop; j++, at++) {
        const r = records[j]!;
        const id = ids[j - from]!;
        if (this.byId && id >= this.cap) break;
        const v = r.numbers[name];
        if (Number.isNaN(v)) break;
        values[at] = v === undefined ? Number.NaN : v;
        io.ids[at] = id;
        io.times[at] = r.eventTimeMs;
        io.offsets[at] = offsets[j]!;
      }
      this.pending = at;
      if (at === ROW_BATCH) this.flush();
      else if (j < stop) {
        const r = records[j]!;
        this.defer(ids[j - from]!, r.numbers, r.eventTimeMs, offsets[j]!);
        j++;
      }
    }
  }

  /** Applies the deferred records (see {@link defer}); every read of the rows calls it first. */
  flush(): void {
    const n = this.pending;
    if (n === 0) return;
    this.pending = 0;
    const rows = this.rowMemory!;
    const made = rows.apply(n);
    this.made += made;
    const sink = this.newRowSink;
    if (sink !== null) for (let k = 0; k < made; k++) sink(rows.io.newIds[k]!);
  }

  /** The series id whose row is at `slot`, or -1 (empty). */
  idAt(slot: number): number {
    this.flush();
    if (this.byId) return bitAt(this.present, slot) ? slot : -1;
    return this.keys[slot]! - 1;
  }

  /** Forgets the row at `slot` (drained: a snapshot keeps only the rest; never looked up again). */
  clearSlot(slot: number): void {
    this.flush();
    if (this.byId) this.present[slot >> 3]! &= ~(1 << (slot & 7));
    else this.keys[slot] = 0;
    this.made--;
  }

  /** Rows in slots [from, to). */
  rowsIn(from: number, to: number): number {
    let n = 0;
    for (let slot = from; slot < to; slot++) if (this.idAt(slot) >= 0) n++;
    return n;
  }

  /** The highest series id with a row (-1: none). */
  maxId(): number {
    if (this.byId) {
      this.flush();
      const bits = this.present;
      for (let b = Math.min(bits.length, bitBytes(this.cap)) - 1; b >= 0; b--) {
        const v = bits[b]!;
        if (v !== 0) return b * 8 + 31 - Math.clz32(v);
      }
      return -1;
    }
    let max = -1;
    for (let slot = 0; slot < this.cap; slot++) max = Math.max(max, this.idAt(slot));
    return max;
  }

  /** (Re)allocates the sketch side arrays at the current capacity, empty (packed arrays, not holey). */
  private allocSide(): void {
    for (const f of this.fields) {
      f.sketches = f.layout.quantiles ? new Array<DDSketch | null>(this.cap).fill(null) : null;
      f.hlls = f.layout.distinct !== null ? new Array<HyperLogLog | null>(this.cap).fill(null) : null;
    }
  }

  /** Bytes held: key slots, the data column, sketch side arrays. */
  bytes(): number {
    let b = this.rowMemory
      ? this.rowMemory.memory.buffer.byteLength
      : this.keys.byteLength + this.present.byteLength + this.data.byteLength;
    b += this.sideBytes;
    for (const f of this.fields) {
      if (f.sketches) b += f.sketches.length * 8;
      if (f.hlls) b += f.hlls.length * 8;
    }
    return b;
  }

  private home(seriesId: number): number {
    // Fibonacci hashing then multiply-shift into [0, cap): h × (cap / 2^32) is the same
    // correctly rounded product as (h / 2^32) × cap (both factors scale by a power of two).
    const h = Math.imul(seriesId, 0x9e3779b1) >>> 0;
    const i = Math.floor(h * this.scale);
    return i < this.cap ? i : 0;
  }

  /** cap / 2^32, kept with `cap` (see {@link home}). */
  private scale = 0;

  /** The slot holding `seriesId`, or the empty slot where it would go (a hashed table). */
  private probe(seriesId: number): number {
    const key = seriesId + 1;
    const keys = this.keys;
    const cap = this.cap;
    let i = this.home(seriesId);
    for (;;) {
      const k = keys[i]!;
      if (k === key || k === 0) return i;
      if (++i === cap) i = 0;
    }
  }

  /** The slot of `seriesId`, inserting a fresh row when absent; `isNew` tells which. */
  slotOf(seriesId: number): number {
    this.flush();
    if (this.byId) {
      if (seriesId >= this.cap) this.growById(seriesId);
      if (this.byId) return this.insertById(seriesId);
    }
    const key = seriesId + 1;
    const keys = this.keys;
    const i = this.probe(seriesId);
    if (keys[i] === key) return i;
    if (this.made + 1 > this.cap * MAX_LOAD) {
      this.grow(Math.ceil(this.cap * 1.5));
      return this.slotOf(seriesId);
    }
    keys[i] = key;
    this.made++;
    this.initRow(i);
    this.isNew = true;
    return i;
  }

  /** {@link slotOf} of a table indexed by id, `seriesId` in range. */
  private insertById(seriesId: number): number {
    const bit = 1 << (seriesId & 7);
    const at = seriesId >> 3;
    const bits = this.present[at]!;
    if ((bits & bit) !== 0) return seriesId;
    this.present[at] = bits | bit;
    this.made++;
    this.initRow(seriesId);
    this.isNew = true;
    return seriesId;
  }

  /**
   * Makes room for `seriesId` beyond the end of a table indexed by id; one whose rows, counting
   * those expected, would be under {@link MIN_BY_ID_FILL} of the ids it covers (the window is not
   * as full as the last one) turns into a hashed table instead, at the load of a hinted one.
   */
  private growById(seriesId: number): void {
    this.flush();
    if (Math.max(this.made, this.expectedRows) + 1 < (seriesId + 1) * MIN_BY_ID_FILL) {
      this.byId = false;
      this.grow(Math.max(MIN_SLOTS, Math.ceil((this.made + 1) / HINT_LOAD)), true);
    } else if (!this.growInPlace(Math.max(seriesId + 1, Math.ceil(this.cap * (1 + BY_ID_STEP))))) {
      this.grow(Math.max(seriesId + 1, Math.ceil(this.cap * BY_ID_GROWTH)));
    }
  }

  /**
   * Extends a table indexed by id to `cap` slots where its row memory is (rows stay where they
   * are: a series that first appears while the window is open costs pages, not a copy of every
   * row). False, unchanged, when it has no row memory or that cannot grow so.
   */
  private growInPlace(cap: number): boolean {
    const next = this.rowMemory?.resize(bitBytes(cap), cap * this.stride) ?? null;
    if (next === null) return false;
    this.useSlots(cap, next);
    return true;
  }

  /** Makes room for ids up to `seriesId` in a table indexed by id (which may turn it hashed, see growById). */
  reserveId(seriesId: number): void {
    if (this.byId && seriesId >= this.cap) this.growById(seriesId);
  }

  /** True when `seriesId` has a row. */
  has(seriesId: number): boolean {
    this.flush();
    if (this.byId) return seriesId < this.cap && this.idAt(seriesId) === seriesId;
    return this.keys[this.probe(seriesId)] === seriesId + 1;
  }

  /** True when `rows` rows in all fit without growing (by id: growth follows the ids, never a probe chain). */
  fits(rows: number): boolean {
    return this.byId || rows <= this.cap * MAX_LOAD;
  }

  /** Makes room for `rows` rows in all, so that inserting them does not grow the table. */
  reserve(rows: number): void {
    if (!this.fits(rows)) this.grow(Math.max(MIN_SLOTS, Math.ceil(rows / HINT_LOAD)));
  }

  /**
   * Reads the home slot of `seriesId` and its row's numbers, as {@link slotOf} and {@link update}
   * will (see SeriesDictionary.prefetch); changes nothing. Returns a value computed from the loads.
   */
  touch(seriesId: number): number {
    if (this.byId) {
      const i = seriesId < this.cap ? seriesId : 0;
      return this.stride > 0 ? this.present[i >> 3]! ^ this.data[i * this.stride]! : this.present[i >> 3]!;
    }
    const i = this.home(seriesId);
    return this.stride > 0 ? this.keys[i]! ^ this.data[i * this.stride]! : this.keys[i]!;
  }

  /** Rows indexed by series id (see the class); turns false when the table becomes hashed. */
  byId: boolean;

  /**
   * A window of the smallest size whose records were also applied to the larger sizes directly
   * (restored from a snapshot written before windows merged up): not merged up when it closes.
   */
  direct = false;

  /** Set by {@link slotOf} when it created the row; the caller resets it. */
  isNew = false;

  private initRow(slot: number): void {
    const d = this.data;
    const base = slot * this.stride;
    for (const f of this.fields) {
      if (f.min >= 0) d[base + f.min] = Number.POSITIVE_INFINITY;
      if (f.max >= 0) d[base + f.max] = Number.NEGATIVE_INFINITY;
      if (f.last >= 0) {
        d[base + f.last] = Number.NaN;
        d[base + f.last + 1] = Number.NEGATIVE_INFINITY;
        d[base + f.last + 2] = -1;
      }
    }
  }

  /** Moves the rows into `cap` slots, of the kind `byId` says now (`wasById`: the kind they are in). */
  private grow(cap: number, wasById = this.byId): void {
    this.flush();
    const oldKeys = this.keys;
    const oldBits = this.present;
    const oldData = this.data;
    const oldCap = this.cap;
    const stride = this.stride;
    const oldSketches = this.hasSide ? this.fields.map((f) => f.sketches) : null;
    const oldHlls = this.hasSide ? this.fields.map((f) => f.hlls) : null;
    this.allocSlots(cap);
    const keys = this.keys;
    const data = this.data;
    for (let s = 0; s < oldCap; s++) {
      const id = wasById ? (bitAt(oldBits, s) ? s : -1) : oldKeys[s]! - 1;
      if (id < 0) continue;
      let i: number;
      if (this.byId) {
        i = id;
        this.present[i >> 3]! |= 1 << (i & 7);
      } else {
        i = this.home(id);
        while (keys[i] !== 0) if (++i === cap) i = 0;
        keys[i] = id + 1;
      }
      const from = s * stride;
      const to = i * stride;
      for (let j = 0; j < stride; j++) data[to + j] = oldData[from + j]!;
      if (oldSketches && oldHlls) {
        for (let n = 0; n < this.fields.length; n++) {
          const f = this.fields[n]!;
          if (f.sketches) f.sketches[i] = oldSketches[n]![s] ?? null;
          if (f.hlls) f.hlls[i] = oldHlls[n]![s] ?? null;
        }
      }
    }
  }

  /**
   * Adds one record's field values to the row at `slot`. Returns the bytes the sketches grew by
   * (for memory accounting).
   */
  update(
    slot: number,
    numbers: Record<string, number>,
    strings: Record<string, string>,
    timeMs: number,
    offset: number,
  ): number {
    this.flush();
    let grown = 0;
    const d = this.data;
    const base = slot * this.stride;
    const fields = this.fields;
    for (let k = 0; k < fields.length; k++) {
      const f = fields[k]!;
      const l = f.layout;
      if (f.count >= 0) {
        const v = numbers[l.name];
        if (v !== undefined) {
          d[base + f.count]! += 1;
          if (f.sum >= 0) d[base + f.sum]! += v;
          if (f.min >= 0 && v < d[base + f.min]!) d[base + f.min] = v;
          if (f.max >= 0 && v > d[base + f.max]!) d[base + f.max] = v;
          if (f.last >= 0) {
            const at = base + f.last;
            const t = d[at + 1]!;
            // Ties on event time go to the later offset (records arrive in offset order).
            if (timeMs > t || (timeMs === t && offset >= d[at + 2]!)) {
              d[at] = v;
              d[at + 1] = timeMs;
              d[at + 2] = offset;
            }
          }
          if (f.sketches) {
            let sk = f.sketches[slot];
            if (!sk) {
              sk = new DDSketch(l.quantiles!.relativeAccuracy);
              f.sketches[slot] = sk;
              grown += sk.bytes();
            }
            grown += sk.add(v);
          }
        }
      }
      if (f.hlls) {
        const s = strings[l.name];
        if (s !== undefined) {
          let h = f.hlls[slot];
          if (!h) {
            h = new HyperLogLog(l.distinct!);
            f.hlls[slot] = h;
            grown += h.bytes();
          }
          grown += h.add(s);
        }
      }
    }
    this.sideBytes += grown;
    return grown;
  }

  /**
   * Merges the row at `srcSlot` of `src` (a window of a smaller size inside this one, same
   * layout) into the row at `slot`: counts and sums add, min/max, the later `last`, sketches
   * merged into this row's own (the source's stay untouched: it is emitted too). Returns the
   * bytes the sketches grew by.
   */
  mergeRow(slot: number, src: WindowTable, srcSlot: number): number {
    this.flush();
    src.flush();
    let grown = 0;
    const d = this.data;
    const sd = src.data;
    const base = slot * this.stride;
    const from = srcSlot * src.stride;
    const fields = this.fields;
    for (let k = 0; k < fields.length; k++) {
      const f = fields[k]!;
      const sf = src.fields[k]!;
      if (f.count >= 0) mergeNumbers(d, base, f, sd, from, sf);
      const sk = sf.sketches?.[srcSlot];
      if (sk && f.sketches) grown += mergeSide(f.sketches, slot, sk, () => new DDSketch(sk.relativeAccuracy));
      const h = sf.hlls?.[srcSlot];
      if (h && f.hlls) grown += mergeSide(f.hlls, slot, h, () => new HyperLogLog(h.precision));
    }
    this.sideBytes += grown;
    return grown;
  }

  /**
   * {@link mergeRow} of every row of `src` into this table, in `src`'s slot order, when both are
   * indexed by id, keep no sketches and `src`'s ids are all within this table's (the caller
   * reserved them): one pass over `src`'s bitmap, rows read in id order on both sides, instead of
   * a call per row. `onNew` is told each id given a row here for the first time. Returns false,
   * having done nothing, when the tables are not such: the caller merges row by row.
   */
  mergeAllById(src: WindowTable, onNew: (seriesId: number) => void): boolean {
    if (!this.byId || !src.byId || this.hasSide || src.hasSide || src.stride !== this.stride) return false;
    if (src.cap > this.cap && src.maxId() >= this.cap) return false;
    this.flush();
    src.flush();
    const from = src.present;
    const into = this.present;
    const sd = src.data;
    const d = this.data;
    const stride = this.stride;
    const fields = this.fields;
    const bytes = Math.min(from.length, bitBytes(src.cap));
    for (let b = 0; b < bytes; b++) {
      for (let bits = from[b]!; bits !== 0; bits &= bits - 1) {
        const bit = bits & -bits;
        const id = b * 8 + 31 - Math.clz32(bit);
        const have = into[b]!;
        if ((have & bit) === 0) {
          into[b] = have | bit;
          this.made++;
          this.initRow(id);
          onNew(id);
        }
        const base = id * stride;
        for (let k = 0; k < fields.length; k++) {
          const f = fields[k]!;
          if (f.count >= 0) mergeNumbers(d, base, f, sd, base, f);
        }
      }
    }
    return true;
  }

  /**
   * The mergeable state of field `k` at `slot` (sketches shared, not copied), written into `into`
   * when given (a caller that consumes it at once reuses one object for every row).
   */
  fieldState(slot: number, k: number, into?: FieldState): FieldState {
    this.flush();
    const f = this.fields[k]!;
    const d = this.data;
    const base = slot * this.stride;
    const s = into ?? blankFieldState();
    s.count = f.count >= 0 ? d[base + f.count]! : 0;
    s.sum = f.sum >= 0 ? d[base + f.sum]! : 0;
    s.min = f.min >= 0 ? d[base + f.min]! : Number.POSITIVE_INFINITY;
    s.max = f.max >= 0 ? d[base + f.max]! : Number.NEGATIVE_INFINITY;
    s.lastValue = f.last >= 0 ? d[base + f.last]! : Number.NaN;
    s.lastTimeMs = f.last >= 0 ? d[base + f.last + 1]! : Number.NEGATIVE_INFINITY;
    s.lastOffset = f.last >= 0 ? d[base + f.last + 2]! : -1;
    s.sketch = f.sketches ? (f.sketches[slot] ?? null) : null;
    s.hll = f.hlls ? (f.hlls[slot] ?? null) : null;
    return s;
  }

  /** The exact slot layout (empty slots included), so a restored table emits in the same order. */
  write(w: ByteWriter): void {
    this.flush();
    w.f64(this.sizeMs).f64(this.startMs).u32(this.cap).u32(this.made);
    if (this.byId) w.raw(this.present, bitBytes(this.cap));
    else w.raw(this.keys, this.cap * 4);
    w.raw(this.data, this.cap * this.stride * 8);
    for (const f of this.fields) {
      for (const side of [f.sketches, f.hlls]) {
        if (!side) continue;
        for (let s = 0; s < this.cap; s++) {
          const x = this.idAt(s) >= 0 ? side[s] : undefined;
          w.u8(x ? 1 : 0);
          if (x) x.write(w);
        }
      }
    }
  }

  /**
   * A table {@link write} wrote; `byId` and `expectedRows` as they were (the engine's snapshot
   * keeps them): the table goes on growing, or turning hashed, as the one written would have.
   */
  static read(r: ByteReader, layout: readonly FieldLayout[], byId = false, expectedRows = 0): WindowTable {
    const sizeMs = r.f64();
    const startMs = r.f64();
    const cap = r.u32();
    const rows = r.u32();
    r.expect(
      cap >= MIN_SLOTS && cap <= 1 << 30 && rows <= cap,
      `window table of ${rows} rows in ${cap} slots`,
    );
    const t = new WindowTable(sizeMs, startMs, layout, expectedRows, byId ? cap : 0);
    if (t.cap !== cap) t.allocSlots(cap);
    t.made = rows;
    if (byId) {
      r.rawInto(t.present, bitBytes(cap));
      let n = 0;
      for (let i = 0; i < t.present.length; i++) n += popcount8(t.present[i]!);
      const beyond = cap & 7 ? t.present[t.present.length - 1]! >> (cap & 7) : 0;
      r.expect(
        n === rows && beyond === 0,
        `window table indexed by id marks ${n} rows (${rows} said)${beyond ? ` and slots beyond its ${cap}` : ''}`,
      );
    } else {
      r.rawInto(t.keys, cap * 4);
    }
    r.rawInto(t.data, cap * t.stride * 8);
    for (const f of t.fields) {
      if (f.sketches) {
        for (let s = 0; s < cap; s++) {
          if (r.u8() !== 1) continue;
          const sk = DDSketch.read(r);
          f.sketches[s] = sk;
          t.sideBytes += sk.bytes();
        }
      }
      if (f.hlls) {
        for (let s = 0; s < cap; s++) {
          if (r.u8() !== 1) continue;
          const h = HyperLogLog.read(r);
          f.hlls[s] = h;
          t.sideBytes += h.bytes();
        }
      }
    }
    return t;
  }
}

/**
 * Merges one field's numbers of a source row (at `from`, columns `sf`) into a row (at `base`,
 * columns `f`): counts and sums add, min/max, the later `last` (event time, then offset).
 */
function mergeNumbers(
  d: Float64Array,
  base: number,
  f: FieldColumns,
  sd: Float64Array,
  from: number,
  sf: FieldColumns,
): void {
  const n = sd[from + sf.count]!;
  if (!(n > 0)) return;
  d[base + f.count]! += n;
  if (f.sum >= 0) d[base + f.sum]! += sd[from + sf.sum]!;
  if (f.min >= 0 && sd[from + sf.min]! < d[base + f.min]!) d[base + f.min] = sd[from + sf.min]!;
  if (f.max >= 0 && sd[from + sf.max]! > d[base + f.max]!) d[base + f.max] = sd[from + sf.max]!;
  if (f.last >= 0) {
    const at = base + f.last;
    const sat = from + sf.last;
    if (laterThan(sd[sat + 1]!, sd[sat + 2]!, d[at + 1]!, d[at + 2]!)) {
      d[at] = sd[sat]!;
      d[at + 1] = sd[sat + 1]!;
      d[at + 2] = sd[sat + 2]!;
    }
  }
}

/**
 * Whether a new window is indexed by id: the last closed window of its size had a row for nearly
 * every id in use when it closed (`rowsThen` of `idsThen`; 0: unknown, e.g. restored from an old
 * snapshot), so this one will be about as full — no more memory than a hashed table at its
 * starting load, and no probing — and it expects enough rows to matter.
 */
export function indexesById(expectedRows: number, rowsThen: number, idsThen: number): boolean {
  return expectedRows >= MIN_BY_ID_ROWS && idsThen > 0 && rowsThen >= HINT_LOAD * idsThen;
}

const NO_KEYS = new Int32Array(0);
const NO_BITS = new Uint8Array(0);
const NO_STRINGS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * A row memory from the kernel, or null when none can be had (e.g. address space limited by
 * `ulimit -v`: each WebAssembly memory reserves guard regions): the table keeps its rows on the
 * JavaScript heap and updates them in TypeScript, with the same results.
 */
function allocateRows(
  kernel: RowKernel,
  presentBytes: number,
  doubles: number,
  presentRoom: number,
): RowMemory | null {
  try {
    return kernel.allocate(presentBytes, doubles, presentRoom);
  } catch (err) {
    if (err instanceof RangeError) return null;
    throw err;
  }
}

/** Bit `i` of a bitmap (1 or 0). */
function bitAt(bits: Uint8Array, i: number): number {
  return (bits[i >> 3]! >> (i & 7)) & 1;
}

/** Bytes of a bitmap of `n` bits. */
function bitBytes(n: number): number {
  return (n + 7) >> 3;
}

function popcount8(b: number): number {
  let n = 0;
  for (let x = b; x !== 0; x &= x - 1) n++;
  return n;
}

/**
 * Merges `from` into the sketch at `slot` of `side`, created empty first when absent (never
 * shared with the source). Returns the bytes it grew by.
 */
function mergeSide<T extends { bytes(): number; merge(other: T): void }>(
  side: (T | null)[],
  slot: number,
  from: T,
  empty: () => T,
): number {
  const mine = side[slot] ?? empty();
  const before = side[slot] ? mine.bytes() : 0;
  side[slot] = mine;
  mine.merge(from);
  return mine.bytes() - before;
}
