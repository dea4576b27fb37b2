import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MERGED_PART_ROWS } from '../../../../aggregator/engine/partial-merger.js';
import { PartitionEngine, type WindowResult } from '../../../../aggregator/engine/partition-engine.js';
import { pipeline, resultsBy, T0 } from './engine-fixtures.js';
import { level1Partials, level2 } from './level-two-fixtures.js';

const DEVICES = 20_000;
const aggregates = [{ field: 'temp', kinds: ['count', 'sum', 'min', 'max'] as const }];
const level1 = pipeline({
  keyFields: ['device'],
  windows: ['1m'],
  allowedLatenessMs: 0,
  aggregates: aggregates.map((a) => ({ ...a, kinds: [...a.kinds] })),
  nextLevel: { topic: 'by-device', keyFields: ['device'] },
});
const byDevice = pipeline({
  name: 'devices',
  source: { topics: ['by-device'], format: 'partial' },
  keyFields: ['device'],
  windows: ['5m'],
  allowedLatenessMs: 0,
  aggregates: level1.aggregates,
});
const opts = { pipeline: byDevice, topic: 'by-device', partition: 0 };

/**
 * Level-1 partials of DEVICES devices in the first minute, one device in minute 2 and one in
 * minute 6: the last closes level 2's first 5m window (DEVICES + 1 rows, three parts).
 */
function partials(): Uint8Array[] {
  const e = new PartitionEngine({ pipeline: level1, topic: 'in', partition: 0 });
  const rec = (device: string, t: number, temp: number) => ({
    seriesKey: device,
    keyValues: { device },
    eventTimeMs: t,
    numbers: { temp },
    strings: {},
    raw: {},
  });
  for (let d = 0; d < DEVICES; d++) e.process(rec(`d${d}`, T0 + (d % 60_000), d % 97), d);
  e.process(rec('minute-2', T0 + 120_000, 1), DEVICES);
  e.process(rec('minute-6', T0 + 360_000, 2), DEVICES + 1);
  return [...e.drainClosed().results, ...e.flush().results].map((r) => r.partial!);
}

/** A level-2 engine holding every partial, its first window closed and not taken. */
function closed(all: readonly Uint8Array[]): PartitionEngine {
  const e = new PartitionEngine(opts);
  all.forEach((p, i) => {
    expect(e.processPartial(p, i)).toEqual({ ok: true });
  });
  return e;
}

describe('a closed level-2 window is handed out in parts', () => {
  const input = partials();
  const whole = closed(input).drainClosed().results;

  it(`in whole parts of ${MERGED_PART_ROWS} rows, the same rows in the same order as all at once`, () => {
    expect(whole).toHaveLength(DEVICES + 1);
    const calls = resultsBy(closed(input), 5000);
    // A part is never split and one is always given: 8192, 8192, then the rest.
    expect(calls.map((c) => c.length)).toEqual([
      MERGED_PART_ROWS,
      MERGED_PART_ROWS,
      DEVICES + 1 - 2 * MERGED_PART_ROWS,
    ]);
    expect(calls.map((c) => [...new Set(c.map((r) => r.part))])).toEqual([[0], [1], [2]]);
    expect(calls.flat()).toEqual(whole);
    // Several parts in one call when they fit.
    expect(resultsBy(closed(input), 2 * MERGED_PART_ROWS).map((c) => c.length)).toEqual([
      2 * MERGED_PART_ROWS,
      DEVICES + 1 - 2 * MERGED_PART_ROWS,
    ]);
  });

  it('keeps the rows not handed out charged until taken, and a snapshot between parts restores only those', () => {
    const e = closed(input);
    const before = e.stats().stateBytes;
    // Every device, the one of minute 2 and the one of minute 6 (whose window is still open).
    expect(e.stats().liveSeries).toBe(DEVICES + 2);
    const first = e.drainClosed(1);
    expect(first.more).toBe(true);
    expect(first.results.map((r) => r.part)).toEqual(new Array(MERGED_PART_ROWS).fill(0));
    const afterOne = e.stats().stateBytes;
    expect(afterOne).toBeLessThan(before);
    expect(afterOne).toBeGreaterThan(before / 3);

    const restored = PartitionEngine.restore(opts, e.snapshot());
    const rest = resultsBy(restored, 1);
    // The parts after the first, numbered on from it: a replay rewrites the same objects.
    expect(rest.map((c) => c[0]?.part)).toEqual([1, 2]);
    expect([...first.results, ...rest.flat()]).toEqual(whole);
    expect(restored.stats().stateBytes).toBeLessThan(afterOne / 10);
    expect(e.stats().liveSeries).toBe(DEVICES + 2 - MERGED_PART_ROWS);
    expect(restored.stats().liveSeries).toBe(1);
  });
});

describe('a version-3 level-2 snapshot (closed rows held as results) restores', () => {
  /**
   * Written by the engine before version 4 after the first CUT partials of level1Partials(),
   * drained every 40: the 3 rows of a window closed by partial 157 were held as results.
   */
  const V3 = new URL('./fixtures/engine-v3-level2-at-160.b64', import.meta.url);
  const CUT = 160;

  it('hands those rows out first, then continues to exactly an uninterrupted run', () => {
    const input = level1Partials();
    const snapshot = Buffer.from(readFileSync(V3, 'utf8').trim(), 'base64');
    expect(snapshot.readUInt32LE(0)).toBe(0x4c414533);
    const l2 = { pipeline: level2, topic: 'by-site', partition: 0 };

    const sort = (x: WindowResult, y: WindowResult) =>
      x.windowSizeMs - y.windowSizeMs ||
      x.windowStartMs - y.windowStartMs ||
      (x.seriesKey < y.seriesKey ? -1 : 1);
    const run = (cutAt: number | null): WindowResult[] => {
      let e = new PartitionEngine(l2);
      const out: WindowResult[] = [];
      input.forEach((p, i) => {
        if (i === cutAt) {
          e = PartitionEngine.restore(l2, snapshot);
          const pending = e.drainClosed().results;
          expect(pending).toHaveLength(3);
          out.push(...pending);
        }
        e.processPartial(p, i);
        if (i % 40 === 0) out.push(...e.drainClosed().results);
      });
      out.push(...e.flush().results);
      return out.sort(sort);
    };
    const uninterrupted = run(null);
    expect(uninterrupted.length).toBeGreaterThan(20);
    expect(run(CUT)).toEqual(uninterrupted);
  });
});
