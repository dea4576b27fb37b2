import { latin1String, type SliceableBuffer } from '../codec/latin1-string.js';
import type { DeadLetterReason } from '../dead-letter/dead-letter.js';

/** A record turned into what the aggregator needs: its series key, event time and typed fields. */
export interface DecodedRecord {
  /** Key field values joined unambiguously (see `seriesKeyOf`); deterministic for a key tuple. */
  seriesKey: string;
  /** Key field → value as a string (numbers are converted with `String`). */
  keyValues: Record<string, string>;
  /** Event time in epoch milliseconds. */
  eventTimeMs: number;
  /** Declared numeric fields that are present (absent numeric fields are left out, not aggregated). */
  numbers: Record<string, number>;
  /** Declared distinct-count fields that are present, as strings. */
  strings: Record<string, string>;
  /**
   * The whole parsed object, for state-machine predicates. Decoders may leave it empty when the
   * pipeline's `predicateFields` are empty (nothing reads it): the JSON decoder then does.
   */
  raw: Record<string, unknown>;
  /**
   * The series key's UTF-8 bytes, `keyBytes[keyStart..keyEnd)`, when the decoder has them as such
   * (a single key field whose JSON string needs no escapes): the engine looks the key up from the
   * bytes, and `seriesKey` is only made into a string when something reads it (see
   * {@link KeyedRecord}). Null or absent otherwise.
   */
  keyBytes?: Uint8Array | null;
  keyStart?: number;
  keyEnd?: number;
}

/**
 * A decoded record whose series key is a range of ASCII bytes (e.g. of the Kafka record's value,
 * which outlives the record): `seriesKey` and `keyValues` are made from those bytes on first read,
 * so a record whose series the engine finds by its bytes never becomes a string. The bytes must be
 * the key as `seriesKeyOf` writes it (a single value with no `|` or backslash) and stay unchanged
 * while the record is in use.
 */
export class KeyedRecord implements DecodedRecord {
  keyBytes: Buffer;
  keyStart: number;
  keyEnd: number;
  private key: string | null = null;
  raw: Record<string, unknown>;
  /**
   * Declared with a number: a class field is defined before the constructor body runs, and one
   * defined as `undefined` would hold every time set later in a fresh heap number (a reused
   * record, e.g. a benchmark's input, would allocate one per record).
   */
  eventTimeMs = 0;
  numbers: Record<string, number>;
  strings: Record<string, string>;

  constructor(
    /** The key field's name (for `keyValues`). */
    private readonly keyField: string,
    keyBytes: Buffer,
    keyStart: number,
    keyEnd: number,
    eventTimeMs: number,
    numbers: Record<string, number>,
    strings: Record<string, string>,
  ) {
    this.eventTimeMs = eventTimeMs;
    this.numbers = numbers;
    this.strings = strings;
    this.keyBytes = keyBytes;
    this.keyStart = keyStart;
    this.keyEnd = keyEnd;
    this.raw = NO_RAW;
  }

  /** Points the record at another key (a reused record, e.g. a benchmark's input). */
  setKey(keyBytes: Buffer, keyStart: number, keyEnd: number): void {
    this.keyBytes = keyBytes;
    this.keyStart = keyStart;
    this.keyEnd = keyEnd;
    this.key = null;
  }

  get seriesKey(): string {
    if (this.key === null)
      this.key = latin1String(this.keyBytes as SliceableBuffer, this.keyStart, this.keyEnd);
    return this.key;
  }

  get keyValues(): Record<string, string> {
    return { [this.keyField]: this.seriesKey };
  }
}

/** `raw` of records decoded without the parsed object (no state machine reads it). */
export const NO_RAW: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

export type DecodeResult =
  | { ok: true; record: DecodedRecord }
  | { ok: false; reason: DeadLetterReason; detail: string };

/** Turns a Kafka record value into a {@link DecodedRecord}, or a dead-letter reason. Never throws. */
export interface Decoder {
  /**
   * Decodes one record value. The record returned stays valid after later calls (the worker
   * decodes a chunk of a fetch's records before the engine applies them).
   * @param value the Kafka record value (null for a tombstone → `malformed_json`)
   * @param sizeBytes the record's size in bytes, checked against the limit before parsing
   */
  decode(value: Buffer | null, sizeBytes: number): DecodeResult;
}
