import { describe, expect, it } from 'vitest';
import type { DecodedRecord } from '../../../../aggregator/decode/decoder.js';
import { PartitionEngine, type WindowResult } from '../../../../aggregator/engine/partition-engine.js';
import { generate, pipeline, rng } from './engine-fixtures.js';

/**
 * `processBatch` reads ahead what a chunk of records will need before applying them; it must
 * leave exactly the state and outputs of one `process` call per record, in the same order.
 */
describe('PartitionEngine.processBatch', () => {
  // Many keys (the dictionary and the tables grow while a chunk is read ahead), jitter beyond the
  // lateness (late records inside chunks), some non-ASCII keys (hashed over UTF-8 bytes).
  const records: DecodedRecord[] = generate({
    n: 40_000,
    keys: 6_000,
    minutes: 14,
    jitterMs: 14_000,
    partitions: 1,
    seed: 7,
  }).map((g, i) => (i % 13 === 0 ? { ...g.record, seriesKey: `${g.record.seriesKey}é` } : g.record));

  function oneByOne(): { results: WindowResult[]; refused: number[]; snapshot: Uint8Array; cuts: number[] } {
    const engine = new PartitionEngine({ pipeline: pipeline(), topic: 'in', partition: 0 });
    const results: WindowResult[] = [];
    const refused: number[] = [];
    const next = rng(11);
    const cuts: number[] = [];
    for (let from = 0; from < records.length; ) {
      const to = Math.min(records.length, from + 1 + Math.floor(next() * 300));
      for (let i = from; i < to; i++) {
        const outcome = engine.process(records[i]!, i);
        if (!outcome.ok) {
          expect(outcome.reason).toBe('late');
          refused.push(i);
        }
      }
      results.push(...engine.drainClosed().results);
      cuts.push(to);
      from = to;
    }
    return { results, refused, snapshot: engine.snapshot(), cuts };
  }

  it('leaves the same state and outputs as one process call per record', () => {
    const expected = oneByOne();
    expect(expected.refused.length).toBeGreaterThan(100);
    expect(expected.results.length).toBeGreaterThan(10_000);

    const engine = new PartitionEngine({ pipeline: pipeline(), topic: 'in', partition: 0 });
    const results: WindowResult[] = [];
    const refused: number[] = [];
    let from = 0;
    for (const to of expected.cuts) {
      const batch = records.slice(from, to);
      const offsets = Float64Array.from(batch, (_, j) => from + j);
      engine.processBatch(batch, offsets, batch.length, (j, outcome) => {
        expect(outcome.reason).toBe('late');
        refused.push(from + j);
      });
      results.push(...engine.drainClosed().results);
      from = to;
    }
    expect(refused).toEqual(expected.refused);
    expect(results).toEqual(expected.results);
    expect(Buffer.from(engine.snapshot()).equals(Buffer.from(expected.snapshot))).toBe(true);
  });

  it('applies only the first n records of the arrays', () => {
    const straight = new PartitionEngine({ pipeline: pipeline(), topic: 'in', partition: 0 });
    for (let i = 0; i < 100; i++) straight.process(records[i]!, i);
    const batched = new PartitionEngine({ pipeline: pipeline(), topic: 'in', partition: 0 });
    batched.processBatch(
      records.slice(0, 150),
      Float64Array.from({ length: 150 }, (_, i) => i),
      100,
    );
    expect(batched.stats().updates).toBe(straight.stats().updates);
    expect(batched.stats().updates + batched.stats().lateRecords).toBe(100);
    expect(Buffer.from(batched.snapshot()).equals(Buffer.from(straight.snapshot()))).toBe(true);
  });
});
