import { describe, expect, it } from 'vitest';
import type { DecodedRecord } from '../../../../aggregator/decode/decoder.js';
import {
  type EngineOutputs,
  PartitionEngine,
  type WindowResult,
} from '../../../../aggregator/engine/partition-engine.js';
import { MemoryManager } from '../../../../aggregator/store/memory-manager.js';
import { generate, pipeline, T0 } from './engine-fixtures.js';
import { expectReferenceResults, reference, refKey } from './reference.js';

const SIZES = [60_000, 300_000];
const LATENESS = 10_000;

function runAll(engine: PartitionEngine, records: ReturnType<typeof generate>, drainEvery: number) {
  const results: WindowResult[] = [];
  const late: number[] = [];
  records.forEach((g, offset) => {
    const outcome = engine.process(g.record, offset);
    if (!outcome.ok) {
      expect(outcome.reason).toBe('late');
      late.push(offset);
    }
    if (offset % drainEvery === 0) {
      const out = engine.drainClosed();
      // A window is emitted only once the watermark has passed its end plus the lateness.
      for (const r of out.results) {
        expect(engine.watermarkMs()).toBeGreaterThanOrEqual(r.windowStartMs + r.windowSizeMs + LATENESS);
      }
      results.push(...out.results);
    }
  });
  results.push(...engine.flush().results);
  return { results, late };
}

describe('PartitionEngine against an independent reference', () => {
  const all = generate({ n: 6000, keys: 40, minutes: 30, jitterMs: 25_000, partitions: 3, seed: 7 });

  for (const partition of [0, 1, 2]) {
    it(`partition ${partition}: exact count/sum/min/max/mean/last, quantiles within α, distinct within HLL error, late refused`, () => {
      const records = all.filter((g) => g.partition === partition);
      const ref = reference(
        records.map((g) => g.record),
        SIZES,
        LATENESS,
      );
      const engine = new PartitionEngine({ pipeline: pipeline(), topic: 'in', partition });
      const { results, late } = runAll(engine, records, 17);

      expect(ref.lateOffsets.length).toBeGreaterThan(0);
      expect(late).toEqual(ref.lateOffsets);
      expect(engine.stats().lateRecords).toBe(ref.lateOffsets.length);

      expectReferenceResults(results, ref);
      expect(engine.stats().openWindows).toBe(0);
      expect(engine.stats().liveSeries).toBe(0);
    });
  }

  it('larger windows equal the merge of the smaller windows inside them', () => {
    const engine = new PartitionEngine({ pipeline: pipeline(), topic: 'in', partition: 0 });
    const { results } = runAll(
      engine,
      all.filter((g) => g.partition === 0),
      50,
    );
    const small = results.filter((r) => r.windowSizeMs === 60_000);
    for (const big of results.filter((r) => r.windowSizeMs === 300_000)) {
      const inside = small.filter(
        (s) =>
          s.seriesKey === big.seriesKey &&
          s.windowStartMs >= big.windowStartMs &&
          s.windowStartMs < big.windowStartMs + 300_000,
      );
      expect(inside.reduce((n, s) => n + s.aggregates['temp']!.count!, 0)).toBe(
        big.aggregates['temp']!.count,
      );
    }
  });
});

