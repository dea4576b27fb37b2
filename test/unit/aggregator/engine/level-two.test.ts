import { describe, expect, it } from 'vitest';
import {
  decodePartial,
  decodePartialFields,
  encodePartial,
} from '../../../../aggregator/aggregates/partial-codec.js';
import { CorruptStateError } from '../../../../aggregator/codec/byte-io.js';
import { PartitionEngine, type WindowResult } from '../../../../aggregator/engine/partition-engine.js';
import { generate, pipeline, rng } from './engine-fixtures.js';
import { level1, level1Partials, level2 } from './level-two-fixtures.js';

function runLevel2(partials: Uint8Array[]): WindowResult[] {
  const e = new PartitionEngine({ pipeline: level2, topic: 'by-site', partition: 0 });
  const out: WindowResult[] = [];
  partials.forEach((p, i) => {
    const outcome = e.processPartial(p, i);
    expect(outcome, JSON.stringify(outcome)).toEqual({ ok: true });
    out.push(...e.drainClosed().results);
  });
  out.push(...e.flush().results);
  return out.sort(
    (x, y) =>
      x.windowSizeMs - y.windowSizeMs ||
      x.windowStartMs - y.windowStartMs ||
      (x.seriesKey < y.seriesKey ? -1 : 1),
  );
}

describe('level-2 merge of level-1 partials', () => {
  const partials = level1Partials();

  it('decodes only the fields of a partial the same as the whole partial, and refuses a corrupt one', () => {
    for (const bytes of partials.slice(0, 50))
      expect(decodePartialFields(bytes)).toEqual(decodePartial(bytes).fields);
    expect(() => decodePartialFields(partials[0]!.subarray(0, 60))).toThrow(/truncated/);
    const longer = new Uint8Array(partials[0]!.length + 1);
    longer.set(partials[0]!);
    expect(() => decodePartialFields(longer)).toThrow(/trailing bytes/);
  });

  it('every partial names its origin, series and window', () => {
    const p = decodePartial(partials[0]!);
    expect(p.origin).toEqual({ pipeline: 'metrics', topic: 'in', partition: expect.any(Number) });
    expect(p.windowSizeMs).toBe(60_000);
    expect(encodePartial(p)).toEqual(partials[0]);
  });

  it('rolls up to coarser keys and windows: exact counts, sums, min, max against a direct rollup of the partials', () => {
    const results = runLevel2(partials);
    const direct = new Map<string, { count: number; sum: number; min: number; max: number }>();
    for (const bytes of partials) {
      const p = decodePartial(bytes);
      for (const size of [300_000, 600_000]) {
        const start = Math.floor(p.windowStartMs / size) * size;
        const k = `${p.keyValues['site']}@${size}@${start}`;
        const d = direct.get(k) ?? { count: 0, sum: 0, min: Infinity, max: -Infinity };
        const f = p.fields['temp']!;
        d.count += f.count;
        d.sum += f.sum;
        d.min = Math.min(d.min, f.min);
        d.max = Math.max(d.max, f.max);
        direct.set(k, d);
      }
    }
    expect(results.length).toBe(direct.size);
    for (const r of results) {
      const d = direct.get(`${r.keyValues['site']}@${r.windowSizeMs}@${r.windowStartMs}`)!;
      expect(r.aggregates['temp']).toMatchObject({ count: d.count, sum: d.sum, min: d.min, max: d.max });
      expect(r.aggregates['temp']!.quantiles!['0.5']).toBeTypeOf('number');
    }
  });

  it('a level-1 replay re-sending partials (duplicated, reordered) changes nothing: partials are replaced by origin', () => {
    const clean = runLevel2(partials);
    const r = rng(5);
    const replayed: Uint8Array[] = [];
    partials.forEach((p, i) => {
      replayed.push(p);
      // Re-send a recent partial now and then, as a restarted level-1 worker replaying from its checkpoint would.
      if (r() < 0.3 && i > 5) replayed.push(partials[i - Math.floor(r() * 5)]!);
    });
    expect(replayed.length).toBeGreaterThan(partials.length);
    expect(runLevel2(replayed)).toEqual(clean);
  });

  it('a partial re-sent with another length replaces the held copy; the garbage is compacted away', () => {
    // The same identity with an extra key value (ignored by the merge): a longer encoding.
    const longer = partials.map((bytes) => {
      const p = decodePartial(bytes);
      p.keyValues = { ...p.keyValues, note: 'x'.repeat(64) };
      return encodePartial(p);
    });
    const run = (resend: boolean) => {
      const e = new PartitionEngine({ pipeline: level2, topic: 'by-site', partition: 0 });
      const out: WindowResult[] = [];
      let peak = 0;
      partials.forEach((p, i) => {
        e.processPartial(p, i);
        if (resend) {
          e.processPartial(longer[i]!, i);
          e.processPartial(p, i);
        }
        peak = Math.max(peak, e.stats().stateBytes);
        out.push(...e.drainClosed().results);
      });
      out.push(...e.flush().results);
      return { out, peak };
    };
    const once = run(false);
    const thrice = run(true);
    expect(thrice.out).toEqual(once.out);
    // Each re-send leaves a dead copy: without compaction the windows would hold about three copies.
    expect(thrice.peak / once.peak).toBeLessThan(2.5); // 1.72 measured; 3.71 with compaction disabled
  });

  it('refuses malformed partials and partials that do not fit the pipeline as bad_partial', () => {
    const e = new PartitionEngine({ pipeline: level2, topic: 'by-site', partition: 0 });
    expect(e.processPartial(new Uint8Array([1, 2, 3]), 0)).toMatchObject({
      ok: false,
      reason: 'bad_partial',
    });
    expect(e.processPartial(partials[0]!.subarray(0, 40), 1)).toMatchObject({
      ok: false,
      reason: 'bad_partial',
    });
    const p = decodePartial(partials[0]!);
    p.windowSizeMs = 7_000;
    expect(e.processPartial(encodePartial(p), 2)).toMatchObject({
      ok: false,
      reason: 'bad_partial',
      detail: expect.stringMatching(/7000 ms/),
    });
    const raw = new PartitionEngine({ pipeline: level1, topic: 'in', partition: 0 });
    expect(raw.processPartial(partials[0]!, 0)).toMatchObject({ ok: false, reason: 'bad_partial' });
  });

  it('level-2 state survives snapshot and restore', () => {
    const opts = { pipeline: level2, topic: 'by-site', partition: 0 };
    const a = new PartitionEngine(opts);
    const half = Math.floor(partials.length / 2);
    const out: WindowResult[] = [];
    partials.slice(0, half).forEach((p, i) => {
      a.processPartial(p, i);
      out.push(...a.drainClosed().results);
    });
    const b = PartitionEngine.restore(opts, a.snapshot());
    partials.slice(half).forEach((p, i) => {
      b.processPartial(p, half + i);
      out.push(...b.drainClosed().results);
    });
    out.push(...b.flush().results);
    const sort = (x: WindowResult, y: WindowResult) =>
      x.windowSizeMs - y.windowSizeMs ||
      x.windowStartMs - y.windowStartMs ||
      (x.seriesKey < y.seriesKey ? -1 : 1);
    expect(out.sort(sort)).toEqual(runLevel2(partials));
  });
});

