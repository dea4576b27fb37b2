import {
  compileLayout,
  emptyFieldState,
  type FieldLayout,
  type FieldState,
  mergeFieldState,
} from '../aggregates/aggregate-layout.js';
import {
  decodePartial,
  decodePartialFields,
  encodePartial,
  partialIdentity,
  type WindowPartial,
} from '../aggregates/partial-codec.js';
import type { ByteReader, ByteWriter } from '../codec/byte-io.js';
import { seriesKeyOf, splitSeriesKey } from '../decode/series-key.js';
import type { PipelineConfig } from '../pipeline/pipeline-schema.js';
import { isClosed, windowStart } from '../window/tumbling-window.js';
import { PartialArena } from './partial-arena.js';

/**
 * Estimated heap bytes per held partial beyond its bytes in the window's arena and two bytes per
 * identity character: its Map entry and the identity string's header (an ASCII identity takes one
 * byte per character, which leaves room for these). Measured: bench emit --source merged
 * (stateHeldBytes), 78 heap bytes per partial with a 41-character identity.
 */
const PER_PARTIAL_OVERHEAD = 16;
/** An arena is compacted when this much of it (and at least half) is replaced copies. */
const COMPACT_GARBAGE_BYTES = 1 << 16;
/**
 * Estimated heap bytes per level-2 row beyond its key: its Map entry and object. Measured with the
 * others: bench emit --source merged (stateHeldBytes), 396 bytes per series with one partial each.
 */
const PER_ROW_OVERHEAD = 64;
/** Estimated heap bytes of a row's Map of partials (made when a second origin's partial arrives). */
const PER_MORE_OVERHEAD = 160;

/**
 * Rows of a closed level-2 window per emitted part: a window of a million coarser series is
 * merged and handed out part by part, so at most a sink queue's worth of parts exist as result
 * objects while the rest stays held (and charged) as partials.
 */
export const MERGED_PART_ROWS = 8_192;
/** Estimated bytes per live series for its entry in the row counts (a Map entry; the key is shared). */
const PER_SERIES_OVERHEAD = 48;

/**
 * One level-2 (series, window): the latest partial of each origin, by identity (its offset in the
 * window's arena). Most rows hold one origin's partial: it sits in the row itself, and a Map is
 * made only for the others. The key values are the series key's, recovered when merged.
 */
interface MergeRow {
  id: string;
  at: number;
  more: Map<string, number> | null;
}

/** The rows of one level-2 window, in arrival order of their series, and how many were handed out. */
interface MergeWindow {
  rows: Map<string, MergeRow>;
  /** The bytes of every partial its rows hold. */
  arena: PartialArena;
  /** Rows already merged and handed out (whole parts of MERGED_PART_ROWS; kept by snapshots). */
  taken: number;
  /**
   * A window larger than the smallest size made of panes: each row holds one state (under
   * {@link PANE_ID}), the merge of the closed smallest windows' rows inside it, instead of every
   * origin's partial of each of them. False for the smallest size, and for a larger window
   * restored from a snapshot that held origins' partials in it (it keeps receiving them).
   */
  panes: boolean;
}

/**
 * Identity of a pane row's state in a larger window: not a partial identity (those start with
 * the level-1 pipeline's name, a letter), so it can never be replaced by a partial.
 */
const PANE_ID = '\u0000pane';

/** A closed level-2 window of one series, merged. */
export interface MergedRow {
  seriesKey: string;
  keyValues: Record<string, string>;
  windowSizeMs: number;
  windowStartMs: number;
  fields: FieldState[];
  /** Part of its window (rows [part × MERGED_PART_ROWS, …) in arrival order): the same rows on a replay. */
  part: number;
}

/** Merged rows handed out by one {@link PartialMerger.take}; `more`: closed rows are left. */
export interface MergedTake {
  rows: MergedRow[];
  more: boolean;
}

