import { describe, expect, it } from 'vitest';
import { compileLayout } from '../../../../aggregator/aggregates/aggregate-layout.js';
import { ByteReader } from '../../../../aggregator/codec/byte-io.js';
import type { DecodedRecord } from '../../../../aggregator/decode/decoder.js';
import {
  type EngineOutputs,
  PartitionEngine,
  type PartitionEngineOptions,
  type WindowResult,
} from '../../../../aggregator/engine/partition-engine.js';
import type { FieldAggregateConfig } from '../../../../aggregator/pipeline/pipeline-schema.js';
import { MemoryManager } from '../../../../aggregator/store/memory-manager.js';
import { type RowKernel, rowKernel } from '../../../../aggregator/store/row-update-kernel.js';
import { WindowTable } from '../../../../aggregator/store/window-table.js';
import { pipeline, rng, T0 } from '../engine/engine-fixtures.js';
import { expectReferenceResults, reference } from '../engine/reference.js';
import { randomRecord, rowAggregates, rowLayout, snapshotOf } from './row-fixtures.js';

// The kernel is loaded for every unit test (vitest setup: test/unit/load-key-lookup.ts).

const aggregates = rowAggregates;
const layout = rowLayout;

describe('window rows updated in WebAssembly (deferred records)', () => {
  it('equal, bit for bit, the rows updated in TypeScript: missing fields, ties, -0, NaN, growth, reads between', () => {
    const r = rng(11);
    const deferred = new WindowTable(60_000, T0, layout, 200, 200);
    const direct = new WindowTable(60_000, T0, layout, 200, 200);
    expect(deferred.deferrable).toBe(true);
    const made: number[] = [];
    deferred.newRowSink = (id) => made.push(id);
    const madeDirect: number[] = [];
    let ids = 200;
    for (let i = 0; i < 5_000; i++) {
      // Ids beyond the table now and then (it grows, still indexed by id: the rows stay dense).
      if (i % 1_000 === 999) ids += 60;
      const id = Math.floor(r() * ids);
      const { numbers, t } = randomRecord(r);
      deferred.defer(id, numbers, t, i);
      const slot = direct.slotOf(id);
      if (direct.isNew) {
        direct.isNew = false;
        madeDirect.push(id);
      }
      direct.update(slot, numbers, {}, t, i);
      // Reads in between apply what is deferred first.
      if (i % 777 === 0) expect(deferred.fieldState(id, 0)).toEqual(direct.fieldState(slot, 0));
    }
    expect(deferred.deferrable).toBe(true);
    expect(deferred.rows).toBe(direct.rows);
    expect(deferred.rows).toBeGreaterThan(400);
    expect([...made].sort((a, b) => a - b)).toEqual([...madeDirect].sort((a, b) => a - b));
    // The same numbers in the same slots (NaN payloads and signed zeros included), and the same snapshot.
    expect(Buffer.from(snapshotOf(deferred))).toEqual(Buffer.from(snapshotOf(direct)));
    // A restored table defers again and continues as the one written.
    const back = WindowTable.read(new ByteReader(snapshotOf(deferred), 'table'), layout, true, 200);
    expect(back.deferrable).toBe(true);
    back.defer(3, { temp: 1e9 }, T0, 9_999);
    deferred.defer(3, { temp: 1e9 }, T0, 9_999);
    expect(Buffer.from(snapshotOf(back))).toEqual(Buffer.from(snapshotOf(deferred)));
  });

  it('a table grows in place, by a small step, to ids beyond its end: the same rows as one that grows by a copy', () => {
    const r = rng(17);
    const inPlace = new WindowTable(60_000, T0, layout, 2_000, 2_000);
    const before = inPlace.bytes();
    // The same table whose memory refuses to grow: it is copied into a larger one (by a quarter).
    const tableKernel = (inPlace as unknown as { kernel: RowKernel }).kernel;
    const allocate = tableKernel.allocate;
    tableKernel.allocate = (...args) => ({ ...allocate.apply(tableKernel, args), resize: () => null });
    let copied: WindowTable;
    try {
      copied = new WindowTable(60_000, T0, layout, 2_000, 2_000);
    } finally {
      tableKernel.allocate = allocate;
    }
    inPlace.defer(2_000, { temp: 1 }, T0, 0);
    copied.defer(2_000, { temp: 1 }, T0, 0);
    // One id beyond the end: a step of pages, not a quarter more of everything.
    expect(inPlace.cap).toBeLessThan(2_100);
    expect(inPlace.bytes() - before).toBeLessThanOrEqual(65_536);
    expect(copied.cap).toBe(2_500);
    let ids = 2_001;
    for (let i = 1; i < 20_000; i++) {
      if (i % 1_000 === 0) ids += 150;
      const id = Math.floor(r() * ids);
      const { numbers, t } = randomRecord(r);
      inPlace.defer(id, numbers, t, i);
      copied.defer(id, numbers, t, i);
    }
    expect(inPlace.deferrable && copied.deferrable && inPlace.byId && copied.byId).toBe(true);
    expect(inPlace.cap).toBeGreaterThanOrEqual(ids);
    expect(inPlace.rows).toBe(copied.rows);
    for (let id = 0; id < ids; id++) {
      expect(inPlace.has(id)).toBe(copied.has(id));
      if (!inPlace.has(id)) continue;
      for (let k = 0; k < layout.length; k++)
        expect(inPlace.fieldState(id, k)).toEqual(copied.fieldState(id, k));
    }
  });

  it('deferAll queues a chunk as defer does record by record: NaN, missing values, growth, a turn to hashed, batch ends', () => {
    const oneField = compileLayout([
      { field: 'temp', kinds: ['count', 'sum', 'min', 'max', 'mean', 'last'] },
    ] as FieldAggregateConfig[]);
    for (const l of [oneField, layout]) {
      const r = rng(23);
      const chunked = new WindowTable(60_000, T0, l, 300, 300);
      const single = new WindowTable(60_000, T0, l, 300, 300);
      const made: number[] = [];
      const madeSingle: number[] = [];
      chunked.newRowSink = (id) => made.push(id);
      single.newRowSink = (id) => madeSingle.push(id);
      let ids = 300;
      let offset = 0;
      for (let chunk = 0; chunk < 400; chunk++) {
        const n = 1 + Math.floor(r() * 70);
        const records: { numbers: Record<string, number>; eventTimeMs: number }[] = [];
        const chunkIds = new Int32Array(n);
        const offsets: number[] = [];
        if (chunk % 50 === 49) ids += 40;
        for (let j = 0; j < n; j++) {
          const { numbers, t } = randomRecord(r);
          if (r() < 0.02) numbers['temp'] = Number.NaN;
          records.push({ numbers, eventTimeMs: t });
          // Near the end, ids far beyond the rows: the table turns hashed inside a chunk.
          chunkIds[j] = chunk === 390 && j === n - 1 ? 1_000_000 : Math.floor(r() * ids);
          offsets.push(offset++);
        }
        // The chunk's records start past a prefix that is not theirs (as a batch's chunks do).
        const prefix = Math.floor(r() * 3);
        const all = [...Array.from({ length: prefix }, () => ({ numbers: {}, eventTimeMs: T0 })), ...records];
        const allOffsets = [...Array.from({ length: prefix }, () => -1), ...offsets];
        chunked.deferAll(chunkIds, all, prefix, prefix + n, allOffsets);
        for (let j = 0; j < n; j++)
          single.defer(chunkIds[j]!, records[j]!.numbers, records[j]!.eventTimeMs, offsets[j]!);
      }
      expect(chunked.byId).toBe(false);
      expect(chunked.rows).toBe(single.rows);
      expect(chunked.rows).toBeGreaterThan(300);
      expect(made).toEqual(madeSingle);
      expect(Buffer.from(snapshotOf(chunked))).toEqual(Buffer.from(snapshotOf(single)));
    }
  });

  it('a table that turns hashed (ids far beyond its rows) takes the deferred records first, then updates in TypeScript', () => {
    const deferred = new WindowTable(60_000, T0, layout, 100, 100);
    const direct = new WindowTable(60_000, T0, layout, 100, 100);
    for (const [i, id] of [5, 7, 5, 90, 100_000, 5, 100_001].entries()) {
      deferred.defer(id, { temp: i, hum: 10 - i }, T0 + i, i);
      const slot = direct.slotOf(id);
      direct.isNew = false;
      direct.update(slot, { temp: i, hum: 10 - i }, {}, T0 + i, i);
    }
    expect(deferred.byId).toBe(false);
    expect(deferred.deferrable).toBe(false);
    expect(Buffer.from(snapshotOf(deferred))).toEqual(Buffer.from(snapshotOf(direct)));
    expect(deferred.fieldState(deferred.slotOf(5), 0)).toMatchObject({
      count: 3,
      sum: 0 + 2 + 5,
      lastValue: 5,
    });
  });

  it('layouts with sketches keep their rows in TypeScript', () => {
    const withSketch = compileLayout([
      { field: 'temp', kinds: ['count', 'quantiles'], quantiles: [0.5], relativeAccuracy: 0.01 },
    ] as FieldAggregateConfig[]);
    expect(new WindowTable(60_000, T0, withSketch, 100, 100).deferrable).toBe(false);
    // Hashed tables too.
    expect(new WindowTable(60_000, T0, layout, 100).deferrable).toBe(false);
  });
});

