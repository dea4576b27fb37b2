import { type DecodedRecord, type DecodeResult, type Decoder, KeyedRecord, NO_RAW } from './decoder.js';
import {
  FIELD_ABSENT,
  FIELD_BYTES,
  FIELD_FALSE,
  FIELD_NULL,
  FIELD_NUMBER,
  FIELD_STRING,
  FIELD_TRUE,
  JsonFieldScanner,
} from './json-field-scanner.js';
import { seriesKeyOf } from './series-key.js';

/** What a pipeline needs decoded from each record. */
export interface DecoderSpec {
  /** Fields forming the series key, in order. Values must be strings or numbers. */
  keyFields: string[];
  /** Event-time field: epoch milliseconds (number) or an ISO-8601 string with a zone (`Z` or `±hh:mm`). */
  eventTimeField: string;
  /** Fields aggregated as numbers. Absent (or null) → left out of `numbers`; present non-number → `wrong_type`. */
  numericFields: string[];
  /** Fields counted distinct, carried as strings. Absent/null → left out; object/array → `wrong_type`. */
  distinctFields: string[];
  /** Records larger than this are `oversized` (checked before parsing). */
  maxRecordBytes: number;
  /**
   * Fields state-machine predicates read. The JSON decoder always keeps the whole parsed object in
   * `raw`, so this only matters to decoders that materialise fields selectively.
   */
  predicateFields: string[];
}

/** Longest rendering of an offending value in a detail string. */
const MAX_VALUE_CHARS = 80;

/**
 * JSON decoder. Rules (in order):
 * 1. `sizeBytes > maxRecordBytes` → `oversized` (before parsing).
 * 2. null/empty value, invalid JSON, or not a JSON object → `malformed_json`.
 * 3. a key field absent or null → `missing_key`; an object, array or boolean → `wrong_type`.
 *    Numbers become their `String(n)` form, so `1` and `"1"` are the same key.
 * 4. event time absent or null → `missing_time`; not a finite number nor a zoned ISO-8601 string → `wrong_type`.
 *    An ISO string without a zone is rejected: its meaning would depend on the worker's time zone.
 * 5. numeric fields: absent/null are skipped (not aggregated for this record); any other non-number → `wrong_type`.
 * 6. distinct fields: strings, numbers and booleans are kept as strings; object/array → `wrong_type`.
 * Written as a plain class with indexed loops: it runs once per record on the hot path.
 *
 * Two paths with the same results. When no state machine reads the record (`predicateFields`
 * empty, so `raw` is not needed), a {@link JsonFieldScanner} validates the bytes and extracts only
 * the declared fields — no string of the whole record, no object — and `raw` is an empty object.
 * Whatever is not the plain case (invalid JSON, a wrong type, a missing key…) is decoded again
 * by `JSON.parse`, which gives the reason and detail; so does every record of a pipeline with
 * state machines (they read `raw`).
 */
class JsonDecoder implements Decoder {
  private readonly keyFields: string[];
  private readonly timeField: string;
  private readonly numericFields: string[];
  private readonly distinctFields: string[];
  private readonly maxBytes: number;
  private readonly keyBuf: string[];
  /** Fast path (null when state machines need `raw`), and each field's index in its results. */
  private readonly scanner: JsonFieldScanner | null;
  private readonly keyAt: number[];
  /** The single key field's index when its plain strings come as bytes ({@link KeyedRecord}), else -1. */
  private readonly keyBytesAt: number;
  private readonly timeAt: number;
  private readonly numericAt: number[];
  private readonly distinctAt: number[];

  constructor(spec: DecoderSpec) {
    this.keyFields = [...spec.keyFields];
    this.timeField = spec.eventTimeField;
    this.numericFields = [...spec.numericFields];
    this.distinctFields = [...spec.distinctFields];
    this.maxBytes = spec.maxRecordBytes;
    this.keyBuf = new Array<string>(this.keyFields.length).fill('');
    const names: string[] = [];
    const at = (f: string): number => {
      const i = names.indexOf(f);
      return i >= 0 ? i : names.push(f) - 1;
    };
    this.keyAt = this.keyFields.map(at);
    this.timeAt = at(this.timeField);
    this.numericAt = this.numericFields.map(at);
    this.distinctAt = this.distinctFields.map(at);
    // A single key field read for nothing else is left as bytes: the engine finds the series from
    // them, with no string per record.
    const k = this.keyAt[0]!;
    const shared = this.timeAt === k || this.numericAt.includes(k) || this.distinctAt.includes(k);
    this.keyBytesAt = this.keyFields.length === 1 && !shared ? k : -1;
    // `__proto__` is an own property after JSON.parse but would need care here: leave it to JSON.parse.
    this.scanner =
      spec.predicateFields.length === 0 && !names.includes('__proto__')
        ? new JsonFieldScanner(names, this.keyBytesAt >= 0 ? [this.keyBytesAt] : [])
        : null;
  }

