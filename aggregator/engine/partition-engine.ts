import {
  blankFieldState,
  compileLayout,
  type FieldLayout,
  type FieldState,
  finishField,
} from '../aggregates/aggregate-layout.js';
import { encodePartial } from '../aggregates/partial-codec.js';
import { ByteReader, type Bytes, ByteWriter } from '../codec/byte-io.js';
import type { DecodedRecord } from '../decode/decoder.js';
import { splitSeriesKey } from '../decode/series-key.js';
import type { PipelineConfig } from '../pipeline/pipeline-schema.js';
import {
  StateMachineTable,
  type StateMachineTableOptions,
  type Transition,
} from '../state-machine/state-machine-table.js';
import { type LogTarget, TransitionLog } from '../state-machine/transition-log.js';
import { type MemoryAccount, unlimitedAccount } from '../store/memory-manager.js';
import { SeriesDictionary } from '../store/series-dictionary.js';
import { indexesById, WindowTable } from '../store/window-table.js';
import { isClosed, windowStart } from '../window/tumbling-window.js';
import { MERGED_PART_ROWS, PartialMerger } from './partial-merger.js';

/** Finished aggregates of one field over one window (only the declared kinds are present). */
export interface FieldAggregates {
  /** Records that carried the field. */
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  /** sum / count. */
  mean?: number;
  /** Value of the record with the greatest event time (ties: the greater offset). */
  last?: number;
  /** Quantile → value, keys as declared (`'0.5'`, `'0.99'`), within the sketch's relative accuracy. */
  quantiles?: Record<string, number>;
  /** Distinct values (HyperLogLog estimate). */
  distinct?: number;
}

/** One closed window of one series: what the sinks write (upsert key: pipeline, seriesKey, windowSizeMs, windowStartMs). */
export interface WindowResult {
  pipeline: string;
  seriesKey: string;
  /** Key field → value. */
  keyValues: Record<string, string>;
  windowSizeMs: number;
  /** Inclusive start of [start, start + size), epoch ms. */
  windowStartMs: number;
  /** Field → aggregates. */
  aggregates: Record<string, FieldAggregates>;
  /**
   * Serialized mergeable state of this window (aggregates/partial-codec.ts), carrying its origin
   * (pipeline, topic, partition, series, window). Present when the pipeline declares `nextLevel`
   * or a Kafka sink; a level-2 engine merges it with {@link PartitionEngine.processPartial}.
   */
  partial?: Uint8Array;
  /**
   * Which part of its window's rows (of one source partition) this row was handed out in: a closed
   * window is emitted in parts of at most {@link PART_SLOTS} table slots, and a part always holds
   * the same rows (a snapshot keeps the slot layout), so an S3 object per part is rewritten
   * identically by a replay. A level-2 window: parts of {@link MERGED_PART_ROWS} rows in the
   * order their series arrived (a snapshot keeps the order and the parts taken). Absent: 0.
   */
  part?: number;
}

/**
 * Transitions per part handed to a sink that groups them (see Transition.part): an S3 object of
 * at most this many lines.
 */
export const TRANSITION_PART_ROWS = 8_192;

/**
 * Slots of a closed window's table per emitted part (≤ 14,418 rows at the tables' highest load).
 * A window of a million series is handed to the sinks part by part, so at most a few parts of
 * result objects (~420 bytes per row) exist at once; the rest stays in typed storage (~60 bytes
 * per row), charged to the memory budget.
 */
export const PART_SLOTS = 16_384;

/** What happened to one input. `late` and `bad_partial` become dead letters with that reason. */
export type ProcessOutcome = { ok: true } | Refused;
export type Refused = { ok: false; reason: 'late' | 'bad_partial'; detail: string };

/** Outputs ready for the sink, in deterministic order (same input sequence → same arrays). */
export interface EngineOutputs {
  results: WindowResult[];
  transitions: Transition[];
  /** Closed rows are left for the next call (it was given a row limit). */
  more: boolean;
}

export interface EngineStats {
  /** Bytes of state this engine holds (also charged to its memory account). */
  stateBytes: number;
  /** Series with at least one open window. */
  liveSeries: number;
  /**
   * Open (series, window) rows over all window sizes. A larger window holds a row for a series
   * once a smaller window of that series inside it has closed (merged up).
   */
  openWindows: number;
  /** Records (or partials) applied since creation or restore. */
  updates: number;
  /** Records refused as late since creation or restore. */
  lateRecords: number;
  /** Partition watermark: greatest event time seen (-Infinity before the first record). */
  watermarkMs: number;
  /**
   * Where the series dictionary looks keys up: `webassembly` (the worker's kernel), or
   * `javascript` (no kernel loaded, or no WebAssembly memory could be had: about half as fast).
   */
  keyLookup: KeyLookupKind;
  /**
   * Where the rows of the newest open window of the smallest size are updated: `webassembly`
   * (indexed by series id, no sketches: see WindowTable.defer) or `javascript` (a hashed window,
   * e.g. the first of its size or one of churning series; sketches; no kernel or no memory).
   */
  rowUpdates: KeyLookupKind;
}

export type KeyLookupKind = 'webassembly' | 'javascript';

/** One window table of an engine (see {@link PartitionEngine.tables}). */
export interface TableInfo {
  sizeMs: number;
  startMs: number;
  state: 'open' | 'closed';
  rows: number;
  slots: number;
  /** `id`: a row's slot is its series id (a window of nearly every live series); `hash`: open addressing. */
  indexedBy: 'id' | 'hash';
  bytes: number;
}

export interface PartitionEngineOptions {
  pipeline: PipelineConfig;
  topic: string;
  partition: number;
  /** The worker's memory manager account for this pipeline; a private unlimited one if absent. */
  memory?: MemoryAccount;
}

