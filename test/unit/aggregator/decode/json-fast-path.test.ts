import { describe, expect, it } from 'vitest';
import { type DecodeResult, KeyedRecord } from '../../../../aggregator/decode/decoder.js';
import { createJsonDecoder, type DecoderSpec } from '../../../../aggregator/decode/json-decoder.js';
import { JsonFieldScanner } from '../../../../aggregator/decode/json-field-scanner.js';
import { rng as mulberry32 } from '../engine/engine-fixtures.js';

// The same pipeline twice: without predicate fields the decoder takes the scanner's fast path;
// with one it always goes through JSON.parse. Everything but `raw` must be identical.
const base: Omit<DecoderSpec, 'predicateFields'> = {
  keyFields: ['tenant', 'device'],
  eventTimeField: 'ts',
  numericFields: ['temp', 'load', 'device'],
  distinctFields: ['user', 'temp'],
  maxRecordBytes: 10_000,
};
const fast = createJsonDecoder({ ...base, predicateFields: [] });
const slow = createJsonDecoder({ ...base, predicateFields: ['status'] });

function withoutRaw(r: DecodeResult): unknown {
  if (!r.ok) return r;
  const { raw: _raw, ...rest } = r.record;
  return { ok: true, record: rest };
}

const NUMBER_TEXTS = [
  '0',
  '-0',
  '1',
  '-17',
  '21.5',
  '0.1',
  '0.30000000000000004',
  '123456789012345',
  '1234567890123456789',
  '9007199254740993',
  '1e3',
  '1E-7',
  '-2.5e+2',
  '1e400',
  '5e-324',
  '0.000001',
  '3.141592653589793',
  '1700000000123',
  '17.000',
  '00',
  '01',
  '1.',
  '.5',
  '-',
  '+1',
  '1e',
  '1e+',
  '0x10',
  '1.2.3',
  'NaN',
  '-Infinity',
];
const STRING_TEXTS = [
  '"acme"',
  '"dev-1"',
  '""',
  '"é中"',
  '"a\\"b"',
  '"tab\\tnew\\nline"',
  '"\\u00e9\\uD83D\\uDE00"',
  '"\\uD800"',
  '"2026-01-01T00:00:00Z"',
  '"2026-01-01T00:00:00"',
  '"2026-01-01"',
  '"bad\\x"',
  '"unterminated',
  '"a|b\\\\c"',
  `"${'x'.repeat(300)}"`,
];
const OTHER_TEXTS = [
  'true',
  'false',
  'null',
  '{}',
  '[]',
  '{"a":[1,{"b":null}]}',
  '[1, "2", [3]]',
  'tru',
  'nul',
  '{"a":}',
  '[1,]',
  '{"a" 1}',
  '[[[[[[]]]]]]',
];

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

function randomValue(rnd: () => number): string {
  const r = rnd();
  if (r < 0.4) return pick(rnd, NUMBER_TEXTS);
  if (r < 0.8) return pick(rnd, STRING_TEXTS);
  return pick(rnd, OTHER_TEXTS);
}

/** A document from the pipeline's fields and others, in random order, sometimes duplicated or odd. */
const ALL_NAMES = [
  'tenant',
  'device',
  'ts',
  'temp',
  'load',
  'user',
  'status',
  'zone',
  'tenant',
  'x\\u0074',
  'dévice',
];
/** Keys the scanner reads itself (an escaped or non-ASCII key is left to JSON.parse by design). */
const PLAIN_NAMES = ALL_NAMES.filter((n) => /^[a-z]+$/.test(n));

