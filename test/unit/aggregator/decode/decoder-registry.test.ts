import { describe, expect, it } from 'vitest';
import type { Decoder } from '../../../../aggregator/decode/decoder.js';
import {
  defaultDecoderRegistry,
  UnknownDecoderFormatError,
} from '../../../../aggregator/decode/decoder-registry.js';
import type { DecoderSpec } from '../../../../aggregator/decode/json-decoder.js';

const spec: DecoderSpec = {
  keyFields: ['k'],
  eventTimeField: 't',
  numericFields: [],
  distinctFields: [],
  maxRecordBytes: 1000,
  predicateFields: [],
};

describe('decoder registry', () => {
  it('builds the json decoder by name', () => {
    const d = defaultDecoderRegistry().create('json', spec);
    const r = d.decode(Buffer.from('{"k":"x","t":5}'), 15);
    expect(r.ok && r.record.seriesKey).toBe('x');
  });

  it('accepts a new format without changing callers', () => {
    const csv: Decoder = {
      decode: (value) => {
        const [k, t] = (value?.toString() ?? '').split(',');
        return {
          ok: true,
          record: {
            seriesKey: k ?? '',
            keyValues: { k: k ?? '' },
            eventTimeMs: Number(t),
            numbers: {},
            strings: {},
            raw: {},
          },
        };
      },
    };
    const registry = defaultDecoderRegistry().register('csv', () => csv);
    expect(registry.formats()).toEqual(['csv', 'json']);
    const r = registry.create('csv', spec).decode(Buffer.from('x,9'), 3);
    expect(r.ok && r.record.eventTimeMs).toBe(9);
  });

  it('names the unknown format and the known ones', () => {
    const err = (() => {
      try {
        defaultDecoderRegistry().create('avro', spec);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(UnknownDecoderFormatError);
    expect((err as UnknownDecoderFormatError).code).toBe('DECODER_FORMAT_UNKNOWN');
    expect((err as Error).message).toContain('"avro"');
    expect((err as Error).message).toContain('json');
  });
});
