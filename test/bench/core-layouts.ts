/**
 * How the floor of `bench core` moves with the number of separate places a record's update
 * touches, at 1M keys with the bench's own input (a fresh key string per record):
 *
 *   A  [hash, id] slots → per-id [offset, length] → key bytes in an arena → row by id  (4 places, as the core)
 *   B  [hash, id, offset, length] slots → key bytes → row by id                        (3)
 *   C  [hash, id, length, key bytes ≤ 20] slots → row by id                            (2)
 *   D  [hash, id, length, key bytes ≤ 20, count, sum, min, max] slots: one 64-byte line (1)
 *
 * Each applies count/sum/min/max of `value` per key, reads overlapped 64 records at a time.
 * Usage: `node --max-semi-space-size=128 --import tsx test/bench/core-layouts.ts [A|B|C|D …]`;
 * prints one JSON line per layout (records per CPU second, ns per record, bytes per key).
 */
import type { DecodedRecord } from '../../aggregator/decode/decoder.js';
import { hashOf } from './core-floor.js';
import { BATCH, InputStream } from './core-input.js';

type Layout = 'A' | 'B' | 'C' | 'D';
const WORDS: Record<Layout, number> = { A: 2, B: 4, C: 8, D: 16 };
const CHUNK = 64;

class LayoutTable {
  private readonly w: number;
  private readonly mask: number;
  private readonly slots: Int32Array;
  private readonly slotBytes: Uint8Array;
  private readonly slotF64: Float64Array;
  private readonly meta: Int32Array;
  private readonly arena: Uint8Array;
  private readonly rows: Float64Array;
  private arenaUsed = 0;
  private nextId = 0;
  private readonly hashes = new Int32Array(CHUNK);
  private readonly homes = new Int32Array(CHUNK);
  sink = 0;

  constructor(
    readonly layout: Layout,
    keys: number,
  ) {
    this.w = WORDS[layout];
    let cap = 1024;
    while (cap < keys * 2) cap *= 2;
    this.mask = cap - 1;
    this.slots = new Int32Array(cap * this.w);
    for (let i = 0; i < cap; i++) this.slots[i * this.w + 1] = -1;
    this.slotBytes = new Uint8Array(this.slots.buffer);
    this.slotF64 = new Float64Array(this.slots.buffer);
    const inline = layout === 'C' || layout === 'D';
    this.meta = new Int32Array(inline ? 0 : keys * 2);
    this.arena = new Uint8Array(inline ? 0 : keys * 16);
    this.rows = new Float64Array(layout === 'D' ? 0 : keys * 4);
  }

  bytes(): number {
    return this.slots.byteLength + this.meta.byteLength + this.arenaUsed + this.rows.byteLength;
  }

  size(): number {
    return this.nextId;
  }

  processBatch(records: readonly DecodedRecord[], n: number): void {
    const { slots, w, hashes, homes } = this;
    for (let from = 0; from < n; from += CHUNK) {
      const m = Math.min(CHUNK, n - from);
      for (let j = 0; j < m; j++) {
        const h = hashOf(records[from + j]!.seriesKey);
        hashes[j] = h;
        homes[j] = (h >>> 11) & this.mask;
      }
      let s = 0;
      for (let j = 0; j < m; j++) s ^= slots[homes[j]! * w + 1]!;
      if (this.layout !== 'D') {
        for (let j = 0; j < m; j++) {
          const id = slots[homes[j]! * w + 1]!;
          if (id < 0) continue;
          s ^= this.rows[id * 4]!;
          if (this.layout === 'A') s ^= this.arena[this.meta[id * 2]!]!;
          else if (this.layout === 'B') s ^= this.arena[slots[homes[j]! * w + 2]!]!;
        }
      }
      this.sink ^= s;
      for (let j = 0; j < m; j++) {
        const r = records[from + j]!;
        const i = this.intern(r.seriesKey, hashes[j]!);
        const v = r.numbers['value']!;
        const d = this.layout === 'D' ? this.slotF64 : this.rows;
        const b = this.layout === 'D' ? i * 8 + 4 : slots[i * w + 1]! * 4;
        d[b]! += 1;
        d[b + 1]! += v;
        if (v < d[b + 2]!) d[b + 2] = v;
        if (v > d[b + 3]!) d[b + 3] = v;
      }
    }
  }