describe('PartitionEngine cached window per size', () => {
  // The engine keeps the last table written per size and skips the window arithmetic (and the
  // late check) for records inside it. These inputs hop between adjacent windows and close the
  // cached one under it, where a stale cache would aggregate a late record or miss a window.
  const rec = (key: string, t: number, temp: number): DecodedRecord => ({
    seriesKey: key,
    keyValues: { site: key, device: '' },
    eventTimeMs: t,
    numbers: { temp },
    strings: { user: `u${temp}` },
    raw: { temp },
  });
  const m = 60_000;
  const records = [
    rec('a', T0 + m - 1, 1), // window 0 of 1m
    rec('b', T0 + m, 2), // window 1: the cache moves
    rec('a', T0 + m - 2, 3), // back to window 0 (still open: lateness 10 s)
    rec('c', T0 + 2 * m + LATENESS - 1, 4), // watermark just short of closing window 1
    rec('a', T0 + 1, 5), // window 0: closed by now, late
    rec('b', T0 + m + 5, 6), // window 1 still open
    rec('c', T0 + 2 * m + LATENESS, 7), // closes window 1 while it is the cached one
    rec('b', T0 + m + 6, 8), // late now, although window 1 was the cached table
    rec('a', T0 + 2 * m + 1, 9), // window 2
    rec('a', T0 + 5 * m + LATENESS, 10), // next 5m window (the 5m cache moves); closes [4m, 5m)
    rec('a', T0 + 5 * m - 1, 11), // back in the first 5m window, but its 1m window is closed: late
  ];

  it('refuses and aggregates exactly as the reference, around window boundaries and closes', () => {
    const ref = reference(records, SIZES, LATENESS);
    const engine = new PartitionEngine({ pipeline: pipeline(), topic: 'in', partition: 0 });
    const late: number[] = [];
    const results: WindowResult[] = [];
    records.forEach((r, offset) => {
      if (!engine.process(r, offset).ok) late.push(offset);
      results.push(...engine.drainClosed().results);
    });
    results.push(...engine.flush().results);
    expect(late).toEqual([4, 7, 10]);
    expect(late).toEqual(ref.lateOffsets);
    const got = new Map(
      results.map((r) => [refKey(r.seriesKey, r.windowSizeMs, r.windowStartMs), r.aggregates['temp']!.sum]),
    );
    expect(got.size).toBe(ref.windows.size);
    for (const [k, w] of ref.windows) expect(got.get(k), k).toBe(w.sum);
  });

  it('a restored engine continues the same way from any point', () => {
    const straight = new PartitionEngine({ pipeline: pipeline(), topic: 'in', partition: 0 });
    const outcomes = records.map((r, offset) => straight.process(r, offset).ok);
    const expected = straight.flush().results;
    for (let cut = 1; cut < records.length; cut++) {
      let e = new PartitionEngine({ pipeline: pipeline(), topic: 'in', partition: 0 });
      const got: boolean[] = [];
      records.forEach((r, offset) => {
        if (offset === cut)
          e = PartitionEngine.restore({ pipeline: pipeline(), topic: 'in', partition: 0 }, e.snapshot());
        got.push(e.process(r, offset).ok);
      });
      expect(got).toEqual(outcomes);
      expect(e.flush().results).toEqual(expected);
    }
  });
});

describe('PartitionEngine snapshot and restore', () => {
  const withMachine = pipeline({
    aggregates: [
      { field: 'temp', kinds: ['count', 'sum', 'min', 'max', 'mean', 'last', 'quantiles'] },
      { field: 'user', kinds: ['distinct'] },
    ],
    sink: { type: 'kafka', topic: 'partials' },
    stateMachines: [
      {
        name: 'heat',
        states: ['cold', 'hot', 'silent'],
        initial: 'cold',
        transitions: [
          { from: 'cold', to: 'hot', when: { field: 'temp', op: 'gt', value: 1200 } },
          { from: '*', to: 'cold', when: { field: 'temp', op: 'lt', value: 0 } },
        ],
        timeouts: [{ state: 'hot', afterMs: 120_000, to: 'silent' }],
      },
    ],
  });
  const records = generate({ n: 1500, keys: 25, minutes: 15, jitterMs: 20_000, partitions: 1, seed: 11 });

  function collect(engine: PartitionEngine, from: number, to: number, sink: EngineOutputs[]): void {
    for (let i = from; i < to; i++) {
      engine.process(records[i]!.record, i);
      if (i % 37 === 0) sink.push(engine.drainClosed());
    }
  }

  it.each([0, 700, 1499])(
    'snapshot at record %i, restore, continue: outputs equal an uninterrupted run',
    (k) => {
      const opts = { pipeline: withMachine, topic: 'in', partition: 4 };
      const straight: EngineOutputs[] = [];
      const a = new PartitionEngine(opts);
      collect(a, 0, records.length, straight);
      straight.push(a.flush());

      const resumed: EngineOutputs[] = [];
      const b = new PartitionEngine(opts);
      collect(b, 0, k, resumed);
      const snap = b.snapshot();
      b.release();
      expect(PartitionEngine.restore(opts, snap).snapshot()).toEqual(snap);
      // As a checkpoint hands it over: decompressed blocks, values straddling them.
      const parts: Uint8Array[] = [];
      for (let at = 0; at < snap.length; at += 97) parts.push(snap.slice(at, at + 97));
      expect(parts.length).toBeGreaterThan(20);
      const c = PartitionEngine.restore(opts, parts);
      expect(c.snapshot()).toEqual(snap);
      collect(c, k, records.length, resumed);
      resumed.push(c.flush());

      // Byte-for-byte: partials as base64 (a deep compare of typed arrays is slow).
      const norm = (o: EngineOutputs[]) =>
        JSON.stringify(o, (_k, v: unknown) =>
          v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
        );
      expect(norm(resumed)).toBe(norm(straight));
      const all = straight.flatMap((o) => o.results);
      expect(all.length).toBeGreaterThan(100);
      expect(all.every((r) => r.partial instanceof Uint8Array)).toBe(true);
      expect(straight.flatMap((o) => o.transitions).length).toBeGreaterThan(0);
    },
    30_000,
  );

  it('rejects a snapshot of another pipeline and corrupt bytes, naming the problem', () => {
    const opts = { pipeline: withMachine, topic: 'in', partition: 0 };
    const snap = new PartitionEngine(opts).snapshot();
    expect(() => PartitionEngine.restore({ ...opts, pipeline: pipeline({ name: 'other' }) }, snap)).toThrow(
      /pipeline "metrics", not "other"/,
    );
    expect(() => PartitionEngine.restore(opts, snap.subarray(0, snap.length - 3))).toThrow(/corrupt/);
    expect(() => PartitionEngine.restore(opts, new Uint8Array([1, 2, 3, 4, 5]))).toThrow(/bad magic/);
  });
});

