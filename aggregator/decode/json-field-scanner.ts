import { latin1String, type SliceableBuffer } from '../codec/latin1-string.js';
/** What {@link JsonFieldScanner.scan} found for one wanted field. */
export const FIELD_ABSENT = 0;
export const FIELD_STRING = 1;
export const FIELD_NUMBER = 2;
export const FIELD_NULL = 3;
export const FIELD_TRUE = 4;
export const FIELD_FALSE = 5;
/** An object or an array (validated, not materialised). */
export const FIELD_COMPOSITE = 6;
/**
 * An ASCII string without escapes in a field asked for as bytes: its characters are the
 * document's bytes `[starts, ends)`; no string is made. (Other strings of such a field come as
 * {@link FIELD_STRING}: their bytes may not be valid UTF-8, which JSON.parse turns into U+FFFD.)
 */
export const FIELD_BYTES = 7;

/** Exact powers of ten as doubles (10^0 … 10^22 are all exactly representable). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
/** Nesting deeper than this inside skipped values is left to JSON.parse (the caller's slow path). */
const MAX_DEPTH = 64;

/**
 * One pass over a JSON document's UTF-8 bytes that validates all of it and extracts only the
 * top-level fields a pipeline reads, without building the object or decoding the whole buffer
 * into a string: what `JSON.parse` spends most of its time on for records of which a pipeline
 * reads 3 fields out of 7.
 *
 * `scan` returns `true` only for a document `JSON.parse` accepts, with each wanted field's last
 * occurrence (JSON.parse's rule for duplicates) in `kinds` / `strings` / `numbers` exactly as
 * `JSON.parse` would give it. It returns `false` for invalid JSON, and also for what it leaves to
 * `JSON.parse` on purpose (escaped object keys, nesting deeper than 64, a top level that is not an
 * object): the caller then decodes with `JSON.parse`, which also words the error. Tested for
 * equivalence against `JSON.parse` on generated and mutated documents.
 */
export class JsonFieldScanner {
  readonly kinds: Uint8Array;
  readonly strings: string[];
  readonly numbers: Float64Array;
  /** Byte range of each {@link FIELD_BYTES} field. */
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** 1 for the fields whose plain strings are left as byte ranges. */
  private readonly asBytes: Uint8Array;
  private readonly wanted: Buffer[];
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private end = 0;

  /**
   * @param fields the top-level fields wanted
   * @param bytesFields indexes (into `fields`) whose strings, when ASCII without escapes, are
   *   reported as {@link FIELD_BYTES} ranges instead of strings
   */
  constructor(fields: readonly string[], bytesFields: readonly number[] = []) {
    this.wanted = fields.map((f) => Buffer.from(f, 'utf8'));
    this.kinds = new Uint8Array(fields.length);
    this.strings = new Array<string>(fields.length).fill('');
    this.numbers = new Float64Array(fields.length);
    this.starts = new Int32Array(fields.length);
    this.ends = new Int32Array(fields.length);
    this.asBytes = new Uint8Array(fields.length);
    for (const i of bytesFields) this.asBytes[i] = 1;
  }

  scan(buf: Buffer): boolean {
    this.buf = buf;
    this.pos = 0;
    this.end = buf.length;
    const kinds = this.kinds;
    for (let i = 0; i < kinds.length; i++) kinds[i] = FIELD_ABSENT;
    const ok = this.scanTop();
    this.buf = EMPTY;
    return ok;
  }

  private scanTop(): boolean {
    this.skipWs();
    if (this.pos >= this.end || this.buf[this.pos] !== 0x7b) return false; // '{'
    if (!this.scanObject(0, true)) return false;
    this.skipWs();
    return this.pos === this.end;
  }

  private skipWs(): void {
    const b = this.buf;
    let p = this.pos;
    while (p < this.end) {
      const c = b[p]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      p++;
    }
    this.pos = p;
  }

