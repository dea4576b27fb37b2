import { describe, expect, it } from 'vitest';
import { decodePartial } from '../../../../aggregator/aggregates/partial-codec.js';
import { seriesKeyOf } from '../../../../aggregator/decode/series-key.js';
import { PartitionEngine, type WindowResult } from '../../../../aggregator/engine/partition-engine.js';
import { pipelineSchema } from '../../../../aggregator/pipeline/pipeline-schema.js';
import { drainBy, rng } from './engine-fixtures.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const SITES = 6;
const DEVICES = 240;

const aggregates = [
  { field: 'v', kinds: ['count', 'sum', 'min', 'max', 'quantiles'] },
  { field: 'user', kinds: ['distinct'] },
];
/** Level 1 on two partitions: devices, 1m windows; partials keyed by site. */
const level1 = pipelineSchema.parse({
  name: 'devices',
  source: { topics: ['in'] },
  keyFields: ['site', 'device'],
  eventTimeField: 'ts',
  windows: ['1m'],
  allowedLatenessMs: 2_000,
  aggregates,
  sink: { type: 'cassandra', table: 'l1' },
  nextLevel: { topic: 'by-site', keyFields: ['site'] },
});
/** Level 2 rolls sites up over 1m, 10m and 1h. */
const level2 = pipelineSchema.parse({
  name: 'sites',
  source: { topics: ['by-site'], format: 'partial' },
  keyFields: ['site'],
  windows: ['1m', '10m', '1h'],
  allowedLatenessMs: 2_000,
  aggregates,
  sink: { type: 'cassandra', table: 'l2' },
});
const l2 = { pipeline: level2, topic: 'by-site', partition: 0 };

/** 70 minutes of level-1 partials from two partitions, interleaved as the intermediate topic sees them. */
function partials(): Uint8Array[] {
  const r = rng(9);
  const engines = [0, 1].map(
    (partition) => new PartitionEngine({ pipeline: level1, topic: 'in', partition }),
  );
  const out: Uint8Array[] = [];
  for (let m = 0; m < 70; m++) {
    for (let i = 0; i < 2 * DEVICES; i++) {
      const d = Math.floor(r() * DEVICES);
      const site = `site-${d % SITES}`;
      const device = `dev-${d}`;
      engines[d % 2]!.process(
        {
          seriesKey: seriesKeyOf([site, device]),
          keyValues: { site, device },
          eventTimeMs: T0 + m * MIN + Math.floor((i / (2 * DEVICES)) * MIN),
          numbers: { v: Math.floor(r() * 1000) - 200 },
          strings: { user: `u${Math.floor(r() * 50)}` },
          raw: {},
        },
        m * 10_000 + i,
      );
    }
    for (const e of engines) for (const res of e.drainClosed().results) out.push(res.partial!);
  }
  for (const e of engines) for (const res of e.flush().results) out.push(res.partial!);
  return out;
}

const input = partials();

/** Feeds `input` from `from` (by calls of at most `maxRows` rows every 50 partials), then flushes. */
function run(
  e: PartitionEngine,
  items: Uint8Array[],
  from = 0,
  to = items.length,
  maxRows = 7,
): WindowResult[] {
  const out: WindowResult[] = [];
  for (let i = from; i < to; i++) {
    expect(e.processPartial(items[i]!, i).ok).toBe(true);
    if (i % 50 === 0) for (const o of drainBy(e, maxRows)) out.push(...o.results);
  }
  return out;
}

const finish = (e: PartitionEngine, out: WindowResult[]): WindowResult[] => {
  out.push(...e.flush().results);
  return out;
};

