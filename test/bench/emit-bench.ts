import { PartitionEngine, type WindowResult } from '../../aggregator/engine/partition-engine.js';
import { pipelineSchema } from '../../aggregator/pipeline/pipeline-schema.js';
import type { BenchDefinition } from '../../infra/cli/commands/bench-command.js';
import { benchPipelineInput, collectGarbage, intOption, keyNumber } from './core-bench.js';

export interface EmitBenchResult {
  /** Series in the closing 1-minute window (one partition). */
  series: number;
  rows: number;
  /** The engine's typed state while the window waits to be emitted (1m and 10m tables, dictionary). */
  stateBytes: number;
  /** The window taken in one piece, as before parts: every row a result object at once. */
  whole: { heapBytes: number; bytesPerRow: number; pauseMs: number };
  /**
   * The window taken in parts of at most `maxRowsPerWrite` rows while the last `inFlightWrites`
   * parts stay alive (a sink queue of `maxPendingWrites` + 1 writes): the worker's path.
   */
  parts: {
    maxRowsPerWrite: number;
    inFlightWrites: number;
    takes: number;
    peakHeapBytes: number;
    longestPauseMs: number;
    /** All the takes together (the forced collections that sample the heap left out). */
    takesMs: number;
  };
  /** whole.heapBytes / parts.peakHeapBytes: result objects alive at the peak, old way over new. */
  heapRatio: number;
  /** whole.pauseMs / parts.longestPauseMs: the longest event-loop block, old way over new. */
  pauseRatio: number;
}

const T0 = Date.UTC(2026, 0, 1);
const LATENESS = 4000;

/** An engine whose first 1-minute window holds `series` series and has just closed. */
function closedEngine(series: number): PartitionEngine {
  const pipeline = pipelineSchema.parse(benchPipelineInput('emit-bench', LATENESS));
  const e = new PartitionEngine({ pipeline, topic: 'in', partition: 0 });
  const rec = { seriesKey: '', keyValues: {}, eventTimeMs: T0, numbers: { value: 0 }, strings: {}, raw: {} };
  for (let k = 0; k < series; k++) {
    rec.seriesKey = `dev-${keyNumber(k)}`;
    rec.eventTimeMs = T0 + (k % 60_000);
    rec.numbers.value = k;
    e.process(rec, k);
  }
  rec.seriesKey = 'closer';
  rec.eventTimeMs = T0 + 60_000 + LATENESS;
  e.process(rec, series);
  return e;
}

function heap(): number {
  return process.memoryUsage().heapUsed;
}

/**
 * Closing a window of a million series: result objects alive and the longest synchronous take,
 * all rows at once (the old path) against parts handed to a bounded sink queue (the worker's path).
 */
export function measureEmit(
  opts: { series?: number; maxRowsPerWrite?: number; inFlightWrites?: number } = {},
  log: (line: string) => void = () => {},
): EmitBenchResult {
  const series = opts.series ?? 1_000_000;
  const maxRowsPerWrite = opts.maxRowsPerWrite ?? 16_384;
  const inFlightWrites = opts.inFlightWrites ?? 9;
  const gc = collectGarbage();

  log(`emit: ${series} series, whole window at once`);
  let engine = closedEngine(series);
  const stateBytes = engine.stats().stateBytes;
  gc();
  let before = heap();
  let t = performance.now();
  const all = engine.drainClosed().results;
  const pauseMs = performance.now() - t;
  gc();
  const wholeHeap = heap() - before;
  const rows = all.length;
  all.length = 0;
  engine.release();

  log(`emit: ${series} series in parts of ${maxRowsPerWrite} rows, ${inFlightWrites} writes in flight`);
  engine = closedEngine(series);
  gc();
  before = heap();
  const queue: WindowResult[][] = [];
  let peak = 0;
  let longest = 0;
  let takes = 0;
  let partRows = 0;
  let takesMs = 0;
  for (;;) {
    t = performance.now();
    const out = engine.drainClosed(maxRowsPerWrite);
    const ms = performance.now() - t;
    takesMs += ms;
    longest = Math.max(longest, ms);
    takes++;
    partRows += out.results.length;
    queue.push(out.results);
    if (queue.length > inFlightWrites) queue.shift();
    // Sampled with the queue full: what a sink that is slower than the engine holds.
    gc();
    peak = Math.max(peak, heap() - before);
    if (!out.more) break;
  }
  engine.release();
  if (partRows !== rows) throw new Error(`parts gave ${partRows} rows, the whole window ${rows}`);
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    series,
    rows,
    stateBytes,
    whole: { heapBytes: wholeHeap, bytesPerRow: round(wholeHeap / rows), pauseMs: round(pauseMs) },
    parts: {
      maxRowsPerWrite,
      inFlightWrites,
      takes,
      peakHeapBytes: peak,
      longestPauseMs: round(longest),
      takesMs: round(takesMs),
    },
    heapRatio: round(wholeHeap / Math.max(peak, 1)),
    pauseRatio: round(pauseMs / Math.max(longest, 1e-3)),
  };
}

export const emitBench: BenchDefinition = {
  name: 'emit',
  description:
    'Closing a 1M-series window: result objects alive and longest pause, all at once vs in parts through a bounded sink queue',
  options: (cmd) =>
    cmd
      .option('--series <n>', 'series in the closing window', '1000000')
      .option('--max-rows-per-write <n>', 'rows per part (worker.sink.maxRowsPerWrite)', '16384')
      .option('--in-flight-writes <n>', 'parts alive at once (maxPendingWrites + 1)', '9'),
  run: async (opts, log) =>
    measureEmit(
      {
        series: intOption(opts['series'], 1_000_000, '--series'),
        maxRowsPerWrite: intOption(opts['maxRowsPerWrite'], 16_384, '--max-rows-per-write'),
        inFlightWrites: intOption(opts['inFlightWrites'], 9, '--in-flight-writes'),
      },
      log,
    ),
};
