/**
 * `bench core`'s synthetic input: the records every contender (the engine, the floor, the Map
 * baseline, the engine A/B) is fed, the same sequence for each. Its own cost is measured apart in
 * the same run and reported (`input`), and every contender pays it inside its timed loop.
 */
import { endianness } from 'node:os';
import type { SliceableBuffer } from '../../aggregator/codec/latin1-string.js';
import { type DecodedRecord, KeyedRecord } from '../../aggregator/decode/decoder.js';

/** Records per batch handed to the engine, as the worker does with a fetch's records. */
export const BATCH = 256;
/** Room per key in a batch's key buffer (`dev-` and up to 10 digits). */
const KEY_BYTES = 16;
/** Key counts up to this get a {@link KeyTable} (8 bytes a key: 32 MiB at the limit). */
export const KEY_TABLE_MAX_KEYS = 1 << 22;

/** The prime modulus of {@link keyNumber}. */
const KEY_MOD = 4_294_967_291;

/** The number in key `k`'s name (< 2^32, exact in a double): (k × 2654435761) mod 4294967291. */
export function keyNumber(k: number): number {
  const x = k * 2_654_435_761;
  // Past 2^53 the product is rounded, and `%` of it is what the bench always computed.
  return x >= 2 ** 53 ? x % KEY_MOD : floorMod(x, KEY_MOD);
}

/**
 * x mod m for integers 0 ≤ x < 2^53, 0 < m: a division, a floor and a product, where `%` on a
 * double (or an unsigned 32-bit value) is a call to fmod, a third of the input's cost per record.
 * The quotient's floor can be one off only when x / m rounds onto an integer; the last step mends it.
 */
function floorMod(x: number, m: number): number {
  const r = x - Math.floor(x / m) * m;
  return r < 0 ? r + m : r >= m ? r - m : r;
}

/** Writes key `k` (`dev-<keyNumber(k)>`, ASCII) into `b` at `from`; returns the end. */
export function writeKey(b: Uint8Array, from: number, k: number): number {
  b[from] = 0x64; // d
  b[from + 1] = 0x65; // e
  b[from + 2] = 0x76; // v
  b[from + 3] = 0x2d; // -
  // The number has up to 10 digits: two parts of at most 5, each a small integer.
  const n = keyNumber(k);
  const hi = Math.floor(n / 100_000);
  const at = hi > 0 ? writeDigits(b, from + 4, hi, 0) : from + 4;
  return writeDigits(b, at, n - hi * 100_000, hi > 0 ? 5 : 0);
}

/** The ASCII digits of 00..99, two bytes each. */
const DIGIT_PAIRS = Uint8Array.from(
  { length: 200 },
  (_, i) => 0x30 + (i & 1 ? (i >> 1) % 10 : Math.floor((i >> 1) / 10)),
);

/** Writes `x` (0 ≤ x < 100000) in decimal at `at`, at least `width` digits; returns the end. */
function writeDigits(b: Uint8Array, at: number, x: number, width: number): number {
  let digits = x >= 10_000 ? 5 : x >= 1000 ? 4 : x >= 100 ? 3 : x >= 10 ? 2 : 1;
  if (digits < width) digits = width;
  let v = x;
  let k = at + digits - 1;
  // Two digits a step: ⌊v / 100⌋ is exact as ⌊v · 0.01⌋ for these v (0.01 rounds up, so a
  // multiple of 100 never falls below), and a product where a division would make each step wait.
  for (; k > at; k -= 2) {
    const q = Math.floor(v * 0.01);
    const pair = (v - q * 100) * 2;
    b[k - 1] = DIGIT_PAIRS[pair]!;
    b[k] = DIGIT_PAIRS[pair + 1]!;
    v = q;
  }
  if (k === at) b[k] = 0x30 + v;
  return at + digits;
}