describe('PartitionEngine memory accounting', () => {
  it('charges its account, pauses above high water, resumes under low water after windows close, releases all', () => {
    const memory = new MemoryManager({ budgetBytes: 200_000, highWater: 0.8, lowWater: 0.5 });
    const p = pipeline({
      aggregates: [{ field: 'temp', kinds: ['count', 'sum', 'min', 'max', 'mean'] }],
      allowedLatenessMs: 0,
    });
    const engine = new PartitionEngine({
      pipeline: p,
      topic: 'in',
      partition: 0,
      memory: memory.account(p.name),
    });
    expect(memory.pressure()).toBe('ok');
    let i = 0;
    while (memory.pressure() === 'ok' && i < 100_000) {
      engine.process(
        {
          seriesKey: `k${i}`,
          keyValues: { site: 's', device: `k${i}` },
          eventTimeMs: T0,
          numbers: { temp: i },
          strings: {},
          raw: {},
        },
        i,
      );
      i++;
      if (i % 100 === 0) engine.stats();
    }
    expect(memory.pressure()).toBe('pause');
    expect(memory.report().byPipeline['metrics']).toBe(engine.stats().stateBytes);
    expect(memory.liveSeries()).toBe(i);
    // Still paused between the marks (hysteresis), until the windows close and are drained.
    engine.process(
      {
        seriesKey: 'late-key',
        keyValues: { site: 's', device: 'x' },
        eventTimeMs: T0 + 600_000,
        numbers: { temp: 1 },
        strings: {},
        raw: {},
      },
      i,
    );
    expect(engine.drainClosed().results.length).toBe(2 * i);
    expect(memory.liveSeries()).toBe(1);
    // The windows opened meanwhile were sized for the keys then live; once they close too, only
    // the dictionary's arrays remain.
    engine.process(
      {
        seriesKey: 'k0',
        keyValues: { site: 's', device: 'k0' },
        eventTimeMs: T0 + 1_200_000,
        numbers: { temp: 1 },
        strings: {},
        raw: {},
      },
      i + 1,
    );
    expect(engine.drainClosed().results.length).toBe(2);
    expect(memory.usedBytes()).toBeLessThan(0.5 * 200_000);
    expect(memory.pressure()).toBe('ok');
    engine.release();
    expect(memory.usedBytes()).toBe(0);
    expect(memory.liveSeries()).toBe(0);
  });
});
