import type { DecodedRecord } from '../decode/decoder.js';
import { splitSeriesKey } from '../decode/series-key.js';
import { type CompiledPredicate, compilePredicate } from './predicate.js';
import type { StateMachineDefinition } from './state-machine-schema.js';
import { decodeTable, encodeTable, StateMachineSnapshotError } from './state-machine-snapshot.js';
import { TimeoutHeap } from './timeout-heap.js';
import { type LogTarget, TransitionLog, type TransitionSource } from './transition-log.js';

/** One state change of one key, emitted to the sinks. */
export interface Transition {
  machine: string;
  seriesKey: string;
  keyValues: Record<string, string>;
  from: string;
  to: string;
  /** Event time of the change: the record's time, or the timeout's due time. */
  atMs: number;
  cause: 'record' | 'timeout';
  /**
   * Handed to a sink that groups transitions (a pipeline with an S3 sink): this transition's
   * number in its partition's sequence, and the part [from, to) of that sequence it was handed
   * out in. Parts end at multiples of TRANSITION_PART_ROWS and where the smallest window closed,
   * so a replay hands out the same parts (an S3 object per part is rewritten identically).
   */
  seq?: number;
  part?: { from: number; to: number };
}

/** Estimated heap bytes per key beyond the typed arrays: Map entry, key string header, array slot. */
const PER_KEY_OVERHEAD_BYTES = 64;
const INITIAL_CAPACITY = 64;
const NONE: Transition[] = Object.freeze([]) as unknown as Transition[];

/** Options of a table beyond its definition. */
export interface StateMachineTableOptions {
  /**
   * Evict a key that rests in the initial state (which must have no timeout) once the watermark
   * is this far past its timer base `lastMs`; absent: keys are kept forever. The caller chooses a
   * horizon after which no record older than `lastMs` can arrive any more (the engine: allowed
   * lateness + its smallest window), so the key's next record recreates it exactly as it would
   * have found it: initial state, timer base = that record's time (≥ the old one), no timeout.
   */
  evictIdleAfterMs?: number;
}

interface Candidate {
  to: number;
  when: CompiledPredicate;
}

/**
 * The state of one machine for every key of one partition.
 *
 * Semantics (event time throughout):
 * - A key is created on its first record, in `initial`; that record is then evaluated like any other.
 * - On a record, the first declared transition whose `from` is the key's state (or `*`) and whose
 *   `when` matches moves the key; a transition to the current state is a no-op (not emitted).
 * - Timer base `lastMs` = the key's latest record time, or the time of its last timeout.
 *   A timeout on state S is due at `lastMs + afterMs(S)` and fires when the watermark reaches it
 *   (`watermarkMs >= due`), or when a record of the key arrives with time `>= due` (the silence
 *   already happened in event time; the timeout fires first, then the record is applied).
 *   Chained timeouts fire in sequence (`to` of one starts its own timer at the first's due time).
 * - Out of order: a record older than `lastMs` is evaluated and may change the state, but never
 *   moves `lastMs` (hence the timeout) back. Once fired, a timeout is never undone.
 * - `onWatermark` fires in order of due time, then series key; the same inputs always give the same output.
 * Storage: a Map from series key to slot, and per slot a Uint16 state and a Float64 timer base;
 * pending timeouts sit in an indexed min-heap keyed by (due, series key), filed lazily.
 */
export class StateMachineTable implements TransitionSource {
  private readonly machine: string;
  private readonly states: readonly string[];
  private readonly candidates: Candidate[][];
  private readonly timeoutAfter: Float64Array;
  private readonly timeoutTo: Uint16Array;
  private readonly emitMask: Uint8Array;
  private readonly initial: number;
  private readonly slots = new Map<string, number>();
  private keys: string[] = [];
  private stateIdx: Uint16Array;
  private lastMs: Float64Array;
  /** Due time each slot is filed under in the heap; may be earlier than its real due time (see schedule). */
  private heapDue: Float64Array;
  private readonly heap: TimeoutHeap;
  private count = 0;
  private keyChars = 0;
  private keyFieldNames: string[] | null = null;
  private watermarkMs = Number.NEGATIVE_INFINITY;
  private lastOffset = '';
  /** Eviction horizon (see {@link StateMachineTableOptions}); -1: keys are never evicted. */
  private readonly idleAfter: number;
  /** Where transitions go when the caller gives no log: turned into the returned array. */
  private readonly own: LogTarget = { log: new TransitionLog(), source: 0 };