describe('level-2 rows keyed by several fields, values with separators and escapes', () => {
  const byDevice = pipeline({
    windows: ['1m'],
    allowedLatenessMs: 30_000,
    aggregates: [{ field: 'temp', kinds: ['count', 'sum'] }],
    sink: { type: 'cassandra', table: 'l1' },
    nextLevel: { topic: 'by-device', keyFields: ['site', 'device'] },
  });
  const level2Devices = pipeline({
    name: 'devices',
    source: { topics: ['by-device'], format: 'partial' },
    keyFields: ['site', 'device'],
    windows: ['5m'],
    allowedLatenessMs: 120_000,
    aggregates: byDevice.aggregates,
    sink: { type: 'cassandra', table: 'l2' },
  });
  const opts = { pipeline: level2Devices, topic: 'by-device', partition: 0 };
  const input = generate({ n: 1500, keys: 40, minutes: 12, jitterMs: 2_000, partitions: 1, seed: 9 });
  const l1 = new PartitionEngine({ pipeline: byDevice, topic: 'in', partition: 0 });
  const partials: Uint8Array[] = [];
  input.forEach((g, i) => {
    l1.process(g.record, i);
    for (const r of l1.drainClosed().results) partials.push(r.partial!);
  });
  for (const r of l1.flush().results) partials.push(r.partial!);
  const keyValuesOf = new Map(partials.map((p) => decodePartial(p)).map((p) => [p.seriesKey, p.keyValues]));

  it('hand out the key values of their partials, through a snapshot and restore', () => {
    expect([...keyValuesOf.keys()].some((k) => k.includes('\\|'))).toBe(true);
    let e = new PartitionEngine(opts);
    const out: WindowResult[] = [];
    partials.forEach((p, i) => {
      if (i === Math.floor(partials.length / 2)) e = PartitionEngine.restore(opts, e.snapshot());
      expect(e.processPartial(p, i)).toEqual({ ok: true });
      out.push(...e.drainClosed().results);
    });
    out.push(...e.flush().results);
    expect(new Set(out.map((r) => r.seriesKey))).toEqual(new Set(keyValuesOf.keys()));
    for (const r of out) expect(r.keyValues).toEqual(keyValuesOf.get(r.seriesKey));
  });

  it('a snapshot whose key values do not match its series key is refused as corrupt', () => {
    const e = new PartitionEngine(opts);
    for (const [i, p] of partials.slice(0, 20).entries()) e.processPartial(p, i);
    const snap = Buffer.from(e.snapshot());
    const at = snap.indexOf('{"site":"s');
    expect(at).toBeGreaterThan(0);
    snap[at + 10] = snap[at + 10] === 0x39 ? 0x38 : 0x39; // s0 → s9 (or s9 → s8)
    expect(() => PartitionEngine.restore(opts, snap)).toThrow(CorruptStateError);
    expect(() => PartitionEngine.restore(opts, snap)).toThrow(
      /level-2 key values .* are not those of series/,
    );
  });
});