function randomDocument(rnd: () => number, names: readonly string[] = ALL_NAMES): string {
  const parts: string[] = [];
  // Usually the pipeline's key and time fields first, in random order, then anything.
  const required = rnd() < 0.7 ? ['tenant', 'device', 'ts'].sort(() => rnd() - 0.5) : [];
  const n = required.length + Math.floor(rnd() * 6);
  for (let i = 0; i < n; i++) {
    const name = i < required.length ? required[i]! : pick(rnd, names);
    // Mostly plausible values for the pipeline's fields, so many documents decode.
    let value: string;
    const plausible = i < required.length ? 0.9 : 0.6;
    if (rnd() < plausible && (name === 'tenant' || name === 'device' || name === 'user'))
      value = pick(rnd, ['"acme"', '"d1"', '42', '"é"']);
    else if (rnd() < plausible && name === 'ts')
      value = pick(rnd, ['1700000000123', '"2026-01-01T00:00:00Z"']);
    else if (rnd() < 0.6 && (name === 'temp' || name === 'load'))
      value = pick(rnd, ['21.5', '-3', '1e2', 'null']);
    else value = randomValue(rnd);
    const ws = () => pick(rnd, ['', '', ' ', '\n\t', '\r ']);
    parts.push(`${ws()}"${name}"${ws()}:${ws()}${value}${ws()}`);
  }
  let doc = `{${parts.join(',')}}`;
  const m = rnd();
  if (m < 0.08) doc = doc.slice(0, Math.floor(rnd() * doc.length));
  else if (m < 0.16) {
    const at = Math.floor(rnd() * doc.length);
    doc =
      doc.slice(0, at) + pick(rnd, [',', '}', '"', ' ', '\u0001', '\u001f', 'x', '\\', ':']) + doc.slice(at);
  } else if (m < 0.2) doc = pick(rnd, [' ', '\ufeff', '[', '"s"', '1', '']) + doc;
  else if (m < 0.24) doc += pick(rnd, [' ', 'x', '}', '\n']);
  return doc;
}

describe('JSON decoder fast path (scanner) vs JSON.parse', () => {
  it('gives the same result, reason and detail for 30,000 generated and mutated documents', () => {
    const rnd = mulberry32(20261127);
    let decoded = 0;
    for (let i = 0; i < 30_000; i++) {
      const doc = randomDocument(rnd);
      const bytes = Buffer.from(doc, 'utf8');
      const f = fast.decode(bytes, bytes.length);
      const s = slow.decode(bytes, bytes.length);
      expect(withoutRaw(f), doc).toEqual(withoutRaw(s));
      if (s.ok) decoded++;
    }
    // Both valid and invalid documents were exercised in quantity.
    expect(decoded).toBeGreaterThan(1_500);
    expect(decoded).toBeLessThan(27_000);
  });

  it('fast-path records carry an empty raw; with predicate fields raw is the parsed object', () => {
    const doc = Buffer.from('{"tenant":"acme","device":7,"ts":5,"temp":1.25,"status":"up"}');
    const f = fast.decode(doc, doc.length);
    const s = slow.decode(doc, doc.length);
    expect(f.ok && f.record.raw).toEqual({});
    expect(s.ok && s.record.raw).toEqual({ tenant: 'acme', device: 7, ts: 5, temp: 1.25, status: 'up' });
    expect(f.ok && f.record.numbers).toEqual({ temp: 1.25, device: 7 });
    expect(f.ok && f.record.strings).toEqual({ temp: '1.25' });
  });

  it('invalid UTF-8 inside a value decodes as JSON.parse does (U+FFFD)', () => {
    const doc = Buffer.concat([
      Buffer.from('{"tenant":"a'),
      Buffer.from([0xc3]),
      Buffer.from('","device":"b'),
      Buffer.from([0xe4, 0xb8]),
      Buffer.from('","ts":1}'),
    ]);
    expect(withoutRaw(fast.decode(doc, doc.length))).toEqual(withoutRaw(slow.decode(doc, doc.length)));
  });
});

// A single key field read for nothing else: the fast path leaves plain ASCII keys as bytes
// (KeyedRecord), made into strings only when read.
const singleBase: Omit<DecoderSpec, 'predicateFields'> = {
  keyFields: ['device'],
  eventTimeField: 'ts',
  numericFields: ['temp', 'load'],
  distinctFields: ['user'],
  maxRecordBytes: 10_000,
};
const singleFast = createJsonDecoder({ ...singleBase, predicateFields: [] });
const singleSlow = createJsonDecoder({ ...singleBase, predicateFields: ['status'] });

/** What a consumer reads of a result (getters included), without `raw` and the key's bytes. */
function readable(r: DecodeResult): unknown {
  if (!r.ok) return r;
  const { seriesKey, keyValues, eventTimeMs, numbers, strings } = r.record;
  return { ok: true, record: { seriesKey, keyValues, eventTimeMs, numbers, strings } };
}

