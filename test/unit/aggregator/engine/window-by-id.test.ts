import { describe, expect, it } from 'vitest';
import type { DecodedRecord } from '../../../../aggregator/decode/decoder.js';
import { seriesKeyOf } from '../../../../aggregator/decode/series-key.js';
import {
  type EngineOutputs,
  PartitionEngine,
  type PartitionEngineOptions,
  type WindowResult,
} from '../../../../aggregator/engine/partition-engine.js';
import { pipelineSchema } from '../../../../aggregator/pipeline/pipeline-schema.js';
import { benchPipelineInput } from '../../../bench/core-bench.js';
import { pipeline, rng, T0 } from './engine-fixtures.js';
import { expectReferenceResults, reference } from './reference.js';

const SIZES = [60_000, 300_000];
const LATENESS = 10_000;

/**
 * Devices that report steadily (each ~4 times a minute, so nearly every live series has a row in
 * every window: the engine indexes those windows' rows by series id), with churn: devices
 * 300..379 join at minute 5 (ids beyond the tables made before them), devices 0..29 stop at
 * minute 7. Times jitter by ±15 s, beyond the 10 s lateness now and then (late records).
 */
function steady(minutes: number, seed: number): DecodedRecord[] {
  const r = rng(seed);
  const events: DecodedRecord[] = [];
  for (let dev = 0; dev < 380; dev++) {
    const from = dev >= 300 ? 5 : 0;
    const to = dev < 30 ? 7 : minutes;
    for (let m = from; m < to; m++) {
      for (let k = 0; k < 4; k++) {
        const site = `s${dev % 3}`;
        const device = dev % 11 === 0 ? `d|${dev}\\x` : `d${dev}`;
        const numbers: Record<string, number> = {};
        if (r() > 0.05) numbers['temp'] = Math.floor(r() * 2000) - 500;
        const strings: Record<string, string> = {};
        if (r() > 0.1) strings['user'] = `u${Math.floor(r() * 300)}`;
        events.push({
          seriesKey: seriesKeyOf([site, device]),
          keyValues: { site, device },
          eventTimeMs: T0 + m * 60_000 + Math.floor(r() * 60_000),
          numbers,
          strings,
          raw: {},
        });
      }
    }
  }
  events.sort((a, b) => a.eventTimeMs - b.eventTimeMs);
  // Out of order: each time moves by up to ±15 s after sorting.
  for (const e of events) e.eventTimeMs += Math.floor((r() * 2 - 1) * 15_000);
  return events;
}

const opts: PartitionEngineOptions = { pipeline: pipeline(), topic: 'in', partition: 2 };

function run(records: readonly DecodedRecord[], cuts: ReadonlySet<number> = new Set()): EngineOutputs[] {
  const outs: EngineOutputs[] = [];
  let e = new PartitionEngine(opts);
  records.forEach((rec, offset) => {
    if (cuts.has(offset)) {
      const snap = e.snapshot();
      e.release();
      e = PartitionEngine.restore(opts, snap);
      expect(e.snapshot()).toEqual(snap);
    }
    e.process(rec, offset);
    if (offset % 101 === 0) outs.push(e.drainClosed(500));
  });
  for (;;) {
    const out = e.drainClosed(500);
    outs.push(out);
    if (!out.more) break;
  }
  outs.push(e.flush());
  return outs;
}

const results = (outs: readonly EngineOutputs[]): WindowResult[] => outs.flatMap((o) => o.results);

describe('windows whose rows are indexed by series id', () => {
  const records = steady(12, 5);

  it('aggregate exactly as the reference, through series joining and leaving', () => {
    const ref = reference(records, SIZES, LATENESS);
    expect(ref.lateOffsets.length).toBeGreaterThan(0);
    const got = results(run(records));
    expectReferenceResults(got, ref);
    // Rows of a window indexed by id come out in id order: every series of a minute, and the
    // series that joined later (higher ids) after the first ones.
    expect(got.length).toBeGreaterThan(3000);
  });

  it('a restore anywhere (before, inside and after the growth) continues exactly as the uninterrupted run', () => {
    const straight = JSON.stringify(run(records), (_k, v: unknown) => v);
    const n = records.length;
    for (const cut of [0.2, 0.38, 0.41, 0.8].map((f) => Math.floor(n * f))) {
      expect(JSON.stringify(run(records, new Set([cut])))).toBe(straight);
    }
  });
});

describe('the engine picks the table kind per window from the last one of its size', () => {
  const benchOpts = (): PartitionEngineOptions => ({
    pipeline: pipelineSchema.parse(benchPipelineInput('kinds', 1000)),
    topic: 'in',
    partition: 0,
  });
  const rec = (key: string, t: number): DecodedRecord => ({
    seriesKey: key,
    keyValues: {},
    eventTimeMs: t,
    numbers: { value: 1 },
    strings: {},
    raw: {},
  });

  /** The engine after `minutes` minutes of `keysAt(minute)` (one record each), drained every minute. */
  function engineAfter(minutes: number, keysAt: (m: number) => string[]): PartitionEngine {
    const e = new PartitionEngine(benchOpts());
    let offset = 0;
    for (let m = 0; m < minutes; m++) {
      for (const k of keysAt(m)) e.process(rec(k, T0 + m * 60_000 + (offset % 50_000)), offset++);
      e.drainClosed();
    }
    return e;
  }

  it('a window of nearly every series is indexed by id, with less memory per row; a sparse one stays hashed', () => {
    const all = Array.from({ length: 10_000 }, (_, i) => `dev-${i}`);
    // Every series every minute. The first window of a size has no predecessor (hashed, grown as
    // rows come); the second 1m one opens before the first closes; later ones follow the last
    // closed one of their size: the 1m window of minute 11 and the 10m window [10, 20).
    const dense = engineAfter(12, () => all);
    const kinds = dense
      .tables()
      .map((t) => `${t.sizeMs / 60_000}m@${(t.startMs - T0) / 60_000}:${t.indexedBy}`);
    expect(kinds).toEqual(['1m@11:id', '10m@10:id']);
    for (const t of dense.tables()) {
      expect(t.rows).toBe(10_000);
      // 4 bytes of key slot and 4 numbers of 8 bytes per row, no empty slots beyond the ids.
      expect(t.bytes / t.rows).toBeLessThan(36.5);
    }
    // A different fifth of the series each minute: indexed by id, a 1m window would hold 5× its rows.
    const sparse = engineAfter(12, (m) => all.filter((_, i) => i % 5 === m % 5));
    const small = sparse.tables().filter((t) => t.sizeMs === 60_000);
    expect(small.map((t) => [t.indexedBy, t.rows])).toEqual([['hash', 2000]]);
    // The 10m window has a row for every series again: indexed by id.
    expect(
      sparse
        .tables()
        .filter((t) => t.sizeMs === 600_000)
        .map((t) => t.indexedBy),
    ).toEqual(['id']);
    expect(small[0]!.bytes / small[0]!.rows).toBeLessThan(36 / 0.8);
  });
});
