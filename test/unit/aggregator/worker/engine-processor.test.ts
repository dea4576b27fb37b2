import { describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../../../aggregator/dead-letter/dead-letter.js';
import { EngineProcessorFactory } from '../../../../aggregator/worker/engine-processor.js';
import { SNAPSHOT_COPIES } from '../../../../aggregator/worker/partition-processor.js';
import type { SourceRecord } from '../../../../aggregator/worker/record-source.js';
import { pipeline, T0 } from '../engine/engine-fixtures.js';

const ref = { pipeline: 'metrics', topic: 'in', partition: 0 };

function source(offset: number, value: string | null): SourceRecord {
  const buf = value === null ? null : Buffer.from(value);
  return { offset: String(offset), key: null, value: buf, sizeBytes: buf?.length ?? 0 };
}

const json = (device: string, ts: number, temp: number) => JSON.stringify({ site: 's', device, ts, temp });

describe('EngineProcessor.applyBatch', () => {
  // 600 records (more than one decode chunk): every 7th is malformed, every 50th (from 400 on) is
  // a minute late, so decode failures and the engine's late refusals interleave within chunks.
  const records: SourceRecord[] = [];
  for (let i = 0; i < 600; i++) {
    const ts = T0 + i * 1000;
    if (i % 7 === 3) records.push(source(1000 + i, i % 2 === 0 ? '{"site": ' : null));
    else if (i >= 400 && i % 50 === 0) records.push(source(1000 + i, json(`d${i % 9}`, ts - 120_000, i)));
    else records.push(source(1000 + i, json(`d${i % 9}`, ts, i)));
  }
  const factory = () =>
    new EngineProcessorFactory([pipeline()], { budgetBytes: 1 << 30, highWater: 0.9, lowWater: 0.75 });

  it('refuses in record order with the reason, applies the rest, as one record at a time does', () => {
    const batched = factory().create(ref);
    const dead: DeadLetter[] = [];
    const applied = batched.applyBatch(records, 0, dead);
    const malformed = records.filter((_, i) => i % 7 === 3).length;
    const late = records.filter((_, i) => i % 7 !== 3 && i >= 400 && i % 50 === 0).length;
    expect(late).toBe(3);
    expect(dead.map((d) => d.reason).filter((r) => r === 'late')).toHaveLength(late);
    expect(dead).toHaveLength(malformed + late);
    expect(applied).toBe(records.length - malformed - late);
    // The unit setup loads the key lookup kernel, as a worker does; /status shows which ran.
    expect(batched.stats().keyLookup).toBe('webassembly');
    const offsets = dead.map((d) => Number(d.offset));
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(dead.find((d) => d.reason === 'late')).toMatchObject({
      pipeline: 'metrics',
      topic: 'in',
      partition: 0,
    });

    // The same records one at a time (batches of one) and in two parts leave the same outputs and state.
    const single = factory().create(ref);
    const singleDead: DeadLetter[] = [];
    let singleApplied = 0;
    for (let i = 0; i < records.length; i++)
      singleApplied += single.applyBatch(records.slice(i, i + 1), 0, singleDead);
    expect(singleApplied).toBe(applied);
    expect(singleDead).toEqual(dead);
    const split = factory().create(ref);
    const splitDead: DeadLetter[] = [];
    expect(
      split.applyBatch(records.slice(0, 333), 0, splitDead) + split.applyBatch(records, 333, splitDead),
    ).toBe(applied);
    expect(splitDead).toEqual(dead);
    const outputs = batched.takeOutputs();
    expect(outputs.results.length).toBeGreaterThan(0);
    expect(single.takeOutputs()).toEqual(outputs);
    expect(split.takeOutputs()).toEqual(outputs);
    expect(Buffer.from(split.snapshot()).equals(Buffer.from(batched.snapshot()))).toBe(true);
  });

  it("restores from a snapshot's parts, dropping each part once read (the state is then held once)", () => {
    const p = factory().create(ref);
    p.applyBatch(records, 0, []);
    const snapshot = p.snapshot();
    const size = 97;
    const parts: Uint8Array[] = [];
    for (let at = 0; at < snapshot.length; at += size) parts.push(snapshot.slice(at, at + size));
    expect(parts.length).toBeGreaterThan(10);
    const restored = factory().create(ref, parts);
    // Every part but the last is dropped; the restored state is the same.
    expect(parts.slice(0, -1).every((part) => part.byteLength === 0)).toBe(true);
    expect(parts.at(-1)!.byteLength).toBeGreaterThan(0);
    expect(Buffer.from(restored.snapshot()).equals(Buffer.from(snapshot))).toBe(true);
    expect(restored.takeOutputs()).toEqual(p.takeOutputs());
  });
});

describe('EngineProcessorFactory.holdBytes', () => {
  it('charges snapshot copies to the shared budget under their own name until released, with backpressure', () => {
    const factory = new EngineProcessorFactory([pipeline()], {
      budgetBytes: 1000,
      highWater: 0.8,
      lowWater: 0.5,
    });
    const release = factory.holdBytes(900);
    expect(factory.memory()).toMatchObject({
      usedBytes: 900,
      byPipeline: { [SNAPSHOT_COPIES]: 900 },
      pressure: 'pause',
    });
    release();
    release();
    expect(factory.memory()).toMatchObject({
      usedBytes: 0,
      byPipeline: { [SNAPSHOT_COPIES]: 0 },
      pressure: 'ok',
    });
  });
});