describe('JSON decoder fast path with the key left as bytes', () => {
  it('reads the same as JSON.parse for 30,000 generated documents, most of their keys never made strings', () => {
    const rnd = mulberry32(20261128);
    let asBytes = 0;
    let decoded = 0;
    for (let i = 0; i < 30_000; i++) {
      const doc = randomDocument(rnd);
      const bytes = Buffer.from(doc, 'utf8');
      const f = singleFast.decode(bytes, bytes.length);
      const s = singleSlow.decode(bytes, bytes.length);
      if (f.ok && f.record instanceof KeyedRecord) {
        asBytes++;
        // The key's bytes are the series key's.
        const r = f.record;
        expect(bytes.toString('latin1', r.keyStart, r.keyEnd)).toBe(s.ok ? s.record.seriesKey : '');
      }
      expect(readable(f), doc).toEqual(readable(s));
      if (s.ok) decoded++;
    }
    expect(asBytes).toBeGreaterThan(1_000);
    expect(decoded).toBeGreaterThan(asBytes);
  });

  it('keeps as bytes only keys that are their own series key, in ASCII, without escapes', () => {
    const kinds = (device: string) => {
      const doc = Buffer.from(`{"device":${device},"ts":5}`);
      const r = singleFast.decode(doc, doc.length);
      if (!r.ok) throw new Error(r.detail);
      return [r.record instanceof KeyedRecord, r.record.seriesKey, r.record.keyValues['device']];
    };
    expect(kinds('"dev-1"')).toEqual([true, 'dev-1', 'dev-1']);
    // `|` is escaped in a series key; a JSON escape, non-ASCII text and numbers become strings.
    expect(kinds('"a|b"')).toEqual([false, 'a\\|b', 'a|b']);
    expect(kinds('"a\\"b"')).toEqual([false, 'a"b', 'a"b']);
    expect(kinds('"gerät"')).toEqual([false, 'gerät', 'gerät']);
    expect(kinds('17')).toEqual([false, '17', '17']);
    // A key field that is also aggregated stays a string.
    const both = createJsonDecoder({ ...singleBase, distinctFields: ['device'], predicateFields: [] });
    const doc = Buffer.from('{"device":"d","ts":5}');
    const r = both.decode(doc, doc.length);
    expect(r.ok && r.record instanceof KeyedRecord).toBe(false);
  });
});

describe('JsonFieldScanner', () => {
  it('accepts exactly what JSON.parse accepts (top-level objects with plain keys)', () => {
    const sc = new JsonFieldScanner(['a']);
    const rnd = mulberry32(7);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const doc = randomDocument(rnd, PLAIN_NAMES);
      let parses = true;
      try {
        const v: unknown = JSON.parse(doc);
        parses = typeof v === 'object' && v !== null && !Array.isArray(v);
      } catch {
        parses = false;
      }
      const ok = sc.scan(Buffer.from(doc, 'utf8'));
      // Never accepts what JSON.parse refuses; refuses what it accepts only for an escaped key
      // (a mutation can put a backslash into one), which it leaves to JSON.parse by design.
      if (ok || !parses) expect(ok, doc).toBe(parses);
      else expect(doc, doc).toMatch(/\\/);
      if (ok) accepted++;
    }
    expect(accepted).toBeGreaterThan(1_000);
  });

  it('reads numbers exactly as JSON.parse does', () => {
    const sc = new JsonFieldScanner(['v']);
    const rnd = mulberry32(99);
    const texts = [...NUMBER_TEXTS.filter((t) => /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(t))];
    for (let i = 0; i < 20_000; i++) {
      const digits = String(Math.floor(rnd() * 10 ** Math.floor(rnd() * 16)));
      const frac = rnd() < 0.7 ? `.${String(Math.floor(rnd() * 10 ** (1 + Math.floor(rnd() * 15))))}` : '';
      texts.push(`${rnd() < 0.3 ? '-' : ''}${digits}${frac}`);
    }
    for (const t of texts) {
      expect(sc.scan(Buffer.from(`{"v":${t}}`)), t).toBe(true);
      expect(Object.is(sc.numbers[0], JSON.parse(t)), t).toBe(true);
    }
  });

  it('gives up on nesting deeper than it validates, leaving it to JSON.parse', () => {
    const sc = new JsonFieldScanner(['a']);
    const deep = `{"x":${'['.repeat(100)}${']'.repeat(100)},"a":1}`;
    expect(sc.scan(Buffer.from(deep))).toBe(false);
    expect(withoutRaw(fast.decode(Buffer.from(deep), deep.length))).toEqual(
      withoutRaw(slow.decode(Buffer.from(deep), deep.length)),
    );
  });
});