/** Version 1: the series dictionary as (id, key) entries, rebuilt on restore. Still read. */
const MAGIC_V1 = 0x4c414531; // "LAE1"
/** Version 2: the series dictionary as its typed arrays, copied on restore. Still read. */
const MAGIC_V2 = 0x4c414532; // "LAE2"
/**
 * Version 3: as version 2, plus a flag per table (`direct`). Still read. Engines before version 3
 * applied each record to every size, so the tables of an older snapshot are all direct.
 */
const MAGIC_V3 = 0x4c414533; // "LAE3"
/**
 * Version 4: as version 3, plus per level-2 window the rows already handed out (its parts taken).
 * Still read. Older snapshots held a closed level-2 window's rows as results (`mergedPending`).
 */
const MAGIC_V4 = 0x4c414534; // "LAE4"
/**
 * Version 5: as version 4, with each table's flags before it (bit 0 `direct`, bit 1 rows
 * indexed by series id), per size the id space when its last window closed, and after the
 * pending transitions the number taken so far and the seals (grouped transitions). Still read.
 */
const MAGIC_V5 = 0x4c414535; // "LAE5"
/**
 * Version 6: as version 5, with the series dictionary's arrays as they are in memory ((id, hash)
 * slots, 32 bytes of metadata per id with short keys in it, the arena of long keys), copied on
 * restore; versions 2–5 wrote three words per id and every key in the arena. Written.
 */
const MAGIC = 0x4c414536; // "LAE6"
const OK: ProcessOutcome = Object.freeze({ ok: true });
/** Memory is re-counted (and charged) every this many updates, and at every drain. */
const RECOUNT_EVERY = 1024;
/** Records whose reads {@link PartitionEngine.processBatch} overlaps (~7 cache lines each: well within L2). */
const CHUNK = 64;

/**
 * The pure aggregation state of one (pipeline, topic, partition): tumbling windows of every
 * declared size, per-key state machines, the partition watermark, all in typed storage charged
 * to the memory manager. Deterministic: the outputs depend only on the sequence of inputs, and
 * `restore(snapshot())` continues exactly as the uninterrupted engine would.
 *
 * Event time: the watermark is the greatest event time seen in the partition. A window
 * [start, end) closes when watermark ≥ end + allowedLatenessMs and is emitted once. A record is
 * late when its window of the smallest size has closed: it is refused (dead letter `late`) and
 * aggregated nowhere, so a larger window always equals the merge of the smaller ones inside it —
 * which is how larger windows are built: a record updates its smallest window only, and a
 * closing smallest window merges its rows into the larger windows containing it (panes).
 */
export class PartitionEngine {
  private readonly pipeline: PipelineConfig;
  private readonly topic: string;
  private readonly partition: number;
  private readonly account: MemoryAccount;
  private readonly layout: FieldLayout[];
  private readonly sizes: number[];
  private readonly lateness: number;
  private readonly keyFields: string[];
  private readonly withPartials: boolean;
  private readonly dict = new SeriesDictionary();
  /** Per size (ascending): open windows, oldest first. */
  private readonly open: WindowTable[][];
  /** Per size: rows of the last closed window (initial capacity of the next one: no regrowth). */
  private readonly rowsHint: number[];
  /**
   * Per size: the id space (every id in use below it) when that window closed; 0 unknown. Its
   * rows over this are the share of ids it had a row for: a next window indexed by id is then
   * about as full.
   */
  private readonly idsHint: number[];
  /**
   * Closed, not yet drained, in closing order. Rows of the first one before slot `drainSlot` are
   * drained: their key slots are zeroed (a snapshot keeps only the rest; the table is never probed
   * again), and its memory is given back when the last part is drained.
   */
  private closed: WindowTable[] = [];
  private drainSlot = 0;
  private readonly machines: StateMachineTable[];
  /**
   * Per size: the open table last written and its [start, end): consecutive records mostly
   * fall in the same window, so this skips the window arithmetic and the list search.
   */
  private readonly current: (WindowTable | null)[];
  private readonly currentStart: Float64Array;
  private readonly currentEnd: Float64Array;
  /** Updates left until `updates` reaches the next multiple of RECOUNT_EVERY (a memory recount). */
  private untilRecount = RECOUNT_EVERY;
  private readonly merger: PartialMerger | null;
  /** Merged rows a snapshot before version 4 held as results: handed out first. */
  private mergedPending: WindowResult[] = [];
  /** Transitions not yet taken, in the order they happened (compact: see TransitionLog). */
  private readonly log = new TransitionLog();
  /** Per machine: where it logs (its index is its source in `log`). */
  private readonly logTargets: LogTarget[];
  /**
   * Transitions are handed out in sealed parts (the pipeline writes to S3: an object per part),
   * not as soon as they happen. They are sealed when a window of the smallest size closes, and
   * by a flush: points that depend only on the input, so a replay seals the same ones.
   */
  private readonly groupTransitions: boolean;
  /** Transitions handed out since the partition began (carried by snapshots): the first pending one's number. */
  private transitionsTaken = 0;
  /** Grouping: sequence numbers up to which the transitions logged were sealed, ascending, each above the pending ones' first. */
  private seals: number[] = [];
  private watermark = Number.NEGATIVE_INFINITY;
  private updates = 0;
  private late = 0;
  private chargedBytes = 0;
  private chargedSeries = 0;
  private released = false;
  /** Chunk buffers of {@link processBatch}: keys, their hashes, ASCII flags, their likely ids (SeriesDictionary.prefetch). */
  private readonly chunkHashes = new Int32Array(CHUNK);
  private readonly chunkAscii = new Uint8Array(CHUNK);
  private readonly chunkIds = new Int32Array(CHUNK);
  /** Per field, the state drainPart fills for each row it emits. */
  private readonly drainStates: FieldState[];
  /** Folds the prefetch loads' values, so the compiler keeps the loads. */
  private prefetched = 0;
  /**
   * The table of the smallest size whose row updates are deferred (applied in batches in
   * WebAssembly, see WindowTable.defer), or null. Applied at the end of every process and
   * processBatch, so that between calls every row and reference count is up to date.
   */
  private deferring: WindowTable | null = null;
  /** Counts a table's reference to a series id when it gives it a row. */
  private readonly addRef = (seriesId: number): void => this.dict.addRef(seriesId);

