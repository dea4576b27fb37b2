import { describe, expect, it } from 'vitest';
import type { DecodeResult } from '../../../../aggregator/decode/decoder.js';
import {
  createJsonDecoder,
  type DecoderSpec,
  parseZonedIso,
} from '../../../../aggregator/decode/json-decoder.js';

const spec: DecoderSpec = {
  keyFields: ['tenant', 'device'],
  eventTimeField: 'ts',
  numericFields: ['temp', 'load'],
  distinctFields: ['user'],
  maxRecordBytes: 200,
  predicateFields: ['status'],
};
const decoder = createJsonDecoder(spec);

function decodeJson(obj: unknown): DecodeResult {
  const value = Buffer.from(JSON.stringify(obj));
  return decoder.decode(value, value.length);
}

function expectFailure(result: DecodeResult, reason: string, ...detailParts: string[]): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.reason).toBe(reason);
  for (const part of detailParts) expect(result.detail).toContain(part);
}

describe('json decoder', () => {
  it('decodes a valid record into key, time, numbers, strings and raw', () => {
    const r = decodeJson({
      tenant: 'acme',
      device: 42,
      ts: 1_700_000_000_123,
      temp: 21.5,
      user: 'u1',
      status: 'up',
    });
    expect(r).toEqual({
      ok: true,
      record: {
        seriesKey: 'acme|42',
        keyValues: { tenant: 'acme', device: '42' },
        eventTimeMs: 1_700_000_000_123,
        numbers: { temp: 21.5 },
        strings: { user: 'u1' },
        raw: { tenant: 'acme', device: 42, ts: 1_700_000_000_123, temp: 21.5, user: 'u1', status: 'up' },
        keyBytes: null,
        keyStart: 0,
        keyEnd: 0,
      },
    });
  });

  it('accepts ISO-8601 times with Z or an offset, and bare dates as UTC', () => {
    const at = (ts: string) => {
      const r = decodeJson({ tenant: 'a', device: 'b', ts });
      return r.ok ? r.record.eventTimeMs : r.detail;
    };
    expect(at('2026-01-01T00:00:00Z')).toBe(Date.UTC(2026, 0, 1));
    expect(at('2026-01-01T00:00:00.250Z')).toBe(Date.UTC(2026, 0, 1) + 250);
    expect(at('2026-01-01T02:00:00+02:00')).toBe(Date.UTC(2026, 0, 1));
    expect(at('2025-12-31T19:00:00-05:00')).toBe(Date.UTC(2026, 0, 1));
    expect(at('2026-01-01')).toBe(Date.UTC(2026, 0, 1));
  });

  it('rejects an ISO time without a zone (it would depend on the worker time zone)', () => {
    expect(Number.isNaN(parseZonedIso('2026-01-01T00:00:00'))).toBe(true);
    expectFailure(
      decodeJson({ tenant: 'a', device: 'b', ts: '2026-01-01T00:00:00' }),
      'wrong_type',
      '"ts"',
      '2026-01-01T00:00:00',
    );
  });

  it('oversized: checked before parsing, detail names the size and the limit', () => {
    const r = decoder.decode(Buffer.from('not even json'), 201);
    expectFailure(r, 'oversized', '201', '200');
  });

  it('malformed_json: null value', () => {
    expectFailure(decoder.decode(null, 0), 'malformed_json', 'null');
  });

  it('malformed_json: empty value', () => {
    expectFailure(decoder.decode(Buffer.alloc(0), 0), 'malformed_json', 'empty');
  });

  it('malformed_json: invalid JSON', () => {
    const v = Buffer.from('{"tenant": "a",');
    expectFailure(decoder.decode(v, v.length), 'malformed_json', 'invalid JSON');
  });

  it('malformed_json: an array or a scalar instead of an object', () => {
    expectFailure(decodeJson([1, 2]), 'malformed_json', 'array');
    expectFailure(decodeJson(12), 'malformed_json', 'number', '12');
    expectFailure(decodeJson(null), 'malformed_json', 'null');
  });

  it('missing_key: key field absent', () => {
    expectFailure(decodeJson({ tenant: 'a', ts: 1 }), 'missing_key', '"device"', 'missing');
  });

  it('missing_key: key field null', () => {
    expectFailure(decodeJson({ tenant: null, device: 'b', ts: 1 }), 'missing_key', '"tenant"', 'null');
  });

  it('wrong_type: key field is an object', () => {
    expectFailure(
      decodeJson({ tenant: { id: 1 }, device: 'b', ts: 1 }),
      'wrong_type',
      '"tenant"',
      '{"id":1}',
    );
  });

  it('missing_time: event time absent', () => {
    expectFailure(decodeJson({ tenant: 'a', device: 'b' }), 'missing_time', '"ts"');
  });

  it('wrong_type: unparseable event time string', () => {
    expectFailure(
      decodeJson({ tenant: 'a', device: 'b', ts: 'yesterday' }),
      'wrong_type',
      '"ts"',
      '"yesterday"',
    );
  });

  it('wrong_type: event time of the wrong JSON type', () => {
    expectFailure(decodeJson({ tenant: 'a', device: 'b', ts: true }), 'wrong_type', '"ts"', 'true');
  });

  it('wrong_type: numeric field present but not a number', () => {
    expectFailure(
      decodeJson({ tenant: 'a', device: 'b', ts: 1, temp: '21.5' }),
      'wrong_type',
      '"temp"',
      '"21.5"',
    );
  });

  it('wrong_type: distinct field is an object', () => {
    expectFailure(decodeJson({ tenant: 'a', device: 'b', ts: 1, user: [1] }), 'wrong_type', '"user"', '[1]');
  });

  it('absent or null numeric fields are left out, not errors', () => {
    const r = decodeJson({ tenant: 'a', device: 'b', ts: 1, load: null });
    expect(r.ok && r.record.numbers).toEqual({});
  });

  it('numbers and strings as key values give the same series key', () => {
    const a = decodeJson({ tenant: 'a', device: 7, ts: 1 });
    const b = decodeJson({ tenant: 'a', device: '7', ts: 1 });
    expect(a.ok && b.ok && a.record.seriesKey === b.record.seriesKey).toBe(true);
  });
});
