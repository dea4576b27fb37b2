import { describe, expect, it } from 'vitest';
import { blankFieldState } from '../../../../aggregator/aggregates/aggregate-layout.js';
import { encodePartial } from '../../../../aggregator/aggregates/partial-codec.js';
import type { DecodedRecord } from '../../../../aggregator/decode/decoder.js';
import {
  type EngineOutputs,
  PartitionEngine,
  type PartitionEngineOptions,
} from '../../../../aggregator/engine/partition-engine.js';
import { pipelineSchema } from '../../../../aggregator/pipeline/pipeline-schema.js';
import { presenceMachine } from './engine-fixtures.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const LATENESS = 5_000;

/** Devices go online on a report and offline after 2 minutes of silence; counts over 1m and 10m. */
function options(sink: 's3' | 'cassandra' = 'cassandra'): PartitionEngineOptions {
  const pipeline = pipelineSchema.parse({
    name: 'presence',
    source: { topics: ['in'] },
    keyFields: ['device'],
    eventTimeField: 'ts',
    windows: ['1m', '10m'],
    allowedLatenessMs: LATENESS,
    idleAfterMs: 30_000,
    aggregates: [{ field: 'v', kinds: ['count', 'sum'] }],
    sink: sink === 's3' ? { type: 's3', bucket: 'results' } : { type: 'cassandra', table: 't' },
    stateMachines: [presenceMachine(2 * MIN)],
  });
  return { pipeline, topic: 'in', partition: 0 };
}

function rec(device: number, t: number, v = 1): DecodedRecord {
  return {
    seriesKey: `dev-${device}`,
    keyValues: { device: `dev-${device}` },
    eventTimeMs: t,
    numbers: { v },
    strings: {},
    raw: {},
  };
}

/** 40 devices report during the first 90 s, then the partition goes silent. */
const burst: DecodedRecord[] = Array.from({ length: 400 }, (_, i) =>
  rec(i % 40, T0 + Math.floor((i / 400) * 90_000), i),
);

function feed(e: PartitionEngine, records: readonly DecodedRecord[], firstOffset = 0): string[] {
  const refused: string[] = [];
  records.forEach((r, i) => {
    const out = e.process(r, firstOffset + i);
    if (!out.ok) refused.push(`${firstOffset + i}:${out.reason}`);
  });
  return refused;
}

function drainAll(e: PartitionEngine): EngineOutputs {
  const out: EngineOutputs = { results: [], transitions: [], more: false };
  for (;;) {
    const o = e.drainClosed(64);
    out.results.push(...o.results);
    out.transitions.push(...o.transitions);
    if (!o.more) return out;
  }
}