/**
 * Devices that report steadily (the engine indexes those windows by series id, and defers their
 * records), with devices joining at minute 4 and leaving at minute 6, times out of order by up
 * to ±15 s (some late).
 */
function steady(minutes: number, seed: number): DecodedRecord[] {
  const r = rng(seed);
  const events: DecodedRecord[] = [];
  for (let dev = 0; dev < 400; dev++) {
    const from = dev >= 320 ? 4 : 0;
    const to = dev < 40 ? 6 : minutes;
    for (let m = from; m < to; m++) {
      for (let k = 0; k < 5; k++) {
        const numbers: Record<string, number> = {};
        if (r() > 0.05) numbers['temp'] = Math.floor(r() * 2000) - 500;
        events.push({
          seriesKey: `d${dev}`,
          keyValues: { device: `d${dev}` },
          eventTimeMs: T0 + m * 60_000 + Math.floor(r() * 60_000),
          numbers,
          strings: {},
          raw: {},
        });
      }
    }
  }
  events.sort((a, b) => a.eventTimeMs - b.eventTimeMs);
  for (const e of events) e.eventTimeMs += Math.floor((r() * 2 - 1) * 15_000);
  return events;
}

const opts: PartitionEngineOptions = {
  pipeline: pipeline({ keyFields: ['device'], aggregates: [aggregates[0]!] }),
  topic: 'in',
  partition: 0,
};