export type AcceptOutcome =
  | { ok: true; timeMs: number }
  | { ok: false; reason: 'bad_partial'; detail: string }
  | { ok: false; reason: 'late'; detail: string };

/**
 * Level-2 state: partials from level 1 grouped by (window size, window start, coarser series),
 * holding the LATEST partial per origin identity (level-1 pipeline, topic, partition, series,
 * window). A replayed partial replaces the one held under its identity instead of adding to it,
 * so a level-1 replay cannot double count. Merges run at close, in identity order, so even
 * floating-point sums do not depend on arrival order.
 *
 * Only the smallest size holds origins' partials. A partial is late once its smallest window has
 * closed, so nothing can replace a closed smallest window's partials any more: its merged rows go
 * into the larger windows containing it then (panes, as at level 1), each larger row one state.
 * A 1h window over 1m partials holds one state per series, not sixty partials per origin.
 */
export class PartialMerger {
  readonly layout: FieldLayout[];
  private readonly sizes: number[];
  /**
   * Per size: window start → its rows (Maps keep insertion order: deterministic). A closed window
   * stays here until its last part is taken, so a snapshot keeps the rows not handed out yet.
   */
  private readonly open: Map<number, MergeWindow>[];
  /** Estimated heap bytes of rows, partials' identities and series; the arenas are counted in {@link bytes}. */
  private heldBytes = 0;
  /** Per series: its rows over all open windows (live series = the keys; no scan per recount). */
  private readonly rowsOf = new Map<string, number>();

  constructor(private readonly pipeline: PipelineConfig) {
    this.layout = compileLayout(pipeline.aggregates);
    this.sizes = [...pipeline.windows].sort((a, b) => a - b);
    this.open = this.sizes.map(() => new Map());
  }

  bytes(): number {
    let arenas = 0;
    for (const bySize of this.open) for (const w of bySize.values()) arenas += w.arena.capacity;
    return this.heldBytes + arenas;
  }

  openWindows(): number {
    let n = 0;
    for (const bySize of this.open) for (const w of bySize.values()) n += w.rows.size;
    return n;
  }

  liveSeries(): number {
    return this.rowsOf.size;
  }