describe('PartitionEngine.advanceWatermark (idle partitions)', () => {
  it('names the next due point and closes windows and fires timeouts without records', () => {
    const e = new PartitionEngine(options());
    feed(e, burst);
    const last = burst.at(-1)!.eventTimeMs;
    expect(e.watermarkMs()).toBe(last);
    // Open: the 1m window [T0+1m, T0+2m) and the 10m window; the first 1m window closed at T0+1m+5s.
    expect(e.nextDueMs()).toBe(T0 + 2 * MIN + LATENESS);
    const closedByRecords = drainAll(e);
    expect(closedByRecords.results.map((r) => r.windowStartMs)).toEqual(Array(40).fill(T0));
    expect(closedByRecords.transitions).toHaveLength(40); // every device went online

    // Silence: nothing moves without an advance.
    expect(drainAll(e)).toEqual({ results: [], transitions: [], more: false });
    e.advanceWatermark(T0 + 2 * MIN + LATENESS - 1); // just short of the second window's close
    expect(drainAll(e).results).toEqual([]);
    e.advanceWatermark(T0 + 2 * MIN + LATENESS);
    const second = drainAll(e);
    expect(second.results.map((r) => [r.windowSizeMs, r.windowStartMs])).toEqual(
      Array(40).fill([MIN, T0 + MIN]),
    );
    // Next: the timeouts, two minutes after each device's last report.
    const lastOf = (d: number) =>
      Math.max(...burst.filter((r) => r.keyValues['device'] === `dev-${d}`).map((r) => r.eventTimeMs));
    const firstTimeout = Math.min(...Array.from({ length: 40 }, (_, d) => lastOf(d) + 2 * MIN));
    expect(e.nextDueMs()).toBe(firstTimeout);
    e.advanceWatermark(T0 + 10 * MIN + LATENESS);
    const rest = drainAll(e);
    expect(rest.transitions.map((t) => [t.seriesKey, t.from, t.to, t.atMs])).toEqual(
      Array.from({ length: 40 }, (_, d) => [`dev-${d}`, 'online', 'offline', lastOf(d) + 2 * MIN]).sort(
        (a, b) => (a[3] as number) - (b[3] as number),
      ),
    );
    // The 10m window holds every record of the burst: counts and sums add up.
    const ten = rest.results.filter((r) => r.windowSizeMs === 10 * MIN);
    expect(ten).toHaveLength(40);
    expect(ten.reduce((n, r) => n + (r.aggregates['v']!['count'] as number), 0)).toBe(400);
    expect(ten.reduce((n, r) => n + (r.aggregates['v']!['sum'] as number), 0)).toBe((399 * 400) / 2);
    expect(e.nextDueMs()).toBe(Number.POSITIVE_INFINITY);
    // Records older than the advanced watermark's closed windows are late, as after a record there.
    expect(feed(e, [rec(1, T0 + 9 * MIN)], 400)).toEqual(['400:late']);
    // An advance that does not move the watermark changes nothing.
    e.advanceWatermark(T0);
    expect(e.watermarkMs()).toBe(T0 + 10 * MIN + LATENESS);
  });

  it('is an input like a record: a restore that applies the same advance continues identically', () => {
    const after = [rec(3, T0 + 3 * MIN), rec(4, T0 + 2 * MIN + 1_000), rec(5, T0 + 4 * MIN)];
    const at = T0 + 3 * MIN + LATENESS;
    const uninterrupted = new PartitionEngine(options());
    feed(uninterrupted, burst);
    const a1 = drainAll(uninterrupted);
    uninterrupted.advanceWatermark(at);
    const a2 = drainAll(uninterrupted);
    const aLate = feed(uninterrupted, after, 400);
    uninterrupted.advanceWatermark(T0 + 20 * MIN);
    const a3 = drainAll(uninterrupted);

    const first = new PartitionEngine(options());
    feed(first, burst);
    const b1 = drainAll(first);
    const snap = first.snapshot(); // checkpointed with the advance in its manifest
    first.advanceWatermark(at);
    first.release(); // dies before its outputs are written
    const second = PartitionEngine.restore(options(), snap);
    second.advanceWatermark(at);
    const b2 = drainAll(second);
    const bLate = feed(second, after, 400);
    second.advanceWatermark(T0 + 20 * MIN);
    const b3 = drainAll(second);
    expect(b1).toEqual(a1);
    expect(b2).toEqual(a2);
    expect(bLate).toEqual(aLate);
    expect(aLate).toEqual(['401:late']); // 2m+1s: its 1m window closed at 3m+5s
    expect(b3).toEqual(a3);
    expect(a2.results.length).toBeGreaterThan(0);
  });

  it("seals an S3 pipeline's transitions, so timeouts fired by silence are handed out", () => {
    const e = new PartitionEngine(options('s3'));
    feed(e, burst);
    drainAll(e);
    e.advanceWatermark(T0 + 2 * MIN + LATENESS); // the last 1m window of the burst closes
    expect(drainAll(e).results).toHaveLength(40);
    // No window closes here (the 10m one closes at 10m + 5 s), but every device times out.
    e.advanceWatermark(T0 + 5 * MIN);
    const fired = drainAll(e);
    expect(fired.results).toEqual([]);
    expect(fired.transitions.map((t) => t.to)).toEqual(Array(40).fill('offline'));
    expect(fired.transitions.map((t) => t.seq)).toEqual(Array.from({ length: 40 }, (_, i) => 40 + i));
    expect(fired.transitions.every((t) => t.part?.from === 40 && t.part.to === 80)).toBe(true);
  });

  it('closes a level-2 window from the merger when the partition is silent', () => {
    const level2 = pipelineSchema.parse({
      name: 'sites',
      source: { topics: ['partials'], format: 'partial' },
      keyFields: ['site'],
      windows: ['1m'],
      allowedLatenessMs: LATENESS,
      idleAfterMs: 30_000,
      aggregates: [{ field: 'v', kinds: ['count'] }],
      sink: { type: 'cassandra', table: 't' },
    });
    const e = new PartitionEngine({ pipeline: level2, topic: 'partials', partition: 0 });
    const partial = encodePartial({
      origin: { pipeline: 'devices', topic: 'in', partition: 2 },
      seriesKey: 'dev-1',
      keyValues: { site: 's1', device: 'dev-1' },
      windowSizeMs: MIN,
      windowStartMs: T0,
      fields: { v: { ...blankFieldState(), count: 7, sum: 7, min: 1, max: 1 } },
    });
    expect(e.processPartial(partial, 0).ok).toBe(true);
    expect(e.nextDueMs()).toBe(T0 + MIN + LATENESS);
    expect(drainAll(e).results).toEqual([]);
    e.advanceWatermark(T0 + MIN + LATENESS);
    const out = drainAll(e).results;
    expect(out.map((r) => [r.seriesKey, r.aggregates['v']!['count']])).toEqual([['s1', 7]]);
    expect(e.nextDueMs()).toBe(Number.POSITIVE_INFINITY);
  });
});