describe('level 2 builds larger windows from panes', () => {
  it('equals a direct rollup of every partial for 1m, 10m and 1h windows (counts, sums, min, max, distinct)', () => {
    const results = finish(new PartitionEngine(l2), run(new PartitionEngine(l2), []));
    expect(results).toEqual([]);
    const e = new PartitionEngine(l2);
    const got = finish(e, run(e, input));
    const direct = new Map<
      string,
      { count: number; sum: number; min: number; max: number; users: Set<string> }
    >();
    for (const bytes of input) {
      const p = decodePartial(bytes);
      for (const size of [MIN, 10 * MIN, 60 * MIN]) {
        const k = `${p.keyValues['site']}@${size}@${Math.floor(p.windowStartMs / size) * size}`;
        const d = direct.get(k) ?? { count: 0, sum: 0, min: Infinity, max: -Infinity, users: new Set() };
        const f = p.fields['v']!;
        d.count += f.count;
        d.sum += f.sum;
        d.min = Math.min(d.min, f.min);
        d.max = Math.max(d.max, f.max);
        direct.set(k, d);
      }
    }
    expect(got).toHaveLength(direct.size);
    expect(new Set(got.map((r) => r.windowSizeMs))).toEqual(new Set([MIN, 10 * MIN, 60 * MIN]));
    for (const r of got) {
      const d = direct.get(`${r.keyValues['site']}@${r.windowSizeMs}@${r.windowStartMs}`)!;
      expect(r.aggregates['v']).toMatchObject({ count: d.count, sum: d.sum, min: d.min, max: d.max });
      // 50 users, every one seen in every 10m and 1h window of a site: HLL within its error.
      if (r.windowSizeMs > MIN)
        expect(Math.abs((r.aggregates['user']!['distinct'] as number) - 50)).toBeLessThan(5);
    }
  });

  it('holds one state per series in a larger window: memory stays flat over the hour instead of growing', () => {
    const e = new PartitionEngine(l2);
    const perMinute: number[] = [];
    let m = -1;
    input.forEach((bytes, i) => {
      e.processPartial(bytes, i);
      const minute = Math.floor((decodePartial(bytes).windowStartMs - T0) / MIN);
      if (minute !== m) {
        m = minute;
        e.drainClosed();
        perMinute[minute] = e.stats().stateBytes;
      }
    });
    // Held at minute 55 vs minute 5 (both with the 1m, 10m and 1h windows open): 1.26 with panes;
    // 4.4 when the 1h and 10m windows kept every origin's partial of every minute (measured).
    expect(perMinute[55]! / perMinute[5]!).toBeLessThan(1.5);
    expect(perMinute[55]!).toBeGreaterThan(0);
  });

  it('a re-sent partial (a level-1 replay) still replaces, not adds, through the panes', () => {
    const r = rng(4);
    const replayed: Uint8Array[] = [];
    input.forEach((p, i) => {
      replayed.push(p);
      if (r() < 0.3 && i > 10) replayed.push(input[i - 1 - Math.floor(r() * 8)]!);
    });
    const a = new PartitionEngine(l2);
    const b = new PartitionEngine(l2);
    const refusedLate: number[] = [];
    const outB: WindowResult[] = [];
    replayed.forEach((p, i) => {
      const o = b.processPartial(p, i);
      if (!o.ok) refusedLate.push(i);
      if (i % 50 === 0) outB.push(...b.drainClosed().results);
    });
    // Re-sent partials of a window already closed at level 2 are refused as late, never merged twice.
    const key = (x: WindowResult) => `${x.windowSizeMs}@${x.windowStartMs}@${x.seriesKey}`;
    const sorted = (rs: WindowResult[]) => [...rs].sort((x, y) => (key(x) < key(y) ? -1 : 1));
    expect(sorted(finish(b, outB))).toEqual(sorted(finish(a, run(a, input))));
  });

  it('a restore anywhere (inside a pane, in the middle of a closing window taken in parts) continues identically', () => {
    const uninterrupted = (() => {
      const e = new PartitionEngine(l2);
      return finish(e, run(e, input));
    })();
    for (const cut of [1, 333, Math.floor(input.length / 2), input.length - 40]) {
      const first = new PartitionEngine(l2);
      const out = run(first, input, 0, cut);
      // Half a drain: the rest of a closing window stays held (its taken rows already in the panes).
      out.push(...first.drainClosed(3).results);
      const second = PartitionEngine.restore(l2, first.snapshot());
      first.release();
      out.push(...run(second, input, cut));
      expect(finish(second, out), `cut at ${cut}`).toEqual(uninterrupted);
    }
  });
});