  constructor(def: StateMachineDefinition, opts: StateMachineTableOptions = {}) {
    this.machine = def.name;
    this.states = [...def.states];
    const index = new Map(def.states.map((s, i) => [s, i]));
    const at = (s: string): number => index.get(s) as number;
    const n = def.states.length;
    this.initial = at(def.initial);
    this.candidates = def.states.map((_, s) =>
      def.transitions
        .filter((t) => t.from === '*' || at(t.from) === s)
        .map((t) => ({ to: at(t.to), when: compilePredicate(t.when) })),
    );
    this.timeoutAfter = new Float64Array(n);
    this.timeoutTo = new Uint16Array(n);
    for (const t of def.timeouts) {
      this.timeoutAfter[at(t.state)] = t.afterMs;
      this.timeoutTo[at(t.state)] = at(t.to);
    }
    this.emitMask = new Uint8Array(n * n);
    for (let f = 0; f < n; f++) {
      for (let t = 0; t < n; t++) {
        const emit =
          def.emit === 'all' ||
          (Array.isArray(def.emit) &&
            def.emit.some(
              (e) => (e.from === '*' || e.from === def.states[f]) && (e.to === '*' || e.to === def.states[t]),
            ));
        this.emitMask[f * n + t] = emit ? 1 : 0;
      }
    }
    const horizon = opts.evictIdleAfterMs;
    this.idleAfter =
      horizon !== undefined && horizon >= 0 && (this.timeoutAfter[this.initial] as number) === 0
        ? horizon
        : -1;
    this.stateIdx = new Uint16Array(INITIAL_CAPACITY);
    this.lastMs = new Float64Array(INITIAL_CAPACITY);
    this.heapDue = new Float64Array(INITIAL_CAPACITY);
    this.heap = new TimeoutHeap((a, b) => {
      const da = this.heapDue[a] as number;
      const db = this.heapDue[b] as number;
      return da < db || (da === db && (this.keys[a] as string) < (this.keys[b] as string));
    }, INITIAL_CAPACITY);
  }

  /**
   * Applies one decoded record; the transitions it caused (timeouts it overtook first) go to
   * `into` when given (none returned), else are returned. The returned array must not be mutated:
   * "no transitions" is one shared frozen empty array.
   * @param offset the record's Kafka offset, kept as the last offset applied (stored in snapshots)
   */
  onRecord(record: DecodedRecord, offset: string, into?: LogTarget): Transition[] {
    this.lastOffset = offset;
    const t = record.eventTimeMs;
    const out = into ?? this.own;
    let slot = this.slots.get(record.seriesKey);
    if (slot === undefined) {
      if (this.keyFieldNames === null) this.keyFieldNames = Object.keys(record.keyValues);
      slot = this.allocate(record.seriesKey, t);
    } else {
      while (this.dueOf(slot) <= t) this.fire(slot, out);
      if (t > (this.lastMs[slot] as number)) this.lastMs[slot] = t;
    }
    const from = this.stateIdx[slot] as number;
    const cands = this.candidates[from] as Candidate[];
    for (let i = 0; i < cands.length; i++) {
      const c = cands[i] as Candidate;
      if (!c.when(record.raw)) continue;
      if (c.to !== from) {
        this.stateIdx[slot] = c.to;
        if (this.emitMask[from * this.states.length + c.to] === 1) {
          out.log.add(out.source, record.seriesKey, from, c.to, t, 'record');
        }
      }
      break;
    }
    this.schedule(slot, false);
    return into ? NONE : this.taken();
  }

  /**
   * The earliest due time: of a timeout, or of a resting key's eviction (a lower bound for those);
   * +∞ when none. Entries at the top that were filed early (records moved their key's timeout
   * later) are refiled under their real time first, as {@link onWatermark} would when reaching them.
   */
  nextDueMs(): number {
    for (;;) {
      const slot = this.heap.peek();
      if (slot < 0) return Number.POSITIVE_INFINITY;
      const filed = this.heapDue[slot] as number;
      if ((this.timeoutAfter[this.stateIdx[slot] as number] as number) === 0) return filed;
      if (this.dueOf(slot) === filed) return filed;
      this.schedule(slot, true);
    }
  }

