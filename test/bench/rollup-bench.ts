import { seriesKeyOf } from '../../aggregator/decode/series-key.js';
import { PartitionEngine } from '../../aggregator/engine/partition-engine.js';
import { type PipelineConfig, pipelineSchema } from '../../aggregator/pipeline/pipeline-schema.js';
import { windowStart } from '../../aggregator/window/tumbling-window.js';
import type { BenchDefinition } from '../../infra/cli/commands/bench-command.js';
import { collectGarbage, heapBytes } from './core-bench.js';

export interface RollupBenchOptions {
  /** Level-1 series, each one partial per minute (default 10,000). */
  series?: number;
  /** Minutes of partials (default 61: the hour window open to its end). */
  minutes?: number;
}

export interface RollupBenchResult {
  series: number;
  minutes: number;
  windows: string[];
  partials: number;
  level2: {
    /** Memory-manager bytes of the level-2 state at its peak, and per series. */
    peakStateBytes: number;
    peakBytesPerSeries: number;
    /** Heap and array buffers the level-2 engine holds at minute 59 (after forced collections). */
    heldBytesAt59m: number;
    cpuSeconds: number;
    partialsPerSec: number;
    resultsEmitted: number;
  };
  baseline: {
    description: string;
    heldBytesAt59m: number;
  };
  /** baseline / level-2 held bytes at minute 59. */
  memoryRatio: number;
}

const MIN = 60_000;
const AGGREGATES = [{ field: 'v', kinds: ['count', 'sum', 'min', 'max', 'mean'] }];

function pipelines(): { level1: PipelineConfig; level2: PipelineConfig } {
  const level1 = pipelineSchema.parse({
    name: 'devices',
    source: { topics: ['in'] },
    keyFields: ['site', 'device'],
    eventTimeField: 'ts',
    windows: ['1m'],
    allowedLatenessMs: 5_000,
    aggregates: AGGREGATES,
    sink: { type: 'cassandra', table: 'l1' },
    nextLevel: { topic: 'by-device', keyFields: ['device'] },
  });
  const level2 = pipelineSchema.parse({
    name: 'rollup',
    source: { topics: ['by-device'], format: 'partial' },
    keyFields: ['device'],
    windows: ['1m', '10m', '1h'],
    allowedLatenessMs: 5_000,
    aggregates: AGGREGATES,
    sink: { type: 'cassandra', table: 'l2' },
  });
  return { level1, level2 };
}

/**
 * The obvious level 2: every partial kept, by its series, in the window of each size containing
 * it until that window closes (what this project's level 2 did before its larger windows were
 * built from panes). Only what it holds is measured.
 */
class HoldEverySize {
  private readonly open: Map<number, Map<string, Uint8Array[]>>[];
  constructor(private readonly sizes: number[]) {
    this.open = sizes.map(() => new Map());
  }
  accept(seriesKey: string, windowStartMs: number, partial: Uint8Array): void {
    this.sizes.forEach((size, i) => {
      const start = windowStart(windowStartMs, size);
      let rows = this.open[i]!.get(start);
      if (!rows) {
        rows = new Map();
        this.open[i]!.set(start, rows);
      }
      const held = rows.get(seriesKey);
      if (held) held.push(partial.slice());
      else rows.set(seriesKey, [partial.slice()]);
    });
  }
  close(watermarkMs: number, latenessMs: number): void {
    this.sizes.forEach((size, i) => {
      for (const start of [...this.open[i]!.keys()])
        if (watermarkMs >= start + size + latenessMs) this.open[i]!.delete(start);
    });
  }
}

/**
 * Level-2 roll-up of `series` level-1 series over `minutes` minutes of 1m partials into 1m, 10m
 * and 1h windows: the level-2 engine's memory (memory manager and heap) and CPU, beside what
 * holding every partial in each window size would hold.
 */