/** The records in batches of 100 (`processBatch`), restored from a snapshot at each cut, drained now and then. */
function run(records: readonly DecodedRecord[], cuts: ReadonlySet<number> = new Set()): EngineOutputs[] {
  const outs: EngineOutputs[] = [];
  let e = new PartitionEngine(opts);
  const offsets = records.map((_, i) => i);
  for (let from = 0; from < records.length; from += 100) {
    if (cuts.has(from)) {
      const snap = e.snapshot();
      e.release();
      e = PartitionEngine.restore(opts, snap);
    }
    const batch = records.slice(from, from + 100);
    e.processBatch(batch, offsets.slice(from, from + 100), batch.length);
    if (from % 700 === 0) outs.push(e.drainClosed(300));
  }
  for (;;) {
    const out = e.drainClosed(300);
    outs.push(out);
    if (!out.more) break;
  }
  outs.push(e.flush());
  return outs;
}

const resultsOf = (outs: readonly EngineOutputs[]): WindowResult[] => outs.flatMap((o) => o.results);

describe('an engine whose windows defer their records', () => {
  const records = steady(12, 3);
  /** The first `n` records in one batch. */
  const feedFirst = (e: PartitionEngine, n: number): void =>
    e.processBatch(
      records.slice(0, n),
      Array.from({ length: n }, (_, i) => i),
      n,
    );

  it('emits exactly the reference windows (count, sum, min, max, mean, last)', () => {
    const ref = reference(records, [60_000, 300_000], 10_000);
    expect(ref.lateOffsets.length).toBeGreaterThan(0);
    const e = new PartitionEngine(opts);
    feedFirst(e, 4_000);
    // By minute 3 the 1m windows are indexed by id, and their records deferred. The first 5m
    // window too: it holds every row of the 1m windows closing into it.
    expect(e.tables().some((t) => t.sizeMs === 60_000 && t.indexedBy === 'id')).toBe(true);
    expect(e.tables().find((t) => t.sizeMs === 300_000 && t.startMs === T0)).toMatchObject({
      state: 'open',
      indexedBy: 'id',
      rows: 320,
    });
    expect(e.stats().rowUpdates).toBe('webassembly');
    e.release();
    // With sketches (the fixture's quantiles and distinct count), rows stay in TypeScript.
    const sketches = new PartitionEngine({ ...opts, pipeline: pipeline({ keyFields: ['device'] }) });
    feedFirst(sketches, 4_000);
    expect(sketches.tables().some((t) => t.sizeMs === 60_000 && t.indexedBy === 'id')).toBe(true);
    expect(sketches.stats().rowUpdates).toBe('javascript');
    sketches.release();
    const got = resultsOf(run(records));
    expectReferenceResults(got, ref, false);
    expect(got.length).toBeGreaterThan(4_000);
  });

  it('indexes the second window of the smallest size by id while the first is still open', () => {
    // No window has closed yet, so there is no hint from one: the first window, open beside it
    // with a row for nearly every series seen, gives it.
    const e = new PartitionEngine(opts);
    let i = 0;
    while (!e.tables().some((t) => t.startMs === T0 + 60_000)) e.process(records[i]!, i++);
    const [first, second] = e.tables().filter((t) => t.sizeMs === 60_000);
    expect(first).toMatchObject({ startMs: T0, state: 'open', indexedBy: 'hash' });
    expect(first!.rows).toBeGreaterThan(300);
    expect(second).toMatchObject({ startMs: T0 + 60_000, indexedBy: 'id' });
    expect(second!.slots).toBeGreaterThanOrEqual(first!.rows);
    e.release();
  });

  // Steady chunks skip the per-record decisions (PartitionEngine.deferChunk); chunks that move
  // the watermark past a window's close, meet a new series, another window or a late record do
  // not. In time order, the watermark passes each window's close inside a chunk of the next one.
  it.each([
    ['out of order', records, true],
    ['in time order', [...records].sort((a, b) => a.eventTimeMs - b.eventTimeMs), false],
  ] as const)(
    'a batch leaves exactly what one process call per record leaves, at every drain (%s)',
    (_, records, late) => {
      const cut = rng(5);
      const cuts: number[] = [];
      for (let at = 0; at < records.length; ) {
        at = Math.min(records.length, at + 1 + Math.floor(cut() * 400));
        cuts.push(at);
      }
      // Memory is charged every 1024 records: at the same records in both.
      const memory = [0, 1].map(
        () => new MemoryManager({ budgetBytes: 1 << 30, highWater: 0.9, lowWater: 0.8 }),
      );
      const one = new PartitionEngine({ ...opts, memory: memory[0]!.account('p') });
      const batched = new PartitionEngine({ ...opts, memory: memory[1]!.account('p') });
      let from = 0;
      let refused = 0;
      for (const to of cuts) {
        const refusedOne: number[] = [];
        for (let i = from; i < to; i++) if (!one.process(records[i]!, i).ok) refusedOne.push(i);
        const refusedBatch: number[] = [];
        batched.processBatch(
          records.slice(from, to),
          Array.from({ length: to - from }, (_, j) => from + j),
          to - from,
          (j) => refusedBatch.push(from + j),
        );
        expect(refusedBatch).toEqual(refusedOne);
        expect(memory[1]!.usedBytes()).toBe(memory[0]!.usedBytes());
        refused += refusedOne.length;
        expect(batched.watermarkMs()).toBe(one.watermarkMs());
        expect(batched.stats()).toEqual(one.stats());
        expect(JSON.stringify(batched.drainClosed(250))).toBe(JSON.stringify(one.drainClosed(250)));
        from = to;
      }
      // Late records (refused) only out of order.
      expect(refused > 0).toBe(late);
      expect(batched.stats().rowUpdates).toBe('webassembly');
      expect(Buffer.from(batched.snapshot()).equals(Buffer.from(one.snapshot()))).toBe(true);
      expect(JSON.stringify(batched.flush())).toBe(JSON.stringify(one.flush()));
    },
  );

  it('a restore between any two batches continues exactly as the uninterrupted run', () => {
    const straight = JSON.stringify(run(records));
    for (const cut of [1_200, 4_100, 9_000, 15_500]) {
      expect(JSON.stringify(run(records, new Set([cut])))).toBe(straight);
    }
  });
});

