import { describe, expect, it } from 'vitest';
import { type DecodedRecord, KeyedRecord } from '../../../../aggregator/decode/decoder.js';
import { createJsonDecoder, type DecoderSpec } from '../../../../aggregator/decode/json-decoder.js';
import { PartitionEngine, type WindowResult } from '../../../../aggregator/engine/partition-engine.js';
import { pipeline, rng, T0 } from './engine-fixtures.js';

const single = pipeline({ keyFields: ['device'] });
const spec: Omit<DecoderSpec, 'predicateFields'> = {
  keyFields: ['device'],
  eventTimeField: 'ts',
  numericFields: ['temp'],
  distinctFields: ['user'],
  maxRecordBytes: 10_000,
};

/** JSON documents for `keys` devices over 12 minutes, some keys needing escapes, out of order. */
function documents(n: number, keys: number): Buffer[] {
  const r = rng(5);
  return Array.from({ length: n }, (_, i) => {
    const dev = Math.floor(r() * r() * keys);
    const device = dev % 11 === 0 ? `d|${dev}` : dev % 13 === 0 ? `dé${dev}` : `d${dev}`;
    const ts = T0 + Math.floor((i / n) * 12 * 60_000 + (r() * 2 - 1) * 30_000);
    const temp = Math.floor(r() * 2000) - 500;
    return Buffer.from(JSON.stringify({ device, ts, temp, user: `u${Math.floor(r() * 50)}` }));
  });
}

function run(records: DecodedRecord[]): { results: WindowResult[]; late: number } {
  const e = new PartitionEngine({ pipeline: single, topic: 'in', partition: 0 });
  let late = 0;
  const offsets = records.map((_, i) => i);
  for (let from = 0; from < records.length; from += 256) {
    const batch = records.slice(from, from + 256);
    e.processBatch(batch, offsets.slice(from, from + 256), batch.length, () => late++);
  }
  e.processBatch(
    [
      {
        seriesKey: 'end',
        keyValues: { device: 'end' },
        eventTimeMs: T0 + 3_600_000,
        numbers: {},
        strings: {},
        raw: {},
      },
    ],
    [records.length],
    1,
  );
  return { results: e.drainClosed().results, late };
}

describe('records whose keys are bytes (KeyedRecord)', () => {
  it('aggregate exactly as the same records with string keys', () => {
    const docs = documents(20_000, 3_000);
    const decode = (predicateFields: string[]) => {
      const d = createJsonDecoder({ ...spec, predicateFields });
      return docs.map((doc) => {
        const r = d.decode(doc, doc.length);
        if (!r.ok) throw new Error(r.detail);
        return r.record;
      });
    };
    const asBytes = decode([]);
    const asStrings = decode(['temp']);
    expect(asBytes.filter((r) => r instanceof KeyedRecord).length).toBeGreaterThan(15_000);
    expect(asStrings.some((r) => r instanceof KeyedRecord)).toBe(false);
    const got = run(asBytes);
    const want = run(asStrings);
    expect(got.results.length).toBeGreaterThan(3_000);
    expect(got.late).toBeGreaterThan(0);
    expect(got).toEqual(want);
    // The engine found most series from their bytes: their keys never became strings.
    const made = asBytes.filter(
      (r) =>
        r instanceof KeyedRecord &&
        Object.hasOwn(r, 'key') &&
        (r as unknown as { key: string | null }).key !== null,
    );
    expect(made.length).toBeLessThan(asBytes.length / 2);
  });
});