  constructor(opts: PartitionEngineOptions) {
    this.pipeline = opts.pipeline;
    this.topic = opts.topic;
    this.partition = opts.partition;
    this.account = opts.memory ?? unlimitedAccount(opts.pipeline.name);
    this.layout = compileLayout(opts.pipeline.aggregates);
    this.drainStates = this.layout.map(() => blankFieldState());
    this.sizes = [...opts.pipeline.windows].sort((a, b) => a - b);
    this.lateness = opts.pipeline.allowedLatenessMs;
    this.keyFields = [...opts.pipeline.keyFields];
    this.withPartials = opts.pipeline.nextLevel !== undefined || opts.pipeline.sink.type === 'kafka';
    this.open = this.sizes.map(() => []);
    this.rowsHint = this.sizes.map(() => 0);
    this.idsHint = this.sizes.map(() => 0);
    this.current = this.sizes.map(() => null);
    this.currentStart = new Float64Array(this.sizes.length);
    this.currentEnd = new Float64Array(this.sizes.length);
    this.clearCache();
    this.machines = opts.pipeline.stateMachines.map(
      (def) => new StateMachineTable(def, this.machineOptions()),
    );
    this.logTargets = this.machines.map((_, source) => ({ log: this.log, source }));
    this.groupTransitions = opts.pipeline.sink.type === 's3';
    this.merger = opts.pipeline.source.format === 'partial' ? new PartialMerger(opts.pipeline) : null;
    this.recount();
  }

  process(record: DecodedRecord, offset: number): ProcessOutcome {
    const out = this.apply(record, offset, 0, 0, -1);
    this.applyDeferred();
    return out;
  }

  /** Applies the deferred row updates (see {@link deferring}). */
  private applyDeferred(): void {
    this.deferring?.flush();
    this.deferring = null;
  }

  /**
   * Applies `records[0..n)` with `offsets[0..n)` in order: the same state and outputs as `n` calls
   * of {@link process} (`onRefused` gets the index and outcome of each refused one). Faster at many
   * keys: one record's reads of the series dictionary and the window tables miss the cache one
   * after another (each waits for the previous one's result), so this first reads what a chunk of
   * records will need, stage by stage over the chunk with no record waiting on another, letting
   * the CPU overlap those misses, then applies the records from cache.
   */
  processBatch(
    records: readonly DecodedRecord[],
    offsets: ArrayLike<number>,
    n: number,
    onRefused?: (index: number, outcome: Refused) => void,
  ): void {
    for (let from = 0; from < n; from += CHUNK) {
      const to = Math.min(n, from + CHUNK);
      const removals = this.dict.removals;
      this.prefetch(records, from, to);
      const hashes = this.chunkHashes;
      const ascii = this.chunkAscii;
      const ids = this.chunkIds;
      // Exact ids (looked up in WebAssembly) hold while no id is freed; absent keys (-1) may have
      // been added by an earlier record of the chunk, which intern finds.
      const exact = this.dict.exactPrefetch;
      if (exact && this.deferChunk(records, offsets, from, to)) continue;
      for (let j = from; j < to; j++) {
        const known = exact && this.dict.removals === removals ? ids[j - from]! : -1;
        const out = this.apply(records[j]!, offsets[j]!, hashes[j - from]!, ascii[j - from]!, known);
        if (!out.ok && onRefused) onRefused(j, out);
      }
    }
    this.applyDeferred();
  }

  /**
   * The steady state's chunk, applied without {@link apply}'s per-record decisions: when every
   * record's series is known (exact ids), falls in the cached window of the smallest size, whose
   * rows are updated in WebAssembly, and the chunk's greatest event time closes no window, fires
   * no timer and reaches no memory recount, each record only queues its row update (what
   * {@link apply} would do for it) and the watermark moves to that greatest time at the end.
   * Returns false, having changed nothing, when the chunk is not such a one.
   */
  private deferChunk(
    records: readonly DecodedRecord[],
    offsets: ArrayLike<number>,
    from: number,
    to: number,
  ): boolean {
    const table = this.current[0];
    const m = to - from;
    if (!table?.deferrable || table.direct || this.machines.length > 0 || this.untilRecount <= m)
      return false;
    const ids = this.chunkIds;
    const start = this.currentStart[0]!;
    const end = this.currentEnd[0]!;
    let latest = this.watermark;
    for (let j = from; j < to; j++) {
      const t = records[j]!.eventTimeMs;
      if (!(t >= start && t < end) || ids[j - from]! < 0) return false;
      if (t > latest) latest = t;
    }
    if (latest > this.watermark && latest >= this.nextDueMs()) return false;
    if (table !== this.deferring) {
      this.deferring?.flush();
      this.deferring = table;
    }
    table.deferAll(ids, records, from, to, offsets);
    this.watermark = latest;
    this.updates += m;
    this.untilRecount -= m;
    return true;
  }

