import { describe, expect, it } from 'vitest';
import { KeyedRecord } from '../../../aggregator/decode/decoder.js';
import { createJsonDecoder } from '../../../aggregator/decode/json-decoder.js';
import { decodeBenchSpec, makeDecodeInput, measureDecode } from '../../bench/decode-bench.js';

describe('bench decode', () => {
  it('measures every contender on input each decodes, the single-key one without making key strings', () => {
    const single = createJsonDecoder({ ...decodeBenchSpec, keyFields: ['device'], predicateFields: [] });
    const records = makeDecodeInput(200).map((b) => single.decode(b, b.length));
    expect(records.every((r) => r.ok && r.record instanceof KeyedRecord)).toBe(true);
    const r = measureDecode({ records: 200, iterations: 2_000, rounds: 1 });
    for (const rate of [
      r.baseline.jsonParsePerSec,
      r.decoder.decodesPerSec,
      r.scanDecoder.decodesPerSec,
      r.singleKeyScanDecoder.decodesPerSec,
    ])
      expect(rate).toBeGreaterThan(0);
    expect(r.singleKeyScanRatioToJsonParse).toBeCloseTo(
      r.singleKeyScanDecoder.decodesPerSec / r.baseline.jsonParsePerSec,
      2,
    );
  });
});
