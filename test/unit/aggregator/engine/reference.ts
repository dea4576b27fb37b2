import type { DecodedRecord } from '../../../../aggregator/decode/decoder.js';

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