  /** Reads what records[from..to) will (see {@link processBatch}); changes nothing but the chunk buffers. */
  private prefetch(records: readonly DecodedRecord[], from: number, to: number): void {
    const m = to - from;
    const ids = this.chunkIds;
    let sink = this.dict.prefetch(records, from, m, this.chunkHashes, this.chunkAscii, ids);
    const sizes = this.current[0]?.direct ? this.current.length : 1;
    for (let i = 0; i < sizes; i++) {
      const table = this.current[i];
      // A deferring table reads its rows ahead itself, when it applies them.
      if (!table || table.deferrable) continue;
      const start = this.currentStart[i]!;
      const end = this.currentEnd[i]!;
      for (let j = 0; j < m; j++) {
        const id = ids[j]!;
        const t = records[from + j]!.eventTimeMs;
        if (id >= 0 && t >= start && t < end) sink ^= table.touch(id);
      }
    }
    this.prefetched ^= sink;
  }

  /**
   * {@link process}, with the key's hash when {@link prefetch} computed it (`ascii` 1), and its id
   * when that lookup was exact and found it (`known` ≥ 0).
   */
  private apply(
    record: DecodedRecord,
    offset: number,
    hash: number,
    ascii: number,
    known: number,
  ): ProcessOutcome {
    const t = record.eventTimeMs;
    const cur = this.current;
    const curStart = this.currentStart;
    // The smallest size's cached table is open (the cache is cleared when it closes), so a
    // record inside it is on time; otherwise decide from its window start.
    if (!(t >= curStart[0]! && t < this.currentEnd[0]!)) {
      const smallest = this.sizes[0]!;
      if (isClosed(windowStart(t, smallest), smallest, this.watermark, this.lateness))
        return this.refuseLate(t);
    }
    if (t > this.watermark) this.advance(t);
    const id =
      ascii !== 1
        ? this.dict.intern(record.seriesKey)
        : known >= 0
          ? known
          : this.dict.internHashed(record.seriesKey, hash);
    const numbers = record.numbers;
    const strings = record.strings;
    const curEnd = this.currentEnd;
    // Only the smallest window takes the record; the larger ones receive its rows when it
    // closes (mergeUp). A window restored as `direct` predates that: its records go everywhere.
    let sizes = 1;
    for (let i = 0; i < sizes; i++) {
      let table = cur[i] ?? null;
      if (table === null || !(t >= curStart[i]! && t < curEnd[i]!)) table = this.cacheTable(i, t);
      if (i === 0 && table.direct) sizes = cur.length;
      else if (i === 0 && table.deferrable) {
        if (table !== this.deferring) {
          this.deferring?.flush();
          this.deferring = table;
        }
        table.defer(id, numbers, t, offset);
        continue;
      }
      const slot = table.slotOf(id);
      if (table.isNew) {
        table.isNew = false;
        this.dict.addRef(id);
      }
      table.update(slot, numbers, strings, t, offset);
    }
    const machines = this.machines;
    if (machines.length > 0) {
      for (let m = 0; m < machines.length; m++)
        machines[m]!.onRecord(record, String(offset), this.logTargets[m]);
    }
    this.updates++;
    if (--this.untilRecount === 0) {
      this.untilRecount = RECOUNT_EVERY;
      this.recount();
    }
    return OK;
  }

  private refuseLate(t: number): ProcessOutcome {
    this.late++;
    return {
      ok: false,
      reason: 'late',
      detail: `event time ${new Date(t).toISOString()} is in a window closed by watermark ${new Date(this.watermark).toISOString()} (allowedLatenessMs ${this.lateness})`,
    };
  }

  /**
   * Keys resting in their machine's initial state are evicted once no record older than their
   * timer base can be accepted any more: a record is late when its smallest window has closed,
   * so every record accepted after watermark W has time > W − smallest size − lateness.
   */
  private machineOptions(): StateMachineTableOptions {
    return { evictIdleAfterMs: this.sizes[0]! + this.lateness };
  }

  /** Finds (or opens) the table of size `sizeIdx` holding time `t` and makes it the cached one. */
  private cacheTable(sizeIdx: number, t: number): WindowTable {
    const size = this.sizes[sizeIdx]!;
    const start = windowStart(t, size);
    const table = this.tableFor(sizeIdx, start);
    this.current[sizeIdx] = table;
    this.currentStart[sizeIdx] = start;
    this.currentEnd[sizeIdx] = start + size;
    return table;
  }

  /** Forgets every cached table (a table closed or the open lists were replaced). */
  private clearCache(): void {
    for (let i = 0; i < this.current.length; i++) {
      this.current[i] = null;
      this.currentStart[i] = Number.POSITIVE_INFINITY;
      this.currentEnd[i] = Number.NEGATIVE_INFINITY;
    }
  }

  processPartial(partial: Uint8Array, _offset: number): ProcessOutcome {
    if (!this.merger) {
      return {
        ok: false,
        reason: 'bad_partial',
        detail: `pipeline ${this.pipeline.name} reads raw records (source.format json), not partials`,
      };
    }
    const outcome = this.merger.accept(partial, this.watermark);
    if (!outcome.ok) {
      if (outcome.reason === 'late') this.late++;
      return outcome;
    }
    if (outcome.timeMs > this.watermark) {
      this.watermark = outcome.timeMs;
      this.clearCache();
    }
    this.updates++;
    if (--this.untilRecount === 0) {
      this.untilRecount = RECOUNT_EVERY;
      this.recount();
    }
    return OK;
  }

