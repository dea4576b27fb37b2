import { expect } from 'vitest';
import type { DecodedRecord } from '../../../../aggregator/decode/decoder.js';
import type { WindowResult } from '../../../../aggregator/engine/partition-engine.js';

/** An independent, obvious computation of what the engine must output for one partition. */
export interface RefWindow {
  seriesKey: string;
  keyValues: Record<string, string>;
  windowSizeMs: number;
  windowStartMs: number;
  temps: number[];
  sum: number;
  last: { value: number; time: number; offset: number } | null;
  users: Set<string>;
  /** Watermark at which the window must be emitted: end + lateness. */
  closesAt: number;
}

export interface RefRun {
  windows: Map<string, RefWindow>;
  lateOffsets: number[];
}

export const refKey = (seriesKey: string, size: number, start: number): string =>
  `${seriesKey}@${size}@${start}`;

export function reference(records: DecodedRecord[], sizes: number[], latenessMs: number): RefRun {
  const windows = new Map<string, RefWindow>();
  const lateOffsets: number[] = [];
  let watermark = Number.NEGATIVE_INFINITY;
  const smallest = Math.min(...sizes);
  records.forEach((rec, offset) => {
    const t = rec.eventTimeMs;
    const smallStart = Math.floor(t / smallest) * smallest;
    if (watermark >= smallStart + smallest + latenessMs) {
      lateOffsets.push(offset);
      return;
    }
    watermark = Math.max(watermark, t);
    for (const size of sizes) {
      const start = Math.floor(t / size) * size;
      const k = refKey(rec.seriesKey, size, start);
      let w = windows.get(k);
      if (!w) {
        w = {
          seriesKey: rec.seriesKey,
          keyValues: rec.keyValues,
          windowSizeMs: size,
          windowStartMs: start,
          temps: [],
          sum: 0,
          last: null,
          users: new Set(),
          closesAt: start + size + latenessMs,
        };
        windows.set(k, w);
      }
      const v = rec.numbers['temp'];
      if (v !== undefined) {
        w.temps.push(v);
        w.sum += v;
        if (!w.last || t > w.last.time || (t === w.last.time && offset > w.last.offset))
          w.last = { value: v, time: t, offset };
      }
      const u = rec.strings['user'];
      if (u !== undefined) w.users.add(u);
    }
  });
  return { windows, lateOffsets };
}

/** The element of rank ⌊q (n − 1)⌋ of the sorted values. */
export function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

/**
 * Every window of the reference emitted once, none else: exact count/sum/min/max/mean/last of
 * `temp`, its quantiles within 1 %, the distinct `user`s within HLL error.
 */
export function expectReferenceResults(
  results: readonly WindowResult[],
  ref: RefRun,
  /** False: the pipeline declares no quantiles and no distinct count (not checked). */
  sketches = true,
): void {
  const seen = new Set<string>();
  for (const r of results) {
    const k = refKey(r.seriesKey, r.windowSizeMs, r.windowStartMs);
    expect(seen.has(k), `emitted twice: ${k}`).toBe(false);
    seen.add(k);
    const w = ref.windows.get(k);
    expect(w, `unexpected window ${k}`).toBeDefined();
    if (!w) continue;
    expect(r.keyValues).toEqual(w.keyValues);
    const a = r.aggregates['temp']!;
    expect(a.count).toBe(w.temps.length);
    expect(a.sum).toBe(w.sum);
    if (w.temps.length > 0) {
      expect(a.min).toBe(Math.min(...w.temps));
      expect(a.max).toBe(Math.max(...w.temps));
      expect(a.mean).toBe(w.sum / w.temps.length);
      expect(a.last).toBe(w.last!.value);
      for (const q of sketches ? [0.5, 0.9, 0.99] : []) {
        const exact = exactQuantile(w.temps, q);
        expect(Math.abs(a.quantiles![String(q)]! - exact)).toBeLessThanOrEqual(0.01 * Math.abs(exact) + 1e-9);
      }
    } else {
      expect(a.min).toBeUndefined();
    }
    if (!sketches) continue;
    const distinct = r.aggregates['user']!.distinct!;
    expect(Math.abs(distinct - w.users.size)).toBeLessThanOrEqual(Math.max(2, 0.05 * w.users.size));
  }
  expect(seen.size).toBe(ref.windows.size);
}
