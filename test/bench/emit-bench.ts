import { Option } from 'commander';
import { type EngineOutputs, PartitionEngine } from '../../aggregator/engine/partition-engine.js';
import { pipelineSchema } from '../../aggregator/pipeline/pipeline-schema.js';
import type { BenchDefinition } from '../../infra/cli/commands/bench-command.js';
import { benchPipelineInput, collectGarbage, intOption } from './core-bench.js';
import { keyNumber } from './core-input.js';

/**
 * What is emitted at once: `window` a closing 1-minute window of raw series; `timeouts` one
 * watermark step in which every key's state machine times out; `merged` a closing level-2
 * window (merged partials, one per series).
 */
export type EmitSource = 'window' | 'timeouts' | 'merged';
export const EMIT_SOURCES: readonly EmitSource[] = ['window', 'timeouts', 'merged'];

export interface EmitBenchResult {
  source: EmitSource;
  /** Series in the closing window, or keys timing out (one partition). */
  series: number;
  /** Rows emitted: window results, or transitions. */
  rows: number;
  /** The engine's state while the rows wait to be emitted (tables, dictionary; or keys and waiting transitions). */
  stateBytes: number;
  /**
   * What building that state left in use: JS heap plus external memory (typed arrays, buffers),
   * after forced collections. `stateBytes / stateHeldBytes` checks the memory manager's figures
   * (exact for typed storage, estimated for the on-heap parts: state machine keys, level-2 partials).
   */
  stateHeldBytes: number;
  estimateOverHeld: number;
  /**
   * Everything taken in one piece, as before parts: every row a result object at once.
   * Heap figures are the heap in use beyond the idle process's (sampled after forced
   * collections): result objects alive plus the state's on-heap part still held (state machine
   * keys, a level-2 window's partials until taken; window tables are typed arrays, off the heap).
   */
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

const MIN = 60_000;

/** An engine fed `series` series in its first minute (one record each), nothing taken yet. */
function fedEngine(series: number, machines: boolean, nextLevel: boolean): PartitionEngine {
  const pipeline = pipelineSchema.parse({
    ...benchPipelineInput('emit-bench', LATENESS),
    ...(nextLevel ? { nextLevel: { topic: 'level-2', keyFields: ['device'] } } : {}),
    ...(machines
      ? {
          stateMachines: [
            {
              name: 'presence',
              states: ['offline', 'online'],
              initial: 'offline',
              transitions: [{ from: 'offline', to: 'online' }],
              timeouts: [{ state: 'online', afterMs: 20 * MIN, to: 'offline' }],
            },
          ],
        }
      : {}),
  });
  const e = new PartitionEngine({ pipeline, topic: 'in', partition: 0 });
  for (let k = 0; k < series; k++) e.process(record(`dev-${keyNumber(k)}`, T0 + (k % MIN), k), k);
  return e;
}

function record(device: string, t: number, value: number) {
  return {
    seriesKey: device,
    keyValues: { device },
    eventTimeMs: t,
    numbers: { value },
    strings: {},
    raw: {},
  };
}

/** An engine holding `series` rows (or transitions) of `source` ready to be taken, nothing else. */
export function readyEngine(source: EmitSource, series: number): PartitionEngine {
  if (source === 'window') {
    const e = fedEngine(series, false, false);
    e.process(record('closer', T0 + MIN + LATENESS, 0), series);
    return e;
  }
  if (source === 'timeouts') {
    const e = fedEngine(series, true, false);
    // Windows and the record transitions first; then everyone's 20-minute silence in one step.
    e.process(record('closer-a', T0 + 10 * MIN + LATENESS, 0), series);
    e.drainClosed();
    e.process(record('closer-b', T0 + 21 * MIN, 0), series + 1);
    return e;
  }
  // Level 2 by device: one partial per series of the level-1 window, then a partial that closes it.
  const level1 = fedEngine(series, false, true);
  level1.process(record('closer', T0 + 10 * MIN + 10 * LATENESS, 0), series);
  const partials = level1.drainClosed().results.filter((r) => r.windowSizeMs === MIN);
  const closer = level1.flush().results[0]!;
  level1.release();
  const pipeline = pipelineSchema.parse({
    ...benchPipelineInput('emit-bench-level-2', LATENESS),
    source: { topics: ['level-2'], format: 'partial' },
    windows: ['1m'],
  });
  const e = new PartitionEngine({ pipeline, topic: 'level-2', partition: 0 });
  partials.forEach((r, i) => {
    e.processPartial(r.partial!, i);
  });
  partials.length = 0;
  e.processPartial(closer.partial!, series);
  return e;
}

function rowsOf(out: EngineOutputs): number {
  return out.results.length + out.transitions.length;
}

function heap(): number {
  return process.memoryUsage().heapUsed;
}

function heapAndExternal(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/**
 * Emitting a million rows at once (a window closing, a mass timeout, a level-2 window closing):
 * result objects alive and the longest synchronous take, all rows at once (the old path) against
 * parts handed to a bounded sink queue (the worker's path).
 */
export function measureEmit(
  opts: { source?: EmitSource; series?: number; maxRowsPerWrite?: number; inFlightWrites?: number } = {},
  log: (line: string) => void = () => {},
): EmitBenchResult {
  const source = opts.source ?? 'window';
  const series = opts.series ?? 1_000_000;
  const maxRowsPerWrite = opts.maxRowsPerWrite ?? 16_384;
  const inFlightWrites = opts.inFlightWrites ?? 9;
  const gc = collectGarbage();

  log(`emit ${source}: ${series} series, all at once`);
  gc();
  let before = heap();
  const beforeAll = heapAndExternal();
  let engine = readyEngine(source, series);
  const stateBytes = engine.stats().stateBytes;
  gc();
  const stateHeldBytes = heapAndExternal() - beforeAll;
  let t = performance.now();
  let all: EngineOutputs | null = engine.drainClosed();
  const pauseMs = performance.now() - t;
  gc();
  const wholeHeap = heap() - before;
  const rows = rowsOf(all);
  all = null;
  engine.release();

  log(
    `emit ${source}: ${series} series in parts of ${maxRowsPerWrite} rows, ${inFlightWrites} writes in flight`,
  );
  gc();
  before = heap();
  engine = readyEngine(source, series);
  gc();
  const queue: EngineOutputs[] = [];
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
    partRows += rowsOf(out);
    queue.push(out);
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
    source,
    series,
    rows,
    stateBytes,
    stateHeldBytes,
    estimateOverHeld: round(stateBytes / Math.max(stateHeldBytes, 1)),
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
  // Code that runs in a worker: measured under the worker's V8 flags.
  workerFlags: true,
  description:
    'Emitting 1M rows (a closing window, a mass state-machine timeout, a closing level-2 window): result objects alive and longest pause, all at once vs in parts through a bounded sink queue',
  options: (cmd) =>
    cmd
      .addOption(
        new Option(
          '--source <source>',
          'what emits: a closing window, a mass timeout, a closing level-2 window',
        )
          .choices([...EMIT_SOURCES])
          .default('window'),
      )
      .option('--series <n>', 'series in the closing window (keys timing out)', '1000000')
      .option('--max-rows-per-write <n>', 'rows per part (worker.sink.maxRowsPerWrite)', '16384')
      .option('--in-flight-writes <n>', 'parts alive at once (maxPendingWrites + 1)', '9'),
  run: async (opts, log) =>
    measureEmit(
      {
        source: opts['source'] as EmitSource,
        series: intOption(opts['series'], 1_000_000, '--series'),
        maxRowsPerWrite: intOption(opts['maxRowsPerWrite'], 16_384, '--max-rows-per-write'),
        inFlightWrites: intOption(opts['inFlightWrites'], 9, '--in-flight-writes'),
      },
      log,
    ),
};