  /**
   * The open window of size `sizeIdx` starting at `start`, opened when absent. `within`: the
   * window of the smallest size closing into it (mergeUp), whose rows it will all hold.
   */
  private tableFor(sizeIdx: number, start: number, within?: WindowTable): WindowTable {
    const list = this.open[sizeIdx]!;
    // Size a new window like the last closed one (no regrowth), but never beyond the series
    // live now: memory freed by a closing window is not re-reserved for keys that went quiet.
    let expected = Math.min(this.rowsHint[sizeIdx]!, this.dict.size());
    let at = 0;
    for (let j = list.length - 1; j >= 0; j--) {
      const tb = list[j]!;
      if (tb.startMs === start) return tb;
      if (tb.startMs < start) {
        at = j + 1;
        break;
      }
    }
    // Ids in use when the last window closed, not now: a window of a different fifth of the
    // series every minute opens when only the last fifth is live.
    let byId = indexesById(expected, this.rowsHint[sizeIdx]!, this.idsHint[sizeIdx]!);
    // Open windows this one will be at least about as full as, whose ids in use are those now:
    // - the one before it of its size, still open (its lateness): a row for each series seen in it
    //   so far. The only hint in a partition's first minutes, when no window of this size has
    //   closed yet (or only a few stragglers' one);
    // - for a larger window, the smaller one closing into it: it will hold every row of that one
    //   (the first window of a size too).
    // Their rows hold their series (a reference each), so they never exceed the series live now.
    for (const like of [at > 0 ? list[at - 1] : undefined, within]) {
      if (!like) continue;
      expected = Math.max(expected, like.rows);
      byId ||= indexesById(like.rows, like.rows, this.dict.idSpace());
    }
    const created = new WindowTable(
      this.sizes[sizeIdx]!,
      start,
      this.layout,
      expected,
      byId ? this.dict.idSpace() : 0,
    );
    created.newRowSink = this.addRef;
    list.splice(at, 0, created);
    return created;
  }

  /** Moves the watermark to `t`: closes windows it passes (smaller sizes first, oldest first) and fires timeouts. */
  private advance(t: number): void {
    this.watermark = t;
    let closedSmallest = false;
    for (let i = 0; i < this.sizes.length; i++) {
      const list = this.open[i]!;
      let n = 0;
      while (n < list.length && isClosed(list[n]!.startMs, list[n]!.sizeMs, t, this.lateness)) n++;
      if (n > 0) {
        if (i === 0) closedSmallest = true;
        this.clearCache();
        for (const tb of list.splice(0, n)) {
          // Smaller sizes close first: a window's larger windows are still open here.
          if (i === 0) this.mergeUp(tb);
          this.rowsHint[i] = tb.rows;
          this.idsHint[i] = this.dict.idSpace();
          this.closed.push(tb);
        }
      }
    }
    for (let m = 0; m < this.machines.length; m++) this.machines[m]!.onWatermark(t, this.logTargets[m]);
    if (this.groupTransitions && closedSmallest) this.sealTransitions();
  }

  /** Seals the transitions logged so far (grouping): they may be handed out, in parts ending here. */
  private sealTransitions(): void {
    const end = this.transitionsTaken + this.log.length;
    if (end > (this.seals.at(-1) ?? this.transitionsTaken)) this.seals.push(end);
  }

  /**
   * Grouping: whole sealed parts while they fit in `room` (the first one even when it does not,
   * if `atLeastOne`), each transition with its number and part.
   */
  private takeSealed(room: number, atLeastOne: boolean): Transition[] {
    const out: Transition[] = [];
    while (this.seals.length > 0) {
      const from = this.transitionsTaken;
      const to = Math.min(this.seals[0]!, from - (from % TRANSITION_PART_ROWS) + TRANSITION_PART_ROWS);
      if (out.length + (to - from) > room && !(atLeastOne && out.length === 0)) break;
      const part = { from, to };
      const taken = this.log.take(to - from, this.machines);
      for (let k = 0; k < taken.length; k++) {
        const t = taken[k]!;
        t.seq = from + k;
        t.part = part;
        out.push(t);
      }
      this.transitionsTaken = to;
      if (to === this.seals[0]) this.seals.shift();
    }
    return out;
  }

  /**
   * Adds the rows of a closing window of the smallest size to the window of each larger size
   * that contains it (sizes divide each other), as panes make up larger windows: a record
   * updates one row, not one per size, and each larger row is updated once per smaller window.
   */
  private mergeUp(tb: WindowTable): void {
    if (tb.direct) return;
    for (let i = 1; i < this.sizes.length; i++) {
      const into = this.tableFor(i, windowStart(tb.startMs, this.sizes[i]!), tb);
      // Rows come in slot order, i.e. in the order of their hash. Inserted in that order into a
      // table that must grow meanwhile, they would all land in its first slots, one long probe
      // chain (quadratic): count the new ones first and make room for them all (a table indexed
      // by id first makes room for the highest id, or turns hashed).
      if (into.byId) into.reserveId(tb.maxId());
      if (into.mergeAllById(tb, this.addRef)) continue;
      if (!into.fits(into.rows + tb.rows)) {
        let fresh = 0;
        for (let slot = 0; slot < tb.cap; slot++) {
          const id = tb.idAt(slot);
          if (id >= 0 && !into.has(id)) fresh++;
        }
        into.reserve(into.rows + fresh);
      }
      // Chunk by chunk, the target rows are read ahead first (see processBatch).
      for (let from = 0; from < tb.cap; from += CHUNK) {
        const to = Math.min(tb.cap, from + CHUNK);
        let sink = 0;
        for (let slot = from; slot < to; slot++) {
          const id = tb.idAt(slot);
          // The target row, and the series' reference count (a new row adds a reference).
          if (id >= 0) sink ^= into.touch(id) ^ this.dict.refsWord(id);
        }
        this.prefetched ^= sink;
        for (let slot = from; slot < to; slot++) {
          const id = tb.idAt(slot);
          if (id < 0) continue;
          const at = into.slotOf(id);
          if (into.isNew) {
            into.isNew = false;
            this.dict.addRef(id);
          }
          into.mergeRow(at, tb, slot);
        }
      }
    }
  }