/**
 * Every key's digits, written once: writing a key's ten digits costs ~80 ns, which the input paid
 * per record, while an engine fed from Kafka finds the key's bytes in the fetch. Key k's digits
 * are packed as nibbles in two words at `2k` (its length in the top byte of the second), so the
 * table is 8 bytes a key (8 MB at a million keys: fewer cache and TLB misses than the bytes
 * themselves) and a key is spread back into bytes with a few shifts (see {@link write}).
 * One table per key count is kept for the process.
 */
export class KeyTable {
  private static last: KeyTable | null = null;
  /** Key k: digits 1–8 in words[2k] (digit i in nibble i - 1), digits 9–10 and the length in words[2k + 1]. */
  readonly words: Int32Array;

  private constructor(readonly keys: number) {
    this.words = new Int32Array(keys * 2);
    const b = new Uint8Array(KEY_BYTES);
    for (let k = 0; k < keys; k++) {
      const end = writeKey(b, 0, k);
      let lo = 0;
      let hi = end << 24;
      for (let i = 4; i < end; i++) {
        const digit = b[i]! - 0x30;
        if (i < 12) lo |= digit << ((i - 4) * 4);
        else hi |= digit << ((i - 12) * 4);
      }
      this.words[k * 2] = lo;
      this.words[k * 2 + 1] = hi;
    }
  }

  /**
   * The table of `keys` keys (the last one made, when it has as many), or null past the limit
   * (and on a big-endian machine).
   */
  static of(keys: number): KeyTable | null {
    // Words are read and written as bytes little-endian (`dev-` is DEV_WORD).
    if (keys > KEY_TABLE_MAX_KEYS || endianness() !== 'LE') return null;
    if (KeyTable.last?.keys !== keys) KeyTable.last = new KeyTable(keys);
    return KeyTable.last;
  }

  /**
   * Writes key k's bytes as four words at `to[at..at + 4)` (16 bytes; those past its end are
   * digits `0`) and returns its length.
   */
  write(k: number, to: Int32Array, at: number): number {
    const lo = this.words[k * 2]!;
    const hi = this.words[k * 2 + 1]!;
    to[at] = DEV_WORD;
    to[at + 1] = spreadDigits(lo & 0xffff);
    to[at + 2] = spreadDigits(lo >>> 16);
    to[at + 3] = spreadDigits(hi & 0xff);
    return hi >>> 24;
  }
}

/** `dev-` as a little-endian word. */
const DEV_WORD = 0x2d766564;

/** Four digits packed as nibbles (the first lowest) → their four ASCII bytes as a little-endian word. */
function spreadDigits(x: number): number {
  return ((x & 0xf) | ((x & 0xf0) << 4) | ((x & 0xf00) << 8) | ((x & 0xf000) << 12)) + 0x30303030;
}

/** A record's value (xorshift value r): 0.00–999.99. */
function recordValue(r: number): number {
  return ((r >>> 8) % 100_000) / 100;
}

/**
 * A record's `numbers`: `{ value }` of a class of its own. An object literal's `value` shares its
 * map's field with every `{ value, ... }` in the process (iterator results among them), which
 * holds any value, so each number set in it would be a fresh heap number, and the record, long
 * lived, would take it through the write barrier (~12 ns a record); here the field holds doubles
 * in place.
 */
class Numbers {
  [field: string]: number;
  value = 0.5;
}

/** `n` empty records whose keys are bytes of `bytes`, refilled per batch. */
function emptyRecords(n: number, bytes: Buffer): KeyedRecord[] {
  return Array.from({ length: n }, () => new KeyedRecord('device', bytes, 0, 0, 0, new Numbers(), {}));
}