  /** The least watermark above `afterMs` that closes one of the windows held (+∞: none). */
  nextCloseMs(afterMs: number): number {
    let due = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.sizes.length; i++) {
      for (const start of this.open[i]!.keys()) {
        const at = start + this.sizes[i]! + this.pipeline.allowedLatenessMs;
        if (at > afterMs && at < due) due = at;
      }
    }
    return due;
  }

  /** Validates and files one partial; `watermarkMs` is the partition watermark before it. */
  accept(bytes: Uint8Array, watermarkMs: number): AcceptOutcome {
    let p: WindowPartial;
    try {
      p = decodePartial(bytes);
    } catch (err) {
      return { ok: false, reason: 'bad_partial', detail: (err as Error).message };
    }
    const problem = this.check(p);
    if (problem) return { ok: false, reason: 'bad_partial', detail: problem };
    const t = p.windowStartMs;
    const smallest = this.sizes[0]!;
    if (isClosed(windowStart(t, smallest), smallest, watermarkMs, this.pipeline.allowedLatenessMs)) {
      return {
        ok: false,
        reason: 'late',
        detail: `partial of window ${new Date(t).toISOString()} arrived after watermark ${new Date(watermarkMs).toISOString()} closed its window`,
      };
    }
    const seriesKey = seriesKeyOf(this.pipeline.keyFields.map((f) => p.keyValues[f]!));
    const identity = partialIdentity(p);
    this.sizes.forEach((size, i) => {
      const start = windowStart(t, size);
      const byStart = this.open[i]!;
      let window = byStart.get(start);
      // A larger window made of panes receives the smallest windows' merged rows when they close.
      if (i > 0 && (window === undefined || window.panes)) return;
      if (!window) {
        window = emptyWindow(0, false);
        byStart.set(start, window);
      }
      const rows = window.rows;
      const arena = window.arena;
      const row = rows.get(seriesKey);
      const previous = row === undefined ? undefined : row.id === identity ? row.at : row.more?.get(identity);
      if (previous === undefined) {
        const held = this.hold(row, identity, arena.add(bytes));
        if (!row) {
          rows.set(seriesKey, held);
          this.addRow(seriesKey);
        }
        return;
      }
      placeAt(row!, identity, arena.replace(previous, bytes));
      if (arena.garbage >= COMPACT_GARBAGE_BYTES && arena.garbage * 2 >= arena.capacity) compact(window);
    });
    return { ok: true, timeMs: t };
  }

  private check(p: WindowPartial): string | undefined {
    for (const f of this.pipeline.keyFields) {
      if (p.keyValues[f] === undefined) return `partial of ${p.seriesKey} has no key field "${f}"`;
    }
    for (const size of this.sizes) {
      if (size % p.windowSizeMs !== 0) {
        return `partial window of ${p.windowSizeMs} ms does not divide this pipeline's ${size} ms window`;
      }
    }
    for (const l of this.layout) {
      const s = p.fields[l.name];
      if (!s) return `partial of ${p.seriesKey} has no field "${l.name}"`;
      if (l.quantiles && !s.sketch && s.count > 0) return `partial field "${l.name}" has no quantile sketch`;
      if (l.quantiles && s.sketch && s.sketch.relativeAccuracy !== l.quantiles.relativeAccuracy) {
        return `partial field "${l.name}" has relative accuracy ${s.sketch.relativeAccuracy}, not ${l.quantiles.relativeAccuracy}`;
      }
      if (l.distinct !== null && s.hll && s.hll.precision !== l.distinct) {
        return `partial field "${l.name}" has HLL precision ${s.hll.precision}, not ${l.distinct}`;
      }
    }
    return undefined;
  }

  /**
   * Merges and removes the rows of the windows `watermarkMs` closes (all windows when `all`),
   * smallest size first, oldest window first, in whole parts of {@link MERGED_PART_ROWS} while
   * they fit in `maxRows` (at least one part); the rest stay for later calls (`more`).
   */
  take(watermarkMs: number, all: boolean, maxRows = Number.POSITIVE_INFINITY): MergedTake {
    const out: MergedRow[] = [];
    for (let i = 0; i < this.sizes.length; i++) {
      const size = this.sizes[i]!;
      const byStart = this.open[i]!;
      const starts = [...byStart.keys()].sort((a, b) => a - b);
      for (const start of starts) {
        if (!all && !isClosed(start, size, watermarkMs, this.pipeline.allowedLatenessMs)) break;
        const window = byStart.get(start)!;
        while (window.rows.size > 0) {
          const partRows = Math.min(MERGED_PART_ROWS - (window.taken % MERGED_PART_ROWS), window.rows.size);
          if (out.length > 0 && out.length + partRows > maxRows) return { rows: out, more: true };
          const from = out.length;
          this.takePart(window, size, start, partRows, out);
          if (i === 0) for (let k = from; k < out.length; k++) this.addToPanes(out[k]!);
        }
        byStart.delete(start);
      }
    }
    return { rows: out, more: false };
  }

  /** Merges the next `n` rows of `window` (one part) into `out` and forgets their partials. */
  private takePart(window: MergeWindow, size: number, start: number, n: number, out: MergedRow[]): void {
    const part = Math.floor(window.taken / MERGED_PART_ROWS);
    let k = 0;
    for (const [seriesKey, row] of window.rows) {
      if (k++ === n) break;
      out.push({
        seriesKey,
        keyValues: this.keyValuesOf(seriesKey),
        windowSizeMs: size,
        windowStartMs: start,
        fields: this.merge(row, window.arena),
        part,
      });
      for (const [id] of partialsOf(row)) this.heldBytes -= PER_PARTIAL_OVERHEAD + id.length * 2;
      if (row.more) this.heldBytes -= PER_MORE_OVERHEAD;
      this.removeRow(seriesKey);
      window.rows.delete(seriesKey);
    }
    window.taken += n;
  }

  /**
   * Merges a closed smallest window's merged row into the row of its series in each larger window
   * made of panes (creating the window or the row): decoded, merged, encoded again in place.
   */
  private addToPanes(row: MergedRow): void {
    for (let i = 1; i < this.sizes.length; i++) {
      const size = this.sizes[i]!;
      const start = windowStart(row.windowStartMs, size);
      const byStart = this.open[i]!;
      let window = byStart.get(start);
      if (!window) {
        window = emptyWindow(0, true);
        byStart.set(start, window);
      }
      if (!window.panes) continue; // restored holding origins' partials: they arrive there directly
      const fields: Record<string, FieldState> = {};
      const held = window.rows.get(row.seriesKey);
      if (held === undefined) {
        this.layout.forEach((l, k) => {
          fields[l.name] = row.fields[k]!;
        });
      } else {
        const sofar = decodePartialFields(window.arena.get(held.at));
        this.layout.forEach((l, k) => {
          const state = sofar[l.name]!;
          mergeFieldState(state, row.fields[k]!);
          fields[l.name] = state;
        });
      }
      const bytes = encodePartial({
        origin: PANE_ORIGIN,
        seriesKey: '',
        keyValues: {},
        windowSizeMs: size,
        windowStartMs: start,
        fields,
      });
      if (held === undefined) {
        window.rows.set(row.seriesKey, this.hold(undefined, PANE_ID, window.arena.add(bytes)));
        this.addRow(row.seriesKey);
      } else {
        held.at = window.arena.replace(held.at, bytes);
        const arena = window.arena;
        if (arena.garbage >= COMPACT_GARBAGE_BYTES && arena.garbage * 2 >= arena.capacity) compact(window);
      }
    }
  }

  /** Key field → value, from the series key (the inverse of how accept made it). */
  private keyValuesOf(seriesKey: string): Record<string, string> {
    const values = splitSeriesKey(seriesKey);
    const out: Record<string, string> = {};
    this.pipeline.keyFields.forEach((f, k) => {
      out[f] = values[k]!;
    });
    return out;
  }

  private merge(row: MergeRow, arena: PartialArena): FieldState[] {
    const states = this.layout.map((l) => emptyFieldState({ ...l, quantiles: null, distinct: null }));
    // In identity order: the merge (floating-point sums too) does not depend on arrival order.
    const held = partialsOf(row).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [, at] of held) {
      const fields = decodePartialFields(arena.get(at));
      this.layout.forEach((l, k) => {
        mergeFieldState(states[k]!, fields[l.name]!);
      });
    }
    return states;
  }

  /**
   * Files a new origin's partial (`id`, at `at` in the window's arena) in `row`, or in a new row
   * when there is none, and charges its overhead; returns the row.
   */
  private hold(row: MergeRow | undefined, id: string, at: number): MergeRow {
    this.heldBytes += PER_PARTIAL_OVERHEAD + id.length * 2;
    if (!row) return { id, at, more: null };
    if (!row.more) {
      row.more = new Map();
      this.heldBytes += PER_MORE_OVERHEAD;
    }
    row.more.set(id, at);
    return row;
  }

  /** Counts a new row of `seriesKey` (and the series, on its first): its overhead is charged. */
  private addRow(seriesKey: string): void {
    const n = this.rowsOf.get(seriesKey) ?? 0;
    if (n === 0) this.heldBytes += PER_SERIES_OVERHEAD;
    this.rowsOf.set(seriesKey, n + 1);
    this.heldBytes += PER_ROW_OVERHEAD + seriesKey.length * 2;
  }

  private removeRow(seriesKey: string): void {
    const n = this.rowsOf.get(seriesKey)! - 1;
    if (n === 0) {
      this.rowsOf.delete(seriesKey);
      this.heldBytes -= PER_SERIES_OVERHEAD;
    } else {
      this.rowsOf.set(seriesKey, n);
    }
    this.heldBytes -= PER_ROW_OVERHEAD + seriesKey.length * 2;
  }

  /** Writes the held rows; each window with its count of rows taken (the snapshot version 4 layout). */
  write(w: ByteWriter): void {
    w.u32(this.sizes.length);
    this.sizes.forEach((size, i) => {
      const byStart = this.open[i]!;
      w.f64(size).u32(byStart.size);
      for (const [start, window] of byStart) {
        w.f64(start).u32(window.taken).u32(window.rows.size);
        for (const [seriesKey, row] of window.rows) {
          const held = partialsOf(row);
          w.str(seriesKey)
            .str(JSON.stringify(this.keyValuesOf(seriesKey)))
            .u32(held.length);
          for (const [id, at] of held) w.str(id).bytes(window.arena.get(at));
        }
      }
    });
  }

  /** Reads what {@link write} wrote; `withTaken`: false for snapshots before version 4 (no parts taken). */
  read(r: ByteReader, withTaken: boolean): void {
    const n = r.u32();
    r.expect(n === this.sizes.length, `${n} level-2 window sizes, the pipeline has ${this.sizes.length}`);
    for (let i = 0; i < n; i++) {
      const size = r.f64();
      r.expect(size === this.sizes[i], `level-2 window size ${size} is not the pipeline's ${this.sizes[i]}`);
      const byStart = this.open[i]!;
      const nStarts = r.u32();
      for (let s = 0; s < nStarts; s++) {
        const start = r.f64();
        // Made of panes unless a row holds an origin's partial (written before panes): see below.
        const window = emptyWindow(withTaken ? r.u32() : 0, i > 0);
        const { rows, arena } = window;
        const nRows = r.u32();
        for (let k = 0; k < nRows; k++) {
          const seriesKey = r.str();
          // The key values are the series key's (written for readers of older versions).
          const keyValues = r.str();
          r.expect(
            keyValues === JSON.stringify(this.keyValuesOf(seriesKey)),
            `level-2 key values ${keyValues} are not those of series ${JSON.stringify(seriesKey)}`,
          );
          const nP = r.u32();
          r.expect(nP > 0, `level-2 row of series ${JSON.stringify(seriesKey)} holds no partial`);
          this.addRow(seriesKey);
          let row: MergeRow | undefined;
          for (let j = 0; j < nP; j++) {
            const id = r.str();
            if (id !== PANE_ID) window.panes = false;
            row = this.hold(row, id, arena.add(r.bytes()));
          }
          rows.set(seriesKey, row!);
        }
        byStart.set(start, window);
      }
    }
  }
}