  private result(
    seriesKey: string,
    keyValues: Record<string, string>,
    windowSizeMs: number,
    windowStartMs: number,
    states: FieldState[],
    part: number,
  ): WindowResult {
    const aggregates: Record<string, FieldAggregates> = {};
    for (let k = 0; k < this.layout.length; k++) {
      const l = this.layout[k]!;
      aggregates[l.name] = finishField(l, states[k]!);
    }
    const r: WindowResult = {
      pipeline: this.pipeline.name,
      seriesKey,
      keyValues,
      windowSizeMs,
      windowStartMs,
      aggregates,
      part,
    };
    if (this.withPartials) {
      const fields: Record<string, FieldState> = {};
      for (let k = 0; k < this.layout.length; k++) fields[this.layout[k]!.name] = states[k]!;
      r.partial = encodePartial({
        origin: { pipeline: this.pipeline.name, topic: this.topic, partition: this.partition },
        seriesKey,
        keyValues,
        windowSizeMs,
        windowStartMs,
        fields,
      });
    }
    return r;
  }

  private keyValuesOf(seriesKey: string): Record<string, string> {
    const kf = this.keyFields;
    const values = kf.length === 1 ? [seriesKey] : splitSeriesKey(seriesKey);
    const out: Record<string, string> = {};
    for (let i = 0; i < kf.length; i++) out[kf[i]!] = values[i] ?? '';
    return out;
  }

  /**
   * Takes the outputs produced so far: closed windows' rows in closing order, then slot order
   * (a merging level: its closed windows' merged rows), then the transitions in the order they
   * happened. With `maxRows`, the rows of whole parts ({@link PART_SLOTS} slots, or
   * {@link MERGED_PART_ROWS} merged rows) while they fit in `maxRows` (at least one part), then
   * transitions up to `maxRows` rows in all; the rest is left for later calls (`more`).
   */
  drainClosed(maxRows = Number.POSITIVE_INFINITY): EngineOutputs {
    return this.takeOutputs(maxRows, false);
  }

  private takeOutputs(maxRows: number, all: boolean): EngineOutputs {
    const results: WindowResult[] = this.mergedPending;
    this.mergedPending = [];
    let more = false;
    if (this.merger) {
      const merged = this.merger.take(this.watermark, all, maxRows - results.length);
      for (const row of merged.rows) {
        results.push(
          this.result(
            row.seriesKey,
            row.keyValues,
            row.windowSizeMs,
            row.windowStartMs,
            row.fields,
            row.part,
          ),
        );
      }
      more = merged.more;
    }
    while (!more && this.closed.length > 0) {
      const tb = this.closed[0]!;
      while (this.drainSlot < tb.cap) {
        const from = this.drainSlot;
        const to = Math.min(tb.cap, from - (from % PART_SLOTS) + PART_SLOTS);
        if (results.length > 0 && results.length + tb.rowsIn(from, to) > maxRows) break;
        this.drainPart(tb, from, to, results);
        this.drainSlot = to;
      }
      if (this.drainSlot < tb.cap) break;
      this.closed.shift();
      this.drainSlot = 0;
    }
    more ||= this.closed.length > 0;
    const room = results.length === 0 ? maxRows : more ? 0 : maxRows - results.length;
    let transitions: Transition[];
    if (this.groupTransitions) {
      if (all) this.sealTransitions();
      transitions = room > 0 ? this.takeSealed(room, results.length === 0) : [];
      more ||= this.seals.length > 0;
    } else {
      transitions = room > 0 ? this.log.take(room, this.machines) : [];
      this.transitionsTaken += transitions.length;
      more ||= this.log.length > 0;
    }
    this.recount();
    return { results, transitions, more };
  }

  /** Emits the rows of `tb` in slots [from, to) (one part) into `results` and zeroes their slots. */
  private drainPart(tb: WindowTable, from: number, to: number, results: WindowResult[]): void {
    const nFields = this.layout.length;
    // One state per field for every row: result() consumes them at once (finished, encoded).
    const states = this.drainStates;
    const part = Math.floor(from / PART_SLOTS);
    const ids = this.chunkIds;
    for (let at = from; at < to; at += CHUNK) {
      const end = Math.min(to, at + CHUNK);
      // Rows come in slot order, their series in no order: read their keys' metadata and bytes
      // for the chunk first (overlapped misses), as processBatch does.
      let n = 0;
      for (let slot = at; slot < end; slot++) {
        const id = tb.idAt(slot);
        if (id >= 0) ids[n++] = id;
      }
      this.prefetched ^= this.dict.touchKeys(ids, n);
      for (let slot = at; slot < end; slot++) {
        const id = tb.idAt(slot);
        if (id < 0) continue;
        const seriesKey = this.dict.key(id);
        for (let k = 0; k < nFields; k++) tb.fieldState(slot, k, states[k]);
        const kv =
          this.keyFields.length === 1
            ? { [this.keyFields[0]!]: unescapeSingle(seriesKey) }
            : this.keyValuesOf(seriesKey);
        results.push(this.result(seriesKey, kv, tb.sizeMs, tb.startMs, states, part));
        tb.clearSlot(slot);
        this.dict.release(id);
      }
    }
  }

  flush(): EngineOutputs {
    this.clearCache();
    for (const tb of this.open[0]!) this.mergeUp(tb);
    for (let i = 0; i < this.sizes.length; i++) {
      for (const tb of this.open[i]!) this.closed.push(tb);
      this.open[i] = [];
    }
    return this.takeOutputs(Number.POSITIVE_INFINITY, true);
  }

  watermarkMs(): number {
    return this.watermark;
  }