/**
 * Deterministic input: xorshift32 picks keys and values; event time advances at a steady rate
 * with jitter. The key is handed over as the JSON decoder hands over a plain single-field key: its
 * bytes land in a buffer (a fetch's, hot in cache) and the record points at them
 * ({@link KeyedRecord}). A contender that wants a string reads `seriesKey`, which `latin1Slice`s
 * a fresh flat string whose hash is not yet computed (so nobody gets V8's cached string hash for
 * free) and pays for it in its own time. Key k is `dev-<(k × 2654435761) mod 4294967291>`.
 *
 * With up to {@link KEY_TABLE_MAX_KEYS} keys, the keys' bytes come from a {@link KeyTable} a
 * batch at a time: the batch's keys are picked first, their table entries read ahead together
 * (at a million keys each is a cache miss, ~80 ns when taken one after another), then written.
 * The records are the same as {@link fill} makes one by one.
 */
export class InputStream {
  private s = 0x2545f491;
  /** A fetch's worth of records, refilled per batch (the engine does not keep them). */
  readonly records: KeyedRecord[];
  readonly offsets = new Float64Array(BATCH);
  private readonly msPerRecord: number;
  /** The batch's key bytes, `KEY_BYTES` per record. */
  private readonly bytes = Buffer.alloc(BATCH * KEY_BYTES) as SliceableBuffer;
  /** The same memory as 32-bit words. */
  private readonly words = new Int32Array(this.bytes.buffer, this.bytes.byteOffset, BATCH * (KEY_BYTES / 4));
  private readonly table: KeyTable | null;
  /** A batch's keys, times and values, between the stages of {@link fillBatch}. */
  private readonly picks = new Int32Array(BATCH);
  private readonly times = new Float64Array(BATCH);
  private readonly values = new Float64Array(BATCH);
  /** What the read-ahead loaded (kept, so that its loads are not dropped). */
  sink = 0;

  constructor(
    private readonly keys: number,
    perSeriesWindow: number,
    private readonly jitterMs: number,
    private readonly t0: number,
  ) {
    this.msPerRecord = 60_000 / (keys * perSeriesWindow);
    this.records = emptyRecords(BATCH, this.bytes);
    this.table = KeyTable.of(keys);
  }

  private next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x;
    return x >>> 0;
  }

  /** Fills `records[j]` with input `i` and returns it. */
  fill(i: number, j = 0): DecodedRecord {
    const r = this.next();
    const from = j * KEY_BYTES;
    const record = this.records[j]!;
    record.setKey(this.bytes, from, writeKey(this.bytes, from, floorMod(r, this.keys)));
    record.eventTimeMs = this.timeOf(i, r);
    record.numbers['value'] = recordValue(r);
    this.offsets[j] = i;
    return record;
  }

  /** Fills `records[0..n)` with inputs `i..i+n)`. */
  fillBatch(i: number, n: number): KeyedRecord[] {
    const table = this.table;
    if (table === null) {
      for (let j = 0; j < n; j++) this.fill(i + j, j);
      return this.records;
    }
    const times = this.times;
    const values = this.values;
    const picks = this.picks;
    for (let j = 0; j < n; j++) {
      const r = this.next();
      picks[j] = floorMod(r, this.keys);
      times[j] = this.timeOf(i + j, r);
      values[j] = recordValue(r);
    }
    const from = table.words;
    // Loads only, so that the batch's misses overlap; the sum keeps them from being dropped.
    let sink = 0;
    for (let j = 0; j < n; j++) sink ^= from[picks[j]! * 2]!;
    this.sink ^= sink;
    const to = this.words;
    for (let j = 0; j < n; j++) {
      const start = j * KEY_BYTES;
      const length = table.write(picks[j]!, to, j * 4);
      const record = this.records[j]!;
      record.setKey(this.bytes, start, start + length);
      record.eventTimeMs = times[j]!;
      record.numbers['value'] = values[j]!;
      this.offsets[j] = i + j;
    }
    return this.records;
  }

  /** Input i's event time (xorshift value r). */
  private timeOf(i: number, r: number): number {
    const jitter = ((r >>> 20) % (2 * this.jitterMs + 1)) - this.jitterMs;
    return Math.max(this.t0, Math.floor(this.t0 + i * this.msPerRecord) + jitter);
  }
}
