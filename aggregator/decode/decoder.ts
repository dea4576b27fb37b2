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
}

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