  /**
   * The least watermark at which something is due: the end + lateness of the oldest open window
   * of any size (level 2: of any window being merged) or a state machine's next timer (a lower
   * bound: a timer filed early is refiled when reached). +∞ when nothing is open or pending.
   */
  nextDueMs(): number {
    let due = Number.POSITIVE_INFINITY;
    for (const list of this.open) {
      const tb = list[0];
      if (tb !== undefined) due = Math.min(due, tb.startMs + tb.sizeMs + this.lateness);
    }
    if (this.merger) due = Math.min(due, this.merger.nextCloseMs(this.watermark));
    for (const m of this.machines) due = Math.min(due, m.nextDueMs());
    return due;
  }

  /**
   * Moves the watermark to `t` without a record (an idle partition's event time moving on): closes
   * the windows it passes and fires the timeouts due, exactly as a record at `t` would before
   * being applied; a pipeline writing to S3 also seals the transitions logged so far, so those
   * fired by silence are handed out without waiting for a window to close. Nothing happens when
   * `t` is not past the watermark. Deterministic like every input: a replay that applies the same
   * advance at the same point produces the same outputs (the worker checkpoints it first).
   */
  advanceWatermark(t: number): void {
    if (!(t > this.watermark)) return;
    this.advance(t);
    if (this.groupTransitions) this.sealTransitions();
  }

  snapshot(): Uint8Array {
    let sizeHint = this.dict.bytes() + (1 << 16);
    for (const list of this.open) for (const tb of list) sizeHint += tb.bytes();
    for (const tb of this.closed) sizeHint += tb.bytes();
    const w = new ByteWriter(sizeHint);
    w.u32(MAGIC).str(this.pipeline.name).str(this.topic).i32(this.partition);
    w.f64(this.watermark).f64(this.updates).f64(this.late);
    this.dict.writeRaw(w);
    w.u32(this.sizes.length);
    for (let i = 0; i < this.sizes.length; i++) {
      w.f64(this.sizes[i]!).u32(this.rowsHint[i]!).u32(this.idsHint[i]!).u32(this.open[i]!.length);
      for (const tb of this.open[i]!) writeTable(w, tb);
    }
    w.u32(this.closed.length);
    for (const tb of this.closed) writeTable(w, tb);
    w.str(JSON.stringify(this.log.peek(Number.POSITIVE_INFINITY, this.machines)));
    w.f64(this.transitionsTaken).u32(this.seals.length);
    for (const seal of this.seals) w.f64(seal);
    w.u32(this.machines.length);
    for (const m of this.machines) w.bytes(m.snapshot());
    if (this.merger) this.merger.write(w);
    w.u32(this.mergedPending.length);
    for (const r of this.mergedPending) {
      const { partial, ...rest } = r;
      w.str(JSON.stringify(rest)).u8(partial ? 1 : 0);
      if (partial) w.bytes(partial);
    }
    return w.finish();
  }

  /**
   * The engine `snapshot()` saved (one buffer, or its consecutive parts: a checkpoint's
   * decompressed blocks). With `release`, the parts are handed over: each is dropped from the
   * array once read (see ByteReader), so the restore holds the state about once, not twice.
   */
  static restore(
    opts: PartitionEngineOptions,
    snapshot: Bytes,
    how: { release?: boolean } = {},
  ): PartitionEngine {
    const e = new PartitionEngine(opts);
    const r = new ByteReader(snapshot, 'engine snapshot', how);
    const magic = r.length >= 4 ? r.u32() : 0;
    r.expect(
      magic === MAGIC ||
        magic === MAGIC_V5 ||
        magic === MAGIC_V4 ||
        magic === MAGIC_V3 ||
        magic === MAGIC_V2 ||
        magic === MAGIC_V1,
      'not a liveagg engine snapshot (bad magic)',
    );
    const sinceV5 = magic === MAGIC || magic === MAGIC_V5;
    const readTable = (): WindowTable => {
      if (sinceV5) return readFlaggedTable(r, e.layout);
      const tb = WindowTable.read(r, e.layout);
      tb.direct = magic === MAGIC_V4 || magic === MAGIC_V3 ? r.u8() === 1 : true;
      return tb;
    };
    const name = r.str();
    r.expect(name === opts.pipeline.name, `snapshot of pipeline "${name}", not "${opts.pipeline.name}"`);
    r.str(); // topic and partition: the state may move to another (pipeline, topic, partition) name only by its owner
    r.i32();
    e.watermark = r.f64();
    e.updates = r.f64();
    e.untilRecount = RECOUNT_EVERY - (e.updates % RECOUNT_EVERY);
    e.late = r.f64();
    if (magic === MAGIC_V1) {
      const nextId = r.u32();
      const nFree = r.u32();
      const freeIds: number[] = [];
      for (let i = 0; i < nFree; i++) freeIds.push(r.u32());
      e.dict.readLive(r);
      e.dict.setFreeIds(freeIds, nextId);
    } else {
      e.dict.readRaw(r, magic === MAGIC ? 'memory' : 'three-words');
    }
    const nSizes = r.u32();
    r.expect(
      nSizes === e.sizes.length,
      `snapshot has ${nSizes} window sizes, the pipeline ${e.sizes.length}`,
    );
    // Version 2 carries the reference counts; version 1 rebuilds them from the rows.
    const addRefs = (tb: WindowTable): void => {
      if (magic !== MAGIC_V1) return;
      for (let slot = 0; slot < tb.cap; slot++) if (tb.idAt(slot) >= 0) e.dict.addRef(tb.idAt(slot));
    };
    for (let i = 0; i < nSizes; i++) {
      const size = r.f64();
      r.expect(size === e.sizes[i], `snapshot window size ${size} ms is not the pipeline's ${e.sizes[i]} ms`);
      e.rowsHint[i] = r.u32();
      // Before version 5 every table was hashed: an unknown id space (0) keeps it so.
      e.idsHint[i] = sinceV5 ? r.u32() : 0;
      const n = r.u32();
      for (let k = 0; k < n; k++) {
        const tb = readTable();
        addRefs(tb);
        tb.newRowSink = e.addRef;
        e.open[i]!.push(tb);
      }
    }
    const nClosed = r.u32();
    for (let k = 0; k < nClosed; k++) {
      const tb = readTable();
      addRefs(tb);
      e.closed.push(tb);
    }
    const transitions = JSON.parse(r.str()) as Transition[];
    if (sinceV5) {
      e.transitionsTaken = r.f64();
      const nSeals = r.u32();
      let last = e.transitionsTaken;
      for (let k = 0; k < nSeals; k++) {
        const seal = r.f64();
        r.expect(
          seal > last && seal <= e.transitionsTaken + transitions.length,
          `transition seal ${seal} after ${last} (${e.transitionsTaken} taken, ${transitions.length} pending)`,
        );
        e.seals.push(seal);
        last = seal;
      }
    }
    const nMachines = r.u32();
    r.expect(
      nMachines === e.machines.length,
      `snapshot has ${nMachines} state machines, the pipeline ${e.machines.length}`,
    );
    opts.pipeline.stateMachines.forEach((def, i) => {
      e.machines[i] = StateMachineTable.restore(def, r.bytes(), e.machineOptions());
    });
    for (const t of transitions) e.relog(t, r);
    if (e.merger) e.merger.read(r, sinceV5 || magic === MAGIC_V4);
    const nPending = r.u32();
    for (let k = 0; k < nPending; k++) {
      const res = JSON.parse(r.str()) as WindowResult;
      if (r.u8() === 1) res.partial = r.bytes();
      e.mergedPending.push(res);
    }
    r.expect(r.done(), 'trailing bytes');
    e.recount();
    return e;
  }

