import type { DecodedRecord } from '../../aggregator/decode/decoder.js';
import { mixHash } from '../../aggregator/store/series-dictionary.js';

/** Records whose reads are overlapped, as PartitionEngine.processBatch does. */
const CHUNK = 64;
/** Numbers per row: count, sum, min, max. */
const ROW = 4;

/**
 * The least work any aggregation core in JavaScript that keys by string does per record, for
 * `bench core` to report beside the core (the "floor"): the key read as a string, its hash, an open-addressing lookup verified against the
 * key's bytes, and one count/sum/min/max row updated — no windows, no watermark, no drains, no
 * memory accounting, no deletions. Reads are overlapped a chunk of records at a time as the core
 * does (home slots, then key bytes and rows). Exact: each distinct key gets one row.
 */
export class CoreFloor {
  /** [hash, id] per slot; id -1: empty. Power-of-two capacity at most half full. */
  private readonly slots: Int32Array;
  private readonly mask: number;
  /** [arena offset, length] per id. */
  private readonly meta: Int32Array;
  private readonly arena: Uint8Array;
  private arenaUsed = 0;
  private nextId = 0;
  readonly rows: Float64Array;
  private readonly hashes = new Int32Array(CHUNK);
  private readonly ids = new Int32Array(CHUNK);
  /** Folds the overlapped loads' values, so the compiler keeps them. */
  private sink = 0;

  constructor(
    private readonly maxKeys: number,
    maxKeyBytes = 32,
  ) {
    let cap = 1024;
    while (cap < maxKeys * 2) cap *= 2;
    this.mask = cap - 1;
    this.slots = new Int32Array(cap * 2).fill(-1);
    this.meta = new Int32Array(maxKeys * 2);
    this.arena = new Uint8Array(maxKeys * maxKeyBytes);
    this.rows = new Float64Array(maxKeys * ROW);
  }

  /** Distinct keys seen. */
  size(): number {
    return this.nextId;
  }

  /** The id of `key` (ASCII), or -1. */
  find(key: string): number {
    const h = hashOf(key);
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const id = this.slots[i * 2 + 1]!;
      if (id < 0) return -1;
      if (this.slots[i * 2] === h && this.matches(id, key)) return id;
    }
  }

  /** Applies `records[0..n)`: each record's `value` to its key's row. */
  processBatch(records: readonly DecodedRecord[], n: number): void {
    const hashes = this.hashes;
    const ids = this.ids;
    const slots = this.slots;
    const rows = this.rows;
    for (let from = 0; from < n; from += CHUNK) {
      const m = Math.min(CHUNK, n - from);
      for (let j = 0; j < m; j++) hashes[j] = hashOf(records[from + j]!.seriesKey);
      for (let j = 0; j < m; j++) ids[j] = slots[(hashes[j]! & this.mask) * 2 + 1]!;
      let sink = 0;
      for (let j = 0; j < m; j++) {
        const id = ids[j]!;
        if (id >= 0) sink ^= this.arena[this.meta[id * 2]!]! ^ rows[id * ROW]!;
      }
      this.sink ^= sink;
      for (let j = 0; j < m; j++) {
        const r = records[from + j]!;
        const b = this.intern(r.seriesKey, hashes[j]!) * ROW;
        const v = r.numbers['value']!;
        rows[b]! += 1;
        rows[b + 1]! += v;
        if (v < rows[b + 2]!) rows[b + 2] = v;
        if (v > rows[b + 3]!) rows[b + 3] = v;
      }
    }
  }

  /** A value computed from the overlapped loads (read it so they are not optimized away). */
  loadsSink(): number {
    return this.sink;
  }

  private intern(key: string, h: number): number {
    const slots = this.slots;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const id = slots[i * 2 + 1]!;
      if (id < 0) return this.insert(i, key, h);
      if (slots[i * 2] === h && this.matches(id, key)) return id;
    }
  }

  private insert(slot: number, key: string, h: number): number {
    if (this.nextId === this.maxKeys) throw new RangeError(`more than ${this.maxKeys} keys`);
    const id = this.nextId++;
    this.slots[slot * 2] = h;
    this.slots[slot * 2 + 1] = id;
    this.meta[id * 2] = this.arenaUsed;
    this.meta[id * 2 + 1] = key.length;
    for (let k = 0; k < key.length; k++) this.arena[this.arenaUsed++] = key.charCodeAt(k);
    this.rows[id * ROW + 2] = Number.POSITIVE_INFINITY;
    this.rows[id * ROW + 3] = Number.NEGATIVE_INFINITY;
    return id;
  }

  private matches(id: number, key: string): boolean {
    const off = this.meta[id * 2]!;
    const n = this.meta[id * 2 + 1]!;
    if (n !== key.length) return false;
    for (let k = 0; k < n; k++) if (this.arena[off + k] !== key.charCodeAt(k)) return false;
    return true;
  }
}

/** FNV-1a over an ASCII key's char codes, then the series dictionary's avalanche (as it hashes ASCII keys). */
export function hashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return mixHash(h);
}