function emptyWindow(taken: number, panes: boolean): MergeWindow {
  return { rows: new Map<string, MergeRow>(), arena: new PartialArena(), taken, panes };
}

/** The origin written in a pane's state (never read: a pane is known by its identity). */
const PANE_ORIGIN = { pipeline: '', topic: '', partition: 0 };

/** A row's partials as (identity, arena offset): its own first, then the others in arrival order. */
function partialsOf(row: MergeRow): [string, number][] {
  const out: [string, number][] = [[row.id, row.at]];
  if (row.more) for (const entry of row.more) out.push(entry);
  return out;
}

/** Rewrites a window's arena with only the copies its rows still hold. */
function compact(window: MergeWindow): void {
  const owners: [MergeRow, string][] = [];
  const offsets: number[] = [];
  for (const row of window.rows.values()) {
    for (const [id, at] of partialsOf(row)) {
      owners.push([row, id]);
      offsets.push(at);
    }
  }
  window.arena.compact(offsets, (i, to) => {
    const [row, id] = owners[i]!;
    placeAt(row, id, to);
  });
}

/** Records that `row`'s partial of origin `id` now sits at `at` in the window's arena. */
function placeAt(row: MergeRow, id: string, at: number): void {
  if (row.id === id) row.at = at;
  else row.more!.set(id, at);
}