  /** The slot of `key`, inserted when absent. */
  private intern(key: string, h: number): number {
    const { slots, w } = this;
    for (let i = (h >>> 11) & this.mask; ; i = (i + 1) & this.mask) {
      const id = slots[i * w + 1]!;
      if (id < 0) return this.insert(i, key, h);
      if (slots[i * w] === h && this.matches(i, id, key)) return i;
    }
  }

  private insert(i: number, key: string, h: number): number {
    const { slots, w } = this;
    const id = this.nextId++;
    slots[i * w] = h;
    slots[i * w + 1] = id;
    if (this.layout === 'C' || this.layout === 'D') {
      if (key.length > 20) throw new RangeError(`key ${key} longer than 20 bytes`);
      slots[i * w + 2] = key.length;
      const b = i * w * 4 + 12;
      for (let q = 0; q < key.length; q++) this.slotBytes[b + q] = key.charCodeAt(q);
    } else {
      if (this.layout === 'B') {
        slots[i * w + 2] = this.arenaUsed;
        slots[i * w + 3] = key.length;
      }
      this.meta[id * 2] = this.arenaUsed;
      this.meta[id * 2 + 1] = key.length;
      for (let q = 0; q < key.length; q++) this.arena[this.arenaUsed++] = key.charCodeAt(q);
    }
    const d = this.layout === 'D' ? this.slotF64 : this.rows;
    const b = this.layout === 'D' ? i * 8 + 4 : id * 4;
    d[b + 2] = Number.POSITIVE_INFINITY;
    d[b + 3] = Number.NEGATIVE_INFINITY;
    return i;
  }

  private matches(i: number, id: number, key: string): boolean {
    const { slots, w } = this;
    let bytes: Uint8Array;
    let off: number;
    let len: number;
    if (this.layout === 'C' || this.layout === 'D') {
      bytes = this.slotBytes;
      off = i * w * 4 + 12;
      len = slots[i * w + 2]!;
    } else {
      bytes = this.arena;
      off = this.layout === 'B' ? slots[i * w + 2]! : this.meta[id * 2]!;
      len = this.layout === 'B' ? slots[i * w + 3]! : this.meta[id * 2 + 1]!;
    }
    if (len !== key.length) return false;
    for (let q = 0; q < len; q++) if (bytes[off + q] !== key.charCodeAt(q)) return false;
    return true;
  }
}

function measure(layout: Layout, keys: number, records: number): Record<string, unknown> {
  const table = new LayoutTable(layout, keys);
  const input = new InputStream(keys, 6, 0, Date.UTC(2026, 0, 1));
  const feed = (from: number, to: number): void => {
    for (let i = from; i < to; i += BATCH) {
      const n = Math.min(BATCH, to - i);
      table.processBatch(input.fillBatch(i, n), n);
    }
  };
  feed(0, keys * 3);
  const at = process.cpuUsage();
  feed(keys * 3, keys * 3 + records);
  const d = process.cpuUsage(at);
  const cpu = (d.user + d.system) / 1e6;
  return {
    layout,
    keys: table.size(),
    records,
    recordsPerSec: Math.round(records / cpu),
    nsPerRecord: Math.round((cpu / records) * 1e9),
    bytesPerKey: Math.round(table.bytes() / table.size()),
    sink: table.sink & 1,
  };
}

const wanted = process.argv.slice(2).filter((a): a is Layout => a in WORDS);
for (const layout of wanted.length > 0 ? wanted : (['A', 'B', 'C', 'D'] as Layout[]))
  process.stdout.write(`${JSON.stringify(measure(layout, 1_000_000, 12_000_000))}\n`);