describe('a window whose WebAssembly memory cannot be had', () => {
  const records = steady(8, 9);
  const engineOpts: PartitionEngineOptions = {
    ...opts,
    pipeline: pipeline({
      keyFields: ['device'],
      aggregates: [{ field: 'temp', kinds: ['count', 'sum', 'max'] }],
    }),
  };
  /** The kernel the engine's tables of this layout get (compiled once per layout: the same object). */
  const kernel = (): RowKernel => rowKernel([{ count: 0, sum: 1, min: -1, max: 2, last: -1 }], 3)!;

  function results(): { rowUpdates: string; out: string } {
    const e = new PartitionEngine(engineOpts);
    let rowUpdates = '';
    const outs: EngineOutputs[] = [];
    for (let from = 0; from < records.length; from += 100) {
      const batch = records.slice(from, from + 100);
      e.processBatch(
        batch,
        Array.from(batch, (_, i) => from + i),
        batch.length,
      );
      if (e.tables().some((t) => t.sizeMs === 60_000 && t.indexedBy === 'id'))
        rowUpdates = e.stats().rowUpdates;
      outs.push(e.drainClosed());
    }
    outs.push(e.flush());
    e.release();
    return { rowUpdates, out: JSON.stringify(outs) };
  }

  it('keeps its rows on the heap, updated in TypeScript, with the same results', () => {
    const straight = results();
    expect(straight.rowUpdates).toBe('webassembly');
    const k = kernel();
    const allocate = k.allocate;
    let refused = 0;
    k.allocate = () => {
      refused++;
      throw new RangeError('WebAssembly.Memory(): could not allocate memory');
    };
    try {
      const scarce = results();
      expect(refused).toBeGreaterThan(0);
      expect(scarce.rowUpdates).toBe('javascript');
      expect(scarce.out).toBe(straight.out);
      // Any other failure is not taken for a lack of memory.
      k.allocate = () => {
        throw new TypeError('broken kernel');
      };
      expect(
        () => new WindowTable(60_000, T0, compileLayout(engineOpts.pipeline.aggregates), 100, 100),
      ).toThrow('broken kernel');
    } finally {
      k.allocate = allocate;
    }
  });
});