  /** An object key at `pos` (on its quote): the wanted field's index, -1 for another key, -2 to give up. */
  private scanKey(): number {
    const b = this.buf;
    const start = this.pos + 1;
    let p = start;
    for (;;) {
      if (p >= this.end) return -2;
      const c = b[p]!;
      if (c === 0x22) break;
      // Escaped or non-ASCII keys: left to JSON.parse (it compares decoded text, e.g. U+FFFD).
      if (c === 0x5c || c < 0x20 || c >= 0x80) return -2;
      p++;
    }
    this.pos = p + 1;
    const len = p - start;
    const wanted = this.wanted;
    for (let i = 0; i < wanted.length; i++) {
      const w = wanted[i]!;
      if (w.length !== len) continue;
      let j = 0;
      while (j < len && w[j] === b[start + j]) j++;
      if (j === len) return i;
    }
    return -1;
  }

  /** A wanted field's value at `pos`. */
  private readValue(field: number): boolean {
    const b = this.buf;
    if (this.pos >= this.end) return false;
    const c = b[this.pos]!;
    if (c === 0x22) {
      const start = this.pos;
      const flags = this.skipString();
      if (flags < 0) return false;
      if (flags === 0 && this.asBytes[field] === 1) {
        this.kinds[field] = FIELD_BYTES;
        this.starts[field] = start + 1;
        this.ends[field] = this.pos - 1;
        return true;
      }
      this.kinds[field] = FIELD_STRING;
      this.strings[field] =
        flags === 0
          ? latin1String(b as SliceableBuffer, start + 1, this.pos - 1)
          : flags === 1
            ? (b as SliceableBuffer).utf8Slice(start + 1, this.pos - 1)
            : (JSON.parse(b.toString('utf8', start, this.pos)) as string);
      return true;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const v = this.readNumber();
      if (v === null) return false;
      this.kinds[field] = FIELD_NUMBER;
      this.numbers[field] = v;
      return true;
    }
    const start = this.pos;
    if (!this.skipValue(0)) return false;
    const first = b[start];
    this.kinds[field] =
      first === 0x6e
        ? FIELD_NULL
        : first === 0x74
          ? FIELD_TRUE
          : first === 0x66
            ? FIELD_FALSE
            : FIELD_COMPOSITE;
    return true;
  }

  /** Skips a string at `pos` (on its quote): -1 invalid, 0 ASCII, 1 non-ASCII bytes, 2 escapes. */
  private skipString(): number {
    const b = this.buf;
    let p = this.pos + 1;
    let flags = 0;
    for (;;) {
      if (p >= this.end) return -1;
      const c = b[p]!;
      if (c === 0x22) break;
      if (c < 0x20) return -1;
      if (c === 0x5c) {
        flags = 2;
        p++;
        if (p >= this.end) return -1;
        const e = b[p]!;
        if (e === 0x75) {
          // \uXXXX
          if (p + 4 >= this.end) return -1;
          for (let k = 1; k <= 4; k++) if (!isHex(b[p + k]!)) return -1;
          p += 4;
        } else if (
          e !== 0x22 &&
          e !== 0x5c &&
          e !== 0x2f &&
          e !== 0x62 &&
          e !== 0x66 &&
          e !== 0x6e &&
          e !== 0x72 &&
          e !== 0x74
        ) {
          return -1;
        }
      } else if (c >= 0x80 && flags === 0) flags = 1;
      p++;
    }
    this.pos = p + 1;
    return flags;
  }