  /** Re-measures the state's bytes and live series and charges the difference to the account. */
  private recount(): void {
    if (this.released) return;
    let bytes = this.dict.bytes();
    for (const list of this.open) for (const tb of list) bytes += tb.bytes();
    for (const tb of this.closed) bytes += tb.bytes();
    for (const m of this.machines) bytes += m.bytes();
    bytes += this.log.bytes();
    let series = this.dict.size();
    if (this.merger) {
      bytes += this.merger.bytes();
      series += this.merger.liveSeries();
    }
    this.account.charge(bytes - this.chargedBytes, series - this.chargedSeries);
    this.chargedBytes = bytes;
    this.chargedSeries = series;
  }

  stats(): EngineStats {
    this.recount();
    let openWindows = 0;
    for (const list of this.open) for (const tb of list) openWindows += tb.rows;
    if (this.merger) openWindows += this.merger.openWindows();
    return {
      stateBytes: this.chargedBytes,
      liveSeries: this.chargedSeries,
      openWindows,
      updates: this.updates,
      lateRecords: this.late,
      watermarkMs: this.watermark,
      keyLookup: this.dict.exactPrefetch ? 'webassembly' : 'javascript',
      rowUpdates: this.open[0]!.at(-1)?.deferrable ? 'webassembly' : 'javascript',
    };
  }

  /** The window tables held (open ones by size, then closed ones not yet drained), for diagnostics. */
  tables(): TableInfo[] {
    const info = (tb: WindowTable, state: TableInfo['state']): TableInfo => ({
      sizeMs: tb.sizeMs,
      startMs: tb.startMs,
      state,
      rows: tb.rows,
      slots: tb.cap,
      indexedBy: tb.byId ? 'id' : 'hash',
      bytes: tb.bytes(),
    });
    return [
      ...this.open.flatMap((list) => list.map((tb) => info(tb, 'open'))),
      ...this.closed.map((tb) => info(tb, 'closed')),
    ];
  }

  release(): void {
    if (this.released) return;
    this.account.close();
    this.released = true;
    this.clearCache();
    for (let i = 0; i < this.open.length; i++) this.open[i] = [];
    this.closed = [];
    this.drainSlot = 0;
    this.mergedPending = [];
    this.log.clear();
    this.seals = [];
  }

  /** Logs a restored transition again (names back to indexes); unknown names are a corrupt snapshot. */
  private relog(t: Transition, r: ByteReader): void {
    const source = this.machines.findIndex((m) => m.name === t.machine);
    const m = this.machines[source];
    const from = m ? m.stateIndex(t.from) : -1;
    const to = m ? m.stateIndex(t.to) : -1;
    r.expect(
      m !== undefined && from >= 0 && to >= 0,
      `pending transition ${t.machine} ${t.from} → ${t.to} is not of this pipeline's state machines`,
    );
    this.log.add(source, t.seriesKey, from, to, t.atMs, t.cause);
  }
}

const DIRECT = 1;
const BY_ID = 2;

/**
 * A table with its flags first (snapshot version 5): `direct`, indexed by id (its slots depend on
 * it; then the rows it expects, which decide when it turns hashed).
 */
function writeTable(w: ByteWriter, tb: WindowTable): void {
  w.u8((tb.direct ? DIRECT : 0) | (tb.byId ? BY_ID : 0));
  if (tb.byId) w.u32(tb.expectedRows);
  tb.write(w);
}

/** What {@link writeTable} wrote. */
function readFlaggedTable(r: ByteReader, layout: readonly FieldLayout[]): WindowTable {
  const flags = r.u8();
  r.expect(flags < 4, `window table flags ${flags}`);
  const byId = (flags & BY_ID) !== 0;
  const tb = WindowTable.read(r, layout, byId, byId ? r.u32() : 0);
  tb.direct = (flags & DIRECT) !== 0;
  return tb;
}

/** A single-field series key is the escaped value (`seriesKeyOf`); undo the escapes when present. */
function unescapeSingle(seriesKey: string): string {
  return seriesKey.indexOf('\\') === -1 ? seriesKey : (splitSeriesKey(seriesKey)[0] ?? '');
}
