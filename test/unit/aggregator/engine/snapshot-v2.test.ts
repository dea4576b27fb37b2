import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PartitionEngine, type WindowResult } from '../../../../aggregator/engine/partition-engine.js';
import { generate, pipeline } from './engine-fixtures.js';
import { reference, refKey } from './reference.js';

/**
 * A version-2 snapshot (written before windows merged up: every record was applied to every
 * size) taken by that engine after the first 1138 records of partition 0 of this input, closed
 * windows drained. Restored, its open windows must keep that behaviour, or the records they
 * hold would reach the larger windows twice.
 */
const V2 = new URL('./fixtures/engine-v2-partition0-at-1138.b64', import.meta.url);
const CUT = 1138;

describe('PartitionEngine restores version-2 snapshots', () => {
  it('continues from the snapshot to exactly the reference, larger windows counted once', () => {
    const records = generate({ n: 6000, keys: 40, minutes: 30, jitterMs: 25_000, partitions: 3, seed: 7 })
      .filter((g) => g.partition === 0)
      .map((g) => g.record);
    const snapshot = Buffer.from(readFileSync(V2, 'utf8').trim(), 'base64');
    expect(snapshot.subarray(0, 4).readUInt32LE(0)).toBe(0x4c414532);

    // Windows emitted before the cut (the same from any engine), then the restored engine.
    const before = new PartitionEngine({ pipeline: pipeline(), topic: 'in', partition: 0 });
    for (let i = 0; i < CUT; i++) before.process(records[i]!, i);
    const results: WindowResult[] = [...before.drainClosed().results];
    const opts = { pipeline: pipeline(), topic: 'in', partition: 0 };
    let restored = PartitionEngine.restore(opts, snapshot);
    for (let i = CUT; i < records.length; i++) {
      // Checkpointed again (the current version) while windows of the old kind are open: they stay so.
      if (i === CUT + 20) {
        const again = restored.snapshot();
        expect(Buffer.from(again).readUInt32LE(0)).toBe(0x4c414536);
        restored = PartitionEngine.restore(opts, again);
      }
      restored.process(records[i]!, i);
      if (i % 50 === 0) results.push(...restored.drainClosed().results);
    }
    results.push(...restored.flush().results);

    const ref = reference(records, [60_000, 300_000], 10_000);
    const got = new Map(results.map((r) => [refKey(r.seriesKey, r.windowSizeMs, r.windowStartMs), r]));
    expect(got.size).toBe(results.length);
    expect(got.size).toBe(ref.windows.size);
    for (const [k, w] of ref.windows) {
      const a = got.get(k)?.aggregates['temp'];
      expect(a, k).toBeDefined();
      expect(a!.count, k).toBe(w.temps.length);
      expect(a!.sum, k).toBe(w.sum);
      if (w.last) expect(a!.last, k).toBe(w.last.value);
    }
  });
});