  /**
   * A number at `pos` per the JSON grammar `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`, or null when
   * it is not one. Up to 15 significant digits without an exponent part are computed exactly
   * (an integer mantissa times or divided by an exact power of ten is correctly rounded, as
   * `JSON.parse` is); anything else goes through `Number` on its text.
   */
  private readNumber(): number | null {
    const b = this.buf;
    const end = this.end;
    const start = this.pos;
    let p = start;
    const negative = b[p] === 0x2d;
    if (negative) p++;
    if (p >= end) return null;
    let mantissa = 0;
    let digits = 0;
    if (b[p] === 0x30) {
      p++;
    } else if (b[p]! >= 0x31 && b[p]! <= 0x39) {
      while (p < end && b[p]! >= 0x30 && b[p]! <= 0x39) {
        mantissa = mantissa * 10 + (b[p]! - 0x30);
        digits++;
        p++;
      }
    } else return null;
    let fraction = 0;
    if (p < end && b[p] === 0x2e) {
      p++;
      const f0 = p;
      while (p < end && b[p]! >= 0x30 && b[p]! <= 0x39) {
        mantissa = mantissa * 10 + (b[p]! - 0x30);
        p++;
      }
      fraction = p - f0;
      if (fraction === 0) return null;
      digits += fraction;
    }
    let exponent = false;
    if (p < end && (b[p] === 0x65 || b[p] === 0x45)) {
      exponent = true;
      p++;
      if (p < end && (b[p] === 0x2b || b[p] === 0x2d)) p++;
      const e0 = p;
      while (p < end && b[p]! >= 0x30 && b[p]! <= 0x39) p++;
      if (p === e0) return null;
    }
    this.pos = p;
    if (!exponent && digits <= 15 && fraction <= 22) {
      const v = fraction === 0 ? mantissa : mantissa / POW10[fraction]!;
      return negative ? -v : v;
    }
    return Number(latin1String(b as SliceableBuffer, start, p));
  }

  /** Validates and skips any value at `pos`. */
  private skipValue(depth: number): boolean {
    const b = this.buf;
    if (this.pos >= this.end) return false;
    const c = b[this.pos]!;
    if (c === 0x22) return this.skipString() >= 0;
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.readNumber() !== null;
    if (c === 0x74) return this.literal(TRUE);
    if (c === 0x66) return this.literal(FALSE);
    if (c === 0x6e) return this.literal(NULL);
    if (depth >= MAX_DEPTH) return false;
    if (c === 0x7b) return this.scanObject(depth + 1, false);
    if (c === 0x5b) return this.skipArray(depth + 1);
    return false;
  }

  /**
   * An object at `pos` (on its brace). At the top level (`top`) the wanted fields' values are read; everywhere else
   * keys and values are only validated.
   */
  private scanObject(depth: number, top: boolean): boolean {
    const b = this.buf;
    this.pos++;
    this.skipWs();
    if (this.pos < this.end && b[this.pos] === 0x7d) {
      this.pos++;
      return true;
    }
    for (;;) {
      if (this.pos >= this.end || b[this.pos] !== 0x22) return false;
      const field = top ? this.scanKey() : this.skipString() < 0 ? -2 : -1;
      if (field === -2) return false;
      this.skipWs();
      if (this.pos >= this.end || b[this.pos] !== 0x3a) return false; // ':'
      this.pos++;
      this.skipWs();
      if (!(field >= 0 ? this.readValue(field) : this.skipValue(depth))) return false;
      this.skipWs();
      if (this.pos >= this.end) return false;
      const c = b[this.pos++]!;
      if (c === 0x7d) return true;
      if (c !== 0x2c) return false;
      this.skipWs();
    }
  }

  private skipArray(depth: number): boolean {
    const b = this.buf;
    this.pos++;
    this.skipWs();
    if (this.pos < this.end && b[this.pos] === 0x5d) {
      this.pos++;
      return true;
    }
    for (;;) {
      if (!this.skipValue(depth)) return false;
      this.skipWs();
      if (this.pos >= this.end) return false;
      const c = b[this.pos++]!;
      if (c === 0x5d) return true;
      if (c !== 0x2c) return false;
      this.skipWs();
    }
  }

  private literal(word: Uint8Array): boolean {
    const b = this.buf;
    if (this.pos + word.length > this.end) return false;
    for (let k = 0; k < word.length; k++) if (b[this.pos + k] !== word[k]) return false;
    this.pos += word.length;
    return true;
  }
}

const EMPTY = Buffer.alloc(0);
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
