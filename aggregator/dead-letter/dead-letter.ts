/**
 * Dead letters: records the worker cannot use go to a dead-letter topic with the reason in a
 * header, never crash the worker. This module is pure: it defines the reasons and builds the
 * Kafka record (headers + value); the producer lives in infra/.
 */

/** Every reason a record can be dead-lettered for; also the `reason` label values of the counter. */
export const DEAD_LETTER_REASONS = [
  'malformed_json',
  'missing_key',
  'missing_time',
  'wrong_type',
  'oversized',
  'late',
  'bad_partial',
] as const;

export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** A record that could not be used, with where it came from. */
export interface DeadLetter {
  reason: DeadLetterReason;
  /** Human-readable: names the field and the value, e.g. `field "ts": "yesterday" is not an epoch-ms number or ISO-8601 string`. */
  detail: string;
  pipeline: string;
  topic: string;
  partition: number;
  /** Kafka offset as a decimal string (int64). */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

/** Header names on a dead-letter record (all values are UTF-8 strings). */
export const DEAD_LETTER_HEADERS = {
  reason: 'la-reason',
  detail: 'la-detail',
  pipeline: 'la-pipeline',
  sourceTopic: 'la-source-topic',
  sourcePartition: 'la-source-partition',
  sourceOffset: 'la-source-offset',
  /** Present only when the value was cut: the original size in bytes. */
  truncatedFrom: 'la-truncated-from-bytes',
} as const;

/** Default cap on the value bytes copied into a dead-letter record (oversized records are cut to this). */
export const DEFAULT_DEAD_LETTER_VALUE_CAP_BYTES = 64 * 1024;
/** Details are cut to this many characters so a huge bad value cannot blow up a header. */
export const MAX_DETAIL_CHARS = 1024;

/** The record to produce to the dead-letter topic (shape compatible with kafkajs `Message`). */
export interface DeadLetterRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface DeadLetterRecordOptions {
  /** Values longer than this are truncated (default {@link DEFAULT_DEAD_LETTER_VALUE_CAP_BYTES}). */
  valueCapBytes?: number;
}

/**
 * Builds the Kafka dead-letter record: the original key, the original value (cut to the cap,
 * with `la-truncated-from-bytes` saying the original size), and the `la-*` headers.
 */
export function toDeadLetterRecord(
  letter: DeadLetter,
  options: DeadLetterRecordOptions = {},
): DeadLetterRecord {
  const cap = options.valueCapBytes ?? DEFAULT_DEAD_LETTER_VALUE_CAP_BYTES;
  const headers: Record<string, string> = {
    [DEAD_LETTER_HEADERS.reason]: letter.reason,
    [DEAD_LETTER_HEADERS.detail]: truncateDetail(letter.detail),
    [DEAD_LETTER_HEADERS.pipeline]: letter.pipeline,
    [DEAD_LETTER_HEADERS.sourceTopic]: letter.topic,
    [DEAD_LETTER_HEADERS.sourcePartition]: String(letter.partition),
    [DEAD_LETTER_HEADERS.sourceOffset]: letter.offset,
  };
  let value = letter.value;
  if (value !== null && value.length > cap) {
    headers[DEAD_LETTER_HEADERS.truncatedFrom] = String(value.length);
    value = value.subarray(0, cap);
  }
  return { key: letter.key, value, headers };
}

/** Cuts a detail string to {@link MAX_DETAIL_CHARS}, marking the cut. */
export function truncateDetail(detail: string): string {
  return detail.length <= MAX_DETAIL_CHARS ? detail : `${detail.slice(0, MAX_DETAIL_CHARS - 1)}…`;
}

/** True when `value` is one of {@link DEAD_LETTER_REASONS} (e.g. when reading a header back). */
export function isDeadLetterReason(value: string): value is DeadLetterReason {
  return (DEAD_LETTER_REASONS as readonly string[]).includes(value);
}

/** Where a record came from (the part of a {@link DeadLetter} that is not about the failure). */
export interface DeadLetterSource {
  pipeline: string;
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

/** Builds a {@link DeadLetter} from a failed decode (`{ ok: false, reason, detail }`) and its source record. */
export function deadLetterOf(
  failure: { reason: DeadLetterReason; detail: string },
  source: DeadLetterSource,
): DeadLetter {
  return { reason: failure.reason, detail: failure.detail, ...source };
}