  /**
   * Advances event time: fires every timeout due at or before `watermarkMs`, by due time then
   * series key. A lower watermark than seen before fires nothing new. Same output rules as onRecord.
   */
  onWatermark(watermarkMs: number, into?: LogTarget): Transition[] {
    if (watermarkMs > this.watermarkMs) this.watermarkMs = watermarkMs;
    const out = into ?? this.own;
    for (;;) {
      const slot = this.heap.peek();
      if (slot < 0 || (this.heapDue[slot] as number) > watermarkMs) break;
      if ((this.timeoutAfter[this.stateIdx[slot] as number] as number) === 0) {
        // Filed to be evicted (resting in the initial state): evict once its real time has come.
        if ((this.lastMs[slot] as number) + this.idleAfter !== this.heapDue[slot]) this.schedule(slot, true);
        else this.evict(slot);
        continue;
      }
      const due = this.dueOf(slot);
      if (due !== this.heapDue[slot]) {
        // Filed early (records moved the key's timeout later): refile under the real due time.
        this.schedule(slot, true);
        continue;
      }
      this.fire(slot, out);
    }
    return into ? NONE : this.taken();
  }

  /** The transitions logged to this table's own log, taken. */
  private taken(): Transition[] {
    return this.own.log.length === 0 ? NONE : this.own.log.take(Number.POSITIVE_INFINITY, [this]);
  }

  /** The machine's name (as declared). */
  get name(): string {
    return this.machine;
  }

  /** Index of a state by name, or -1 when the definition has no such state. */
  stateIndex(name: string): number {
    return this.states.indexOf(name);
  }

  transitionOf(
    seriesKey: string,
    from: number,
    to: number,
    atMs: number,
    cause: Transition['cause'],
  ): Transition {
    return {
      machine: this.machine,
      seriesKey,
      keyValues: this.keyValuesOf(seriesKey),
      from: this.states[from] as string,
      to: this.states[to] as string,
      atMs,
      cause,
    };
  }

  /** A deterministic binary image of the table (see state-machine-snapshot.ts). */
  snapshot(): Uint8Array {
    return encodeTable({
      machine: this.machine,
      states: this.states,
      keyFieldNames: this.keyFieldNames,
      watermarkMs: this.watermarkMs,
      lastOffset: this.lastOffset,
      count: this.count,
      keys: this.keys,
      stateIdx: this.stateIdx,
      lastMs: this.lastMs,
    });
  }

  /**
   * Rebuilds a table from {@link snapshot} bytes. States are matched by name, so states may be
   * added or reordered in the definition; a stored state the definition no longer has is an error.
   */
  static restore(
    def: StateMachineDefinition,
    bytes: Uint8Array,
    opts: StateMachineTableOptions = {},
  ): StateMachineTable {
    const img = decodeTable(bytes);
    if (img.machine !== def.name) {
      throw new StateMachineSnapshotError(`snapshot is of state machine "${img.machine}", not "${def.name}"`);
    }
    const table = new StateMachineTable(def, opts);
    const mapping = img.stateNames.map((name) => {
      const i = def.states.indexOf(name);
      if (i < 0) {
        throw new StateMachineSnapshotError(
          `snapshot of state machine "${def.name}" holds keys in state "${name}", which the definition no longer declares; add it back to states`,
        );
      }
      return i;
    });
    table.keyFieldNames = img.keyFieldNames;
    table.watermarkMs = img.watermarkMs;
    table.lastOffset = img.lastOffset;
    for (let i = 0; i < img.keys.length; i++) {
      const slot = table.allocate(img.keys[i] as string, img.lastMs[i] as number);
      const state = mapping[img.stateIdx[i] as number] as number;
      table.stateIdx[slot] = state;
      const after = table.timeoutAfter[state] as number;
      if (after > 0) {
        table.heapDue[slot] = (img.lastMs[i] as number) + after;
        table.heap.pushUnordered(slot);
      } else if (state === table.initial && table.idleAfter >= 0) {
        table.heapDue[slot] = (img.lastMs[i] as number) + table.idleAfter;
        table.heap.pushUnordered(slot);
      }
    }
    table.heap.heapify();
    return table;
  }

  /** Estimated memory held, in bytes (typed arrays exactly, per-key Map/string overhead estimated). */
  bytes(): number {
    return (
      this.stateIdx.byteLength +
      this.lastMs.byteLength +
      this.heapDue.byteLength +
      this.heap.byteLength +
      this.keys.length * 8 +
      this.count * PER_KEY_OVERHEAD_BYTES +
      this.keyChars
    );
  }

  /** Number of keys held (evicted keys are not). */
  liveKeys(): number {
    return this.count;
  }

  /** Offset of the last record applied ('' before any). */
  lastAppliedOffset(): string {
    return this.lastOffset;
  }

  /** The current state of a key, or undefined when the key has not been seen (for tests and admin). */
  stateOf(seriesKey: string): string | undefined {
    const slot = this.slots.get(seriesKey);
    return slot === undefined ? undefined : this.states[this.stateIdx[slot] as number];
  }