  decode(value: Buffer | null, sizeBytes: number): DecodeResult {
    if (sizeBytes > this.maxBytes) {
      return fail('oversized', `record of ${sizeBytes} bytes exceeds maxRecordBytes ${this.maxBytes}`);
    }
    if (value === null || value.length === 0) {
      return fail('malformed_json', value === null ? 'value is null (tombstone)' : 'value is empty');
    }
    const scanner = this.scanner;
    if (scanner?.scan(value)) {
      const record = this.fromScan(scanner, value);
      if (record !== null) return { ok: true, record };
    }
    return this.decodeParsed(value);
  }

  /** The record from a successful scan, or null when it is not the plain case (JSON.parse decides). */
  private fromScan(sc: JsonFieldScanner, value: Buffer): DecodedRecord | null {
    const kinds = sc.kinds;
    const keyFields = this.keyFields;
    const keyBuf = this.keyBuf;
    // The key as bytes when it is its own series key (`seriesKeyOf` escapes `|`; `\` is a JSON escape).
    let keyed = false;
    let keyValues: Record<string, string> = NO_KEY_VALUES;
    const kb = this.keyBytesAt;
    if (kb >= 0 && kinds[kb] === FIELD_BYTES) {
      const end = sc.ends[kb]!;
      let p = sc.starts[kb]!;
      while (p < end && value[p] !== 0x7c) p++;
      keyed = p === end;
      if (!keyed) {
        sc.kinds[kb] = FIELD_STRING;
        sc.strings[kb] = value.toString('latin1', sc.starts[kb]!, sc.ends[kb]!);
      }
    }
    if (!keyed) {
      keyValues = {};
      for (let i = 0; i < keyFields.length; i++) {
        const j = this.keyAt[i]!;
        const kind = kinds[j];
        let s: string;
        if (kind === FIELD_STRING) s = sc.strings[j]!;
        else if (kind === FIELD_NUMBER) s = String(sc.numbers[j]!);
        else return null;
        keyBuf[i] = s;
        keyValues[keyFields[i]!] = s;
      }
    }
    let eventTimeMs: number;
    const tk = kinds[this.timeAt];
    if (tk === FIELD_NUMBER) eventTimeMs = sc.numbers[this.timeAt]!;
    else if (tk === FIELD_STRING) eventTimeMs = parseZonedIso(sc.strings[this.timeAt]!);
    else return null;
    if (!Number.isFinite(eventTimeMs)) return null;
    const numbers: Record<string, number> = {};
    const numericFields = this.numericFields;
    for (let i = 0; i < numericFields.length; i++) {
      const j = this.numericAt[i]!;
      const kind = kinds[j];
      if (kind === FIELD_NUMBER) {
        const v = sc.numbers[j]!;
        if (!Number.isFinite(v)) return null;
        numbers[numericFields[i]!] = v;
      } else if (kind !== FIELD_ABSENT && kind !== FIELD_NULL) return null;
    }
    const strings: Record<string, string> = {};
    const distinctFields = this.distinctFields;
    for (let i = 0; i < distinctFields.length; i++) {
      const j = this.distinctAt[i]!;
      const kind = kinds[j];
      if (kind === FIELD_STRING) strings[distinctFields[i]!] = sc.strings[j]!;
      else if (kind === FIELD_NUMBER) strings[distinctFields[i]!] = String(sc.numbers[j]!);
      else if (kind === FIELD_TRUE) strings[distinctFields[i]!] = 'true';
      else if (kind === FIELD_FALSE) strings[distinctFields[i]!] = 'false';
      else if (kind !== FIELD_ABSENT && kind !== FIELD_NULL) return null;
    }
    if (keyed) {
      return new KeyedRecord(
        keyFields[0]!,
        value,
        sc.starts[kb]!,
        sc.ends[kb]!,
        eventTimeMs,
        numbers,
        strings,
      );
    }
    return {
      seriesKey: seriesKeyOf(keyBuf),
      keyValues,
      eventTimeMs,
      numbers,
      strings,
      raw: NO_RAW,
      keyBytes: null,
      keyStart: 0,
      keyEnd: 0,
    };
  }

