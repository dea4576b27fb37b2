import type { Transition } from './state-machine-table.js';

/** What turns a logged entry into the transition the sinks receive: the table that logged it. */
export interface TransitionSource {
  /** The transition of one of this source's keys; `from` and `to` index its states. */
  transitionOf(
    seriesKey: string,
    from: number,
    to: number,
    atMs: number,
    cause: Transition['cause'],
  ): Transition;
}

/** Where a table logs its transitions: a shared log and the table's index in the taker's sources. */
export interface LogTarget {
  log: TransitionLog;
  source: number;
}

const INITIAL_CAPACITY = 64;
/** Bytes per entry beyond the columns: the key's array slot. The key string is the table's own. */
const KEY_SLOT_BYTES = 8;
const CAUSES: readonly Transition['cause'][] = ['record', 'timeout'];

/**
 * Transitions waiting for the sinks, in the order they happened, as columns: ~23 bytes per entry
 * (the series key is a reference to the table's string) where a `Transition` object with its key
 * values is ~250. A million devices falling silent in one watermark step are a million entries;
 * they are handed out a bounded number at a time ({@link take}), so at most a sink queue's worth
 * exist as objects, like the rows of a closed window.
 */
export class TransitionLog {
  private keys: string[] = [];
  private sources = new Uint16Array(INITIAL_CAPACITY);
  private from = new Uint16Array(INITIAL_CAPACITY);
  private to = new Uint16Array(INITIAL_CAPACITY);
  private causes = new Uint8Array(INITIAL_CAPACITY);
  private atMs = new Float64Array(INITIAL_CAPACITY);
  private head = 0;
  private tail = 0;

  /** Entries not taken yet. */
  get length(): number {
    return this.tail - this.head;
  }

  add(
    source: number,
    seriesKey: string,
    from: number,
    to: number,
    atMs: number,
    cause: Transition['cause'],
  ): void {
    if (this.tail === this.atMs.length) this.makeRoom();
    const i = this.tail++;
    this.keys[i] = seriesKey;
    this.sources[i] = source;
    this.from[i] = from;
    this.to[i] = to;
    this.atMs[i] = atMs;
    this.causes[i] = cause === 'record' ? 0 : 1;
  }

  /** Removes and returns the oldest `max` entries (all when fewer) as transitions. */
  take(max: number, sources: readonly TransitionSource[]): Transition[] {
    const out = this.peek(max, sources);
    for (let i = this.head; i < this.head + out.length; i++) this.keys[i] = '';
    this.head += out.length;
    if (this.head === this.tail) this.clear();
    return out;
  }

  /** The oldest `max` entries (all by default) as transitions, left in the log (for snapshots). */
  peek(max: number, sources: readonly TransitionSource[]): Transition[] {
    const n = Math.min(max, this.length);
    const out: Transition[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const i = this.head + k;
      out[k] = (sources[this.sources[i]!] as TransitionSource).transitionOf(
        this.keys[i]!,
        this.from[i]!,
        this.to[i]!,
        this.atMs[i]!,
        CAUSES[this.causes[i]!]!,
      );
    }
    return out;
  }

  clear(): void {
    this.head = 0;
    this.tail = 0;
    this.keys = [];
    if (this.atMs.length > INITIAL_CAPACITY) this.resize(INITIAL_CAPACITY);
  }

  /** Bytes held (columns at capacity, key slots in use). */
  bytes(): number {
    return this.atMs.length * (8 + 2 + 2 + 2 + 1) + this.keys.length * KEY_SLOT_BYTES;
  }

  /** At the end of the columns: move the live entries down when half is taken, else double. */
  private makeRoom(): void {
    const live = this.length;
    if (this.head >= live) {
      this.keys = this.keys.slice(this.head, this.tail);
      for (const c of [this.sources, this.from, this.to, this.causes, this.atMs])
        c.copyWithin(0, this.head, this.tail);
      this.head = 0;
      this.tail = live;
    } else {
      this.resize(this.atMs.length * 2);
    }
  }

  /** Reallocates the columns at `capacity` (≥ tail), keeping entries [0, tail). */
  private resize(capacity: number): void {
    this.sources = resized(this.sources, capacity, this.tail);
    this.from = resized(this.from, capacity, this.tail);
    this.to = resized(this.to, capacity, this.tail);
    this.causes = resized(this.causes, capacity, this.tail);
    this.atMs = resized(this.atMs, capacity, this.tail);
  }
}

/** A column of `capacity` elements of the same type holding `column`'s first `keep`. */
function resized<T extends Uint8Array | Uint16Array | Float64Array>(
  column: T,
  capacity: number,
  keep: number,
): T {
  const next = new (column.constructor as new (n: number) => T)(capacity);
  next.set(column.subarray(0, keep));
  return next;
}