export async function measureRollup(
  opts: RollupBenchOptions = {},
  log: (line: string) => void = () => {},
): Promise<RollupBenchResult> {
  const series = opts.series ?? 10_000;
  const minutes = opts.minutes ?? 61;
  const { level1, level2 } = pipelines();
  const T0 = Date.UTC(2026, 0, 1);
  const gc = collectGarbage();

  // Level-1 partials, minute by minute (made first, so neither contender pays for them).
  log(`level 1: ${series} series × ${minutes} minutes`);
  const l1 = new PartitionEngine({ pipeline: level1, topic: 'in', partition: 0 });
  const byMinute: { seriesKey: string; windowStartMs: number; partial: Uint8Array }[][] = [];
  let offset = 0;
  for (let m = 0; m <= minutes; m++) {
    for (let d = 0; d < series; d++) {
      const site = `site-${d % 50}`;
      const device = `dev-${d}`;
      l1.process(
        {
          seriesKey: seriesKeyOf([site, device]),
          keyValues: { site, device },
          eventTimeMs: T0 + m * MIN + (d % 1000),
          numbers: { v: (d * 7 + m) % 101 },
          strings: {},
          raw: {},
        },
        offset++,
      );
    }
    byMinute.push(
      l1.drainClosed().results.map((r) => ({
        seriesKey: r.keyValues['device']!,
        windowStartMs: r.windowStartMs,
        partial: r.partial!,
      })),
    );
  }
  l1.release();
  const partials = byMinute.reduce((n, b) => n + b.length, 0);

  // Level 2.
  log(`level 2: ${partials} partials into ${level2.windows.length} window sizes`);
  gc();
  const base = heapBytes();
  const l2 = new PartitionEngine({ pipeline: level2, topic: 'by-device', partition: 0 });
  let peak = 0;
  let held = 0;
  let results = 0;
  let cpu = 0;
  byMinute.forEach((batch, m) => {
    const at = process.cpuUsage();
    for (const p of batch) l2.processPartial(p.partial, offset++);
    for (;;) {
      const out = l2.drainClosed(16_384);
      results += out.results.length;
      if (!out.more) break;
    }
    const d = process.cpuUsage(at);
    cpu += (d.user + d.system) / 1e6;
    peak = Math.max(peak, l2.stats().stateBytes);
    if (m === 59) {
      gc();
      held = heapBytes() - base;
    }
  });
  l2.release();

  // Baseline.
  log('baseline: every partial held in each window size');
  gc();
  const baseBase = heapBytes();
  const baseline = new HoldEverySize([...level2.windows]);
  let baselineHeld = 0;
  byMinute.forEach((batch, m) => {
    for (const p of batch) baseline.accept(p.seriesKey, p.windowStartMs, p.partial);
    const last = batch.at(-1);
    if (last) baseline.close(last.windowStartMs + MIN, level2.allowedLatenessMs);
    if (m === 59) {
      gc();
      baselineHeld = heapBytes() - baseBase;
    }
  });

  return {
    series,
    minutes,
    windows: ['1m', '10m', '1h'],
    partials,
    level2: {
      peakStateBytes: peak,
      peakBytesPerSeries: Math.round(peak / series),
      heldBytesAt59m: held,
      cpuSeconds: Math.round(cpu * 1000) / 1000,
      partialsPerSec: Math.round(partials / cpu),
      resultsEmitted: results,
    },
    baseline: {
      description:
        'every level-1 partial kept in the window of each size containing it until that window closes',
      heldBytesAt59m: baselineHeld,
    },
    memoryRatio: held > 0 ? Math.round((baselineHeld / held) * 100) / 100 : 0,
  };
}

const positive = (name: string, v: unknown): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`--${name}: ${JSON.stringify(v)} is not a positive integer`);
  return n;
};

export const rollupBench: BenchDefinition = {
  name: 'rollup',
  // Code that runs in a worker: measured under the worker's V8 flags.
  workerFlags: true,
  description:
    'Level-2 roll-up (1m, 10m, 1h) of an hour of 1m partials: memory (memory manager, heap) and CPU, vs holding every partial in each window size',
  options: (cmd) =>
    cmd
      .option('--series <n>', 'level-1 series (one partial per minute each)', '10000')
      .option('--minutes <n>', 'minutes of partials (at least 60 for the held figures)', '61'),
  run: (opts, log) => {
    const minutes = positive('minutes', opts['minutes']);
    if (minutes < 60) throw new Error('--minutes: at least 60 (the held bytes are measured at minute 59)');
    return measureRollup({ series: positive('series', opts['series']), minutes }, log);
  },
};