  /** Due time of the slot's pending timeout, or +Infinity when its state has none. */
  private dueOf(slot: number): number {
    const after = this.timeoutAfter[this.stateIdx[slot] as number] as number;
    return after > 0 ? (this.lastMs[slot] as number) + after : Number.POSITIVE_INFINITY;
  }

  /**
   * Files the slot's timeout in the heap. Lazily (the hot path, on every record) a key already
   * filed under an earlier due time stays put: a record only ever moves a due time later, and
   * `onWatermark` refiles such an entry when it reaches the top. The heap order is (filed due,
   * series key) with filed ≤ real, so timeouts still fire in (real due, series key) order.
   */
  private schedule(slot: number, eager: boolean): void {
    const after = this.timeoutAfter[this.stateIdx[slot] as number] as number;
    if (after > 0) {
      const due = (this.lastMs[slot] as number) + after;
      if (eager || due < (this.heapDue[slot] as number) || !this.heap.has(slot)) {
        this.heapDue[slot] = due;
        this.heap.update(slot);
      }
    } else if (this.idleAfter >= 0 && this.stateIdx[slot] === this.initial) {
      // Resting in the initial state: filed to be evicted (lazily, like a timeout).
      const due = (this.lastMs[slot] as number) + this.idleAfter;
      if (eager || due < (this.heapDue[slot] as number) || !this.heap.has(slot)) {
        this.heapDue[slot] = due;
        this.heap.update(slot);
      }
    } else {
      this.heap.remove(slot);
    }
  }

  /**
   * Forgets the key at `slot` (resting in the initial state past the horizon). The last slot
   * moves into the hole, so slots stay dense; the arrays shrink once a quarter is used.
   */
  private evict(slot: number): void {
    this.heap.remove(slot);
    const key = this.keys[slot] as string;
    this.slots.delete(key);
    this.keyChars -= key.length;
    const last = --this.count;
    if (slot !== last) {
      const moved = this.keys[last] as string;
      const filed = this.heap.has(last);
      if (filed) this.heap.remove(last);
      this.keys[slot] = moved;
      this.stateIdx[slot] = this.stateIdx[last] as number;
      this.lastMs[slot] = this.lastMs[last] as number;
      this.heapDue[slot] = this.heapDue[last] as number;
      this.slots.set(moved, slot);
      if (filed) this.heap.update(slot);
    }
    this.keys.pop();
    const capacity = this.stateIdx.length;
    if (capacity > INITIAL_CAPACITY && this.count * 4 <= capacity) this.resize(capacity >> 1);
  }

  /** Fires the slot's pending timeout: the timer base moves to the due time. */
  private fire(slot: number, out: LogTarget): void {
    const from = this.stateIdx[slot] as number;
    const due = this.dueOf(slot);
    const to = this.timeoutTo[from] as number;
    this.stateIdx[slot] = to;
    this.lastMs[slot] = due;
    this.schedule(slot, true);
    if (to !== from && this.emitMask[from * this.states.length + to] === 1) {
      out.log.add(out.source, this.keys[slot] as string, from, to, due, 'timeout');
    }
  }

  private allocate(seriesKey: string, timeMs: number): number {
    const slot = this.count++;
    if (slot >= this.stateIdx.length) this.grow(this.stateIdx.length * 2);
    this.slots.set(seriesKey, slot);
    this.keys.push(seriesKey);
    this.keyChars += seriesKey.length;
    this.stateIdx[slot] = this.initial;
    this.lastMs[slot] = timeMs;
    return slot;
  }

  private grow(capacity: number): void {
    this.resize(capacity);
  }

  /** Reallocates the per-slot arrays at `capacity` (≥ count), keeping slots [0, count). */
  private resize(capacity: number): void {
    const keep = Math.min(this.stateIdx.length, capacity);
    const s = new Uint16Array(capacity);
    s.set(this.stateIdx.subarray(0, keep));
    this.stateIdx = s;
    const l = new Float64Array(capacity);
    l.set(this.lastMs.subarray(0, keep));
    this.lastMs = l;
    const h = new Float64Array(capacity);
    h.set(this.heapDue.subarray(0, keep));
    this.heapDue = h;
    if (capacity > this.heap.capacity) this.heap.grow(capacity);
    else this.heap.shrink(capacity);
  }

  private keyValuesOf(seriesKey: string): Record<string, string> {
    const names = this.keyFieldNames ?? [];
    const values = splitSeriesKey(seriesKey);
    const out: Record<string, string> = {};
    for (let i = 0; i < names.length; i++) out[names[i] as string] = values[i] ?? '';
    return out;
  }
}
