import { describe, expect, it } from 'vitest';
import type { DecodedRecord } from '../../../../aggregator/decode/decoder.js';
import {
  PART_SLOTS,
  PartitionEngine,
  type PartitionEngineOptions,
} from '../../../../aggregator/engine/partition-engine.js';
import { pipelineSchema } from '../../../../aggregator/pipeline/pipeline-schema.js';
import { MemoryManager } from '../../../../aggregator/store/memory-manager.js';
import { benchPipelineInput } from '../../../bench/core-bench.js';
import { resultsBy } from './engine-fixtures.js';

const T0 = Date.UTC(2026, 0, 1);
const KEYS = 40_000;
const LATENESS = 1000;

function options(memory?: MemoryManager): PartitionEngineOptions {
  const pipeline = pipelineSchema.parse(benchPipelineInput('parts', LATENESS));
  return { pipeline, topic: 'in', partition: 3, memory: memory?.account('parts') };
}

function record(key: string, t: number, value: number): DecodedRecord {
  return { seriesKey: key, keyValues: {}, eventTimeMs: t, numbers: { value }, strings: {}, raw: {} };
}

/**
 * KEYS series in the first 1m and 10m windows, then one record past the 10m window's end plus
 * lateness: the 1m window (KEYS rows in a table of more than two parts) and the 10m window it was
 * merged into close together.
 */
function closedEngine(memory?: MemoryManager): PartitionEngine {
  const e = new PartitionEngine(options(memory));
  for (let k = 0; k < KEYS; k++) e.process(record(`dev-${k}`, T0 + (k % 50_000), k * 0.25), k);
  e.process(record('late-closer', T0 + 600_000 + LATENESS, 1), KEYS);
  return e;
}

describe('PartitionEngine hands closed windows out in parts', () => {
  const whole = closedEngine().drainClosed().results;

  it('in whole parts of PART_SLOTS slots, the same rows in the same order as all at once', () => {
    expect(whole).toHaveLength(2 * KEYS);
    const parts = new Set(whole.map((r) => `${r.windowSizeMs}/${r.part}`));
    // 40,000 rows need more than two parts of 16,384 slots in each window's table.
    expect([...parts].filter((p) => p.startsWith('60000/')).length).toBeGreaterThanOrEqual(3);

    const calls = resultsBy(closedEngine(), 5000);
    // Each call is one part (a part is never split, and one is always given).
    for (const c of calls.slice(0, -1)) {
      expect(c.length).toBeGreaterThan(0);
      expect(c.length).toBeLessThanOrEqual(PART_SLOTS);
      expect(new Set(c.map((r) => `${r.windowSizeMs}/${r.part}`)).size).toBe(1);
    }
    expect(calls.flat()).toEqual(whole);
    // Parts go up within a window; a window's parts never interleave with another's.
    const order = calls.flat().map((r) => [r.windowSizeMs, r.part!] as const);
    for (let i = 1; i < order.length; i++) {
      const [size, part] = order[i]!;
      const [prevSize, prevPart] = order[i - 1]!;
      if (size === prevSize) expect(part).toBeGreaterThanOrEqual(prevPart);
    }
  });

  it('puts several whole parts in one call while they fit in maxRows', () => {
    const calls = resultsBy(closedEngine(), 30_000);
    expect(calls.flat()).toEqual(whole);
    expect(calls.length).toBeLessThan(resultsBy(closedEngine(), 5000).length);
    for (const c of calls) expect(c.length).toBeLessThanOrEqual(30_000);
    expect(
      Math.max(...calls.map((c) => new Set(c.map((r) => `${r.windowSizeMs}/${r.part}`)).size)),
    ).toBeGreaterThan(1);
  });

  it('a snapshot between parts restores only the rows not yet handed out', () => {
    const e = closedEngine();
    const first = e.drainClosed(5000);
    expect(first.more).toBe(true);
    const restored = PartitionEngine.restore(options(), e.snapshot());
    const rest = resultsBy(restored, 5000).flat();
    expect([...first.results, ...rest]).toEqual(whole);
    // And the original engine continues the same way.
    expect(resultsBy(e, 5000).flat()).toEqual(rest);
  });

  it('keeps the undrained rows charged to the memory budget until they are handed out', () => {
    const memory = new MemoryManager({ budgetBytes: 1 << 30, highWater: 0.9, lowWater: 0.75 });
    const e = closedEngine(memory);
    e.stats(); // charges what the last updates added (recounted every 1024 updates otherwise)
    const before = memory.report();
    expect(before.liveSeries).toBe(KEYS + 1);
    e.drainClosed(5000);
    const during = memory.report();
    // The tables are held until their last part is out (the series are still in the 10m window).
    expect(during.usedBytes).toBe(before.usedBytes);
    expect(during.liveSeries).toBe(before.liveSeries);
    resultsBy(e, 5000);
    const after = memory.report();
    // Both closed tables are given back (the dictionary keeps its capacity).
    expect(after.usedBytes).toBeLessThan(before.usedBytes / 2);
    expect(after.liveSeries).toBe(1);
  });
});
