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

/** 0000..9999 as four ASCII digits, little-endian words (the first digit lowest). */
const QUADS = Int32Array.from({ length: 10_000 }, (_, x) => {
  const d = [Math.floor(x / 1000), Math.floor(x / 100) % 10, Math.floor(x / 10) % 10, x % 10];
  return (0x30 + d[0]!) | ((0x30 + d[1]!) << 8) | ((0x30 + d[2]!) << 16) | ((0x30 + d[3]!) << 24);
});
/** `dev-` as a little-endian word. */
const DEV_WORD = 0x2d766564;
/** Words are bytes in little-endian order on this machine ({@link QUADS}, {@link DEV_WORD}). */
const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Writes `dev-<n>` (0 ≤ n < 2^32, as {@link writeKey} does) as four little-endian words at
 * `to[at..at + 4)`, bytes past its end left as they fall, and returns its length. n is written as
 * twelve digits, three table words of four, and the last ones are shifted into place: no chain of
 * dependent divisions (writing digit by digit cost ~80 ns a key), and no table indexed by key (one
 * at a million keys is a cache and TLB miss a record, taken from the engine's).
 */
export function writeKeyWords(to: Int32Array, at: number, n: number): number {
  // biome-ignore format: a decision tree
  const digits = n >= 1e5
    ? n >= 1e8 ? (n >= 1e9 ? 10 : 9) : n >= 1e7 ? 8 : n >= 1e6 ? 7 : 6
    : n >= 1e3 ? (n >= 1e4 ? 5 : 4) : n >= 100 ? 3 : n >= 10 ? 2 : 1;
  // Exact for n < 2^32: a quotient's fraction is never within rounding of the next integer.
  const a = Math.floor(n / 1e8);
  const rest = n - a * 1e8;
  const b = Math.floor(rest / 1e4);
  const w0 = QUADS[a]!;
  const w1 = QUADS[b]!;
  const w2 = QUADS[rest - b * 1e4]!;
  // The digits start `skip` bytes into the twelve (w0 w1 w2): the words from there on, in
  // locals (a store and load of a scratch array cost a third of the input). What a word takes
  // from past the twelve is past the key's end, so it may be any word.
  const skip = 12 - digits;
  const q = skip >> 2;
  const r = (skip & 3) * 8;
  const lo = q === 0 ? w0 : q === 1 ? w1 : w2;
  const mid = q === 0 ? w1 : w2;
  const hi = w2;
  to[at] = DEV_WORD;
  if (r === 0) {
    to[at + 1] = lo;
    to[at + 2] = mid;
    to[at + 3] = hi;
  } else {
    to[at + 1] = (lo >>> r) | (mid << (32 - r));
    to[at + 2] = (mid >>> r) | (hi << (32 - r));
    to[at + 3] = hi >>> r;
  }
  return 4 + digits;
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
  value = 0;
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
 * {@link fillBatch} makes a batch stage by stage (draws, key numbers, then the keys' words with
 * {@link writeKeyWords}); the records are the same as {@link fill} makes one by one.
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
  /** A batch's keys (then their numbers), times and values, between the stages of {@link fillBatch}. */
  private readonly numbers = new Float64Array(BATCH);
  private readonly times = new Float64Array(BATCH);
  private readonly values = new Float64Array(BATCH);

  constructor(
    private readonly keys: number,
    perSeriesWindow: number,
    private readonly jitterMs: number,
    private readonly t0: number,
  ) {
    this.msPerRecord = 60_000 / (keys * perSeriesWindow);
    this.records = emptyRecords(BATCH, this.bytes);
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
    if (!LITTLE_ENDIAN) {
      for (let j = 0; j < n; j++) this.fill(i + j, j);
      return this.records;
    }
    // A stage per kind of work over the batch, so that each record's chain of dependent
    // operations overlaps the next record's.
    const times = this.times;
    const values = this.values;
    const numbers = this.numbers;
    for (let j = 0; j < n; j++) {
      const r = this.next();
      numbers[j] = floorMod(r, this.keys);
      times[j] = this.timeOf(i + j, r);
      values[j] = recordValue(r);
    }
    for (let j = 0; j < n; j++) numbers[j] = keyNumber(numbers[j]!);
    const to = this.words;
    // Filled here, not through a helper shared with fill: with one, this loop ran at twice the cost.
    for (let j = 0; j < n; j++) {
      const start = j * KEY_BYTES;
      const length = writeKeyWords(to, j * 4, numbers[j]!);
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