  /** The JSON.parse path: every rule, every reason and detail. */
  private decodeParsed(value: Buffer): DecodeResult {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value.toString('utf8'));
    } catch (err) {
      return fail('malformed_json', `invalid JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return fail('malformed_json', `expected a JSON object, got ${describeKind(parsed)}`);
    }
    const obj = parsed as Record<string, unknown>;

    const keyFields = this.keyFields;
    const keyBuf = this.keyBuf;
    const keyValues: Record<string, string> = {};
    for (let i = 0; i < keyFields.length; i++) {
      const field = keyFields[i] as string;
      const v = obj[field];
      let s: string;
      if (typeof v === 'string') s = v;
      else if (typeof v === 'number') s = String(v);
      else if (v === undefined || v === null)
        return fail('missing_key', `key field "${field}" is ${v === null ? 'null' : 'missing'}`);
      else return fail('wrong_type', `key field "${field}": ${show(v)} is not a string or number`);
      keyBuf[i] = s;
      keyValues[field] = s;
    }

    const t = obj[this.timeField];
    let eventTimeMs: number;
    if (typeof t === 'number') {
      if (!Number.isFinite(t))
        return fail('wrong_type', `event time field "${this.timeField}": ${show(t)} is not finite`);
      eventTimeMs = t;
    } else if (typeof t === 'string') {
      eventTimeMs = parseZonedIso(t);
      if (Number.isNaN(eventTimeMs)) {
        return fail(
          'wrong_type',
          `event time field "${this.timeField}": ${show(t)} is not epoch milliseconds or an ISO-8601 time with a zone (e.g. 2026-01-01T00:00:00Z)`,
        );
      }
    } else if (t === undefined || t === null) {
      return fail(
        'missing_time',
        `event time field "${this.timeField}" is ${t === null ? 'null' : 'missing'}`,
      );
    } else {
      return fail(
        'wrong_type',
        `event time field "${this.timeField}": ${show(t)} is not epoch milliseconds or an ISO-8601 string`,
      );
    }

    const numbers: Record<string, number> = {};
    const numericFields = this.numericFields;
    for (let i = 0; i < numericFields.length; i++) {
      const field = numericFields[i] as string;
      const v = obj[field];
      if (typeof v === 'number') {
        if (!Number.isFinite(v))
          return fail('wrong_type', `numeric field "${field}": ${show(v)} is not finite`);
        numbers[field] = v;
      } else if (v !== undefined && v !== null) {
        return fail('wrong_type', `numeric field "${field}": ${show(v)} is not a number`);
      }
    }

    const strings: Record<string, string> = {};
    const distinctFields = this.distinctFields;
    for (let i = 0; i < distinctFields.length; i++) {
      const field = distinctFields[i] as string;
      const v = obj[field];
      if (typeof v === 'string') strings[field] = v;
      else if (typeof v === 'number' || typeof v === 'boolean') strings[field] = String(v);
      else if (v !== undefined && v !== null) {
        return fail('wrong_type', `distinct field "${field}": ${show(v)} is not a string, number or boolean`);
      }
    }

    const record: DecodedRecord = {
      seriesKey: seriesKeyOf(keyBuf),
      keyValues,
      eventTimeMs,
      numbers,
      strings,
      raw: obj,
      keyBytes: null,
      keyStart: 0,
      keyEnd: 0,
    };
    return { ok: true, record };
  }
}

const NO_KEY_VALUES: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Creates the JSON decoder for a pipeline. */
export function createJsonDecoder(spec: DecoderSpec): Decoder {
  return new JsonDecoder(spec);
}

function fail(reason: Exclude<DecodeResult, { ok: true }>['reason'], detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

/**
 * Parses an ISO-8601 date or date-time. A bare date (`2026-01-01`) is UTC midnight; a date-time must
 * carry `Z` or a numeric offset, otherwise NaN (a zone-less time means the worker's local time in JS).
 */
export function parseZonedIso(s: string): number {
  const n = s.length;
  // YYYY-MM-DD at least, digits and dashes where ISO puts them (no regex on the hot path).
  if (n < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || !isDigit(s.charCodeAt(0)))
    return Number.NaN;
  if (n > 10) {
    const c10 = s.charCodeAt(10);
    if (c10 !== 84 && c10 !== 116 && c10 !== 32) return Number.NaN; // 'T', 't' or ' '
    const last = s.charCodeAt(n - 1);
    // Zone designator: `Z`, or a sign starting `±hh:mm`, `±hhmm` or `±hh`, after the time part began.
    const zoned = last === 90 || last === 122 || signAt(s, n - 6) || signAt(s, n - 5) || signAt(s, n - 3);
    if (!zoned) return Number.NaN;
  }
  return Date.parse(s);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function signAt(s: string, i: number): boolean {
  if (i <= 10) return false;
  const c = s.charCodeAt(i);
  return c === 43 || c === 45;
}

function describeKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v} (${show(v)})`;
}

/** Renders an offending value for a detail string, cut to a readable length. */
function show(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    s = String(v);
  }
  return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS - 1)}…` : s;
}
