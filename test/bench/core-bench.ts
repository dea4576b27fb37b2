import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { DecodedRecord } from '../../aggregator/decode/decoder.js';
import { PartitionEngine } from '../../aggregator/engine/partition-engine.js';
import { type PipelineConfig, pipelineSchema } from '../../aggregator/pipeline/pipeline-schema.js';
import { loadKeyLookupKernel } from '../../aggregator/store/key-lookup-kernel.js';
import { MemoryManager } from '../../aggregator/store/memory-manager.js';
import { windowStart } from '../../aggregator/window/tumbling-window.js';
import type { BenchDefinition } from '../../infra/cli/commands/bench-command.js';
import { CoreFloor } from './core-floor.js';
import { BATCH, InputStream, keyNumber } from './core-input.js';

export interface CoreBenchOptions {
  /** Distinct series keys (default 1M). */
  keys?: number;
  /** Records fed and timed in each round (default 12M), after the warm-up. */
  records?: number;
  /**
   * Timed rounds of `records` records, one after another on the same engine (default 3). The
   * core's figures are over all of them: a longer run, so that neither a burst of other work on the
   * shared machine nor a cost that comes back every few tens of millions of records (a drain slowed
   * by a full garbage collection) decides them alone; each round is in `core.rounds`.
   */
  rounds?: number;
  /**
   * Records fed first, timed apart (default: two 1m windows' worth, keys × perSeriesWindow × 2):
   * the first window of an empty engine grows its tables as series arrive, the second opens before
   * the first closes (nothing to size it from); from the third on, a window is sized — or indexed
   * by series id — from the last closed one, as in a worker that has been running.
   */
  warmupRecords?: number;
  /** Mean records per series per 1-minute window (sets how fast event time advances; default 6). */
  perSeriesWindow?: number;
  /** Records between two drains of closed windows, as a worker does between sink writes. */
  drainEvery?: number;
  /** Out-of-order jitter of event times, ms (allowed lateness is twice this). */
  jitterMs?: number;
}

/** One timed round of `records` records (see {@link CoreBenchOptions.rounds}). */
export interface CoreRound {
  updatesPerSec: number;
  cpuSeconds: number;
  seconds: number;
  drainCpuSeconds: number;
  resultsEmitted: number;
}

export interface CoreBenchResult {
  /**
   * Node options of the measuring process: NODE_OPTIONS, then its command-line flags (`liveagg
   * bench core` runs under the worker's V8 flags).
   */
  nodeOptions: string;
  keys: number;
  /** Records of each timed round (the core is timed over `core.rounds.length` of them). */
  records: number;
  windows: string[];
  aggregates: string[];
  core: {
    /**
     * Records applied per CPU second of this process (each updates one row per window size), after
     * the warm-up. CPU time, not wall time: the machine is shared, and the target is "on one core".
     */
    updatesPerSec: number;
    /** Records of the warm-up (not in `updatesPerSec`). */
    warmupRecords: number;
    /** The warm-up's own rate: an empty engine's first windows (series arriving, tables growing). */
    coldUpdatesPerSec: number;
    /** Records per wall-clock second (lower when other processes take the CPU). */
    updatesPerWallSec: number;
    cpuSeconds: number;
    /**
     * Records × window sizes per second: the rows each record reaches, its smallest window's
     * directly and the larger ones through that window's merge when it closes.
     */
    rowUpdatesPerSec: number;
    seconds: number;
    resultsEmitted: number;
    /**
     * CPU seconds of the timed part spent in `drainClosed` (closed rows turned into result
     * objects), and their share of it: what emitting costs beside applying records (the merge of
     * a closing window into larger ones and the results' garbage collection count elsewhere).
     */
    drainCpuSeconds: number;
    drainShare: number;
    /**
     * Records per CPU second with the input's own cost ({@link CoreBenchResult.input}, measured
     * alone in this run) taken out: what the engine's `process` + drains cost by themselves.
     */
    updatesPerSecExcludingInput: number;
    /**
     * Every timed round in the order run. The figures above (`updatesPerSec` … `drainShare`) are
     * over all of them: records of every round per CPU second of every round ({@link totalOfRounds}).
     */
    rounds: CoreRound[];
  };
  /**
   * The synthetic input alone (same records, no engine): xorshift, the key's bytes written into a
   * buffer (`writeKeyWords`) as the JSON decoder leaves a plain single-field key (the record
   * points at them), time and value. Every contender pays it inside its timed loop; one that reads
   * the key as a string (the baseline, the floor) also pays for making it.
   */
  input: { cpuSeconds: number; recordsPerSec: number };
  /** Memory-manager bytes per live (series, window) row with every key live in both window sizes. */
  bytesPerSeries: number;
  /**
   * The least work any JavaScript core that keys by string does per record at this key count,
   * measured in the same run on the same input ({@link CoreFloor}): the key read as a string, a
   * verified hash lookup and one row update per record, reads overlapped as the core's are — no
   * windows, watermark, drains or accounting. The core beats it by looking keys up from their
   * bytes in WebAssembly.
   */
  floor: {
    description: string;
    updatesPerSec: number;
    cpuSeconds: number;
    /** Records per CPU second with the input's own cost taken out, as the core's. */
    updatesPerSecExcludingInput: number;
  };
  /** core / floor updates per second: the share of the floor's rate the full core keeps. */
  ofFloor: number;
  /** The same bytes per live series key (both window sizes together). */
  bytesPerKey: number;
  stateBytes: number;
  liveSeriesWindows: number;
  baseline: {
    description: string;
    /** Per CPU second, like the core's. */
    updatesPerSec: number;
    updatesPerWallSec: number;
    cpuSeconds: number;
    seconds: number;
    resultsEmitted: number;
    /** JS heap growth per live (series, window) entry, measured after a forced GC. */
    bytesPerSeries: number;
  };
  /** core / baseline updates per second. */
  speedup: number;
  /** baseline / core bytes per (series, window). */
  memoryRatio: number;
  targets: { updatesPerSec: number; bytesPerSeries: number };
}

const WINDOWS = ['1m', '10m'];
const KINDS = ['count', 'sum', 'min', 'max', 'mean'] as const;

/**
 * The benches' pipeline, as config input (to be parsed by a `pipelineSchema`): key `device`,
 * count/sum/min/max/mean of `value` over 1m and 10m windows.
 */
export function benchPipelineInput(name: string, latenessMs: number, table = 'results') {
  return {
    name,
    source: { topics: ['in'] },
    keyFields: ['device'],
    eventTimeField: 'ts',
    windows: WINDOWS,
    allowedLatenessMs: latenessMs,
    aggregates: [{ field: 'value', kinds: [...KINDS] }],
    sink: { type: 'cassandra' as const, table },
  };
}

function benchPipeline(latenessMs: number): PipelineConfig {
  return pipelineSchema.parse(benchPipelineInput('core-bench', latenessMs));
}

/** A record with its key as a string (filled in place: the memory measurements' input). */
function stringRecord(): DecodedRecord {
  return { seriesKey: '', keyValues: {}, eventTimeMs: 0, numbers: { value: 0 }, strings: {}, raw: {} };
}

/** Rows per part a drain takes, as the worker's default `worker.sink.maxRowsPerWrite`. */
const ROWS_PER_WRITE = 16_384;

/** True when a drain point (every `every` records) lies in [i, i + n). */
export function drainDue(i: number, n: number, every: number): boolean {
  return Math.floor((i + n) / every) > Math.floor(i / every);
}

export function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

/** JS heap plus array buffers in use (typed storage lives in the latter). */
export function heapBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

interface Agg {
  count: number;
  sum: number;
  min: number;
  max: number;
}

/**
 * The obvious plain-JS implementation of the same work: per window size a Map from window start
 * to a Map from series key to an aggregate object, windows closed on the same watermark rule.
 */
class MapBaseline {
  readonly open: Map<number, Map<string, Agg>>[];
  private watermark = Number.NEGATIVE_INFINITY;
  emitted = 0;

  constructor(
    private readonly sizes: number[],
    private readonly latenessMs: number,
  ) {
    this.open = sizes.map(() => new Map());
  }

  process(r: DecodedRecord): void {
    const t = r.eventTimeMs;
    if (t < windowStart(this.watermark - this.latenessMs, this.sizes[0]!)) return;
    if (t > this.watermark) this.watermark = t;
    const v = r.numbers['value']!;
    for (let i = 0; i < this.sizes.length; i++) {
      const start = windowStart(t, this.sizes[i]!);
      const byStart = this.open[i]!;
      let rows = byStart.get(start);
      if (!rows) {
        rows = new Map();
        byStart.set(start, rows);
      }
      const a = rows.get(r.seriesKey);
      if (a) {
        a.count++;
        a.sum += v;
        if (v < a.min) a.min = v;
        if (v > a.max) a.max = v;
      } else rows.set(r.seriesKey, { count: 1, sum: v, min: v, max: v });
    }
  }

  drain(): unknown[] {
    const out: unknown[] = [];
    this.sizes.forEach((size, i) => {
      for (const [start, rows] of this.open[i]!) {
        if (this.watermark < start + size + this.latenessMs) continue;
        for (const [seriesKey, a] of rows) {
          out.push({ seriesKey, windowSizeMs: size, windowStartMs: start, ...a, mean: a.sum / a.count });
        }
        this.open[i]!.delete(start);
      }
    });
    this.emitted += out.length;
    return out;
  }

  liveRows(): number {
    let n = 0;
    for (const bySize of this.open) for (const rows of bySize.values()) n += rows.size;
    return n;
  }
}

/**
 * The aggregation core fed in-process (no Kafka, no decoding): `keys` series, count/sum/min/max/mean
 * over 1m and 10m windows, records handed over in batches of {@link BATCH} as the worker hands a
 * fetch's records (`processBatch`), closed windows drained as a worker would. The baseline does the same
 * updates and emissions with Maps of objects, in the same run.
 */
export async function measureCore(
  opts: CoreBenchOptions = {},
  log: (line: string) => void = () => {},
): Promise<CoreBenchResult> {
  const keys = opts.keys ?? 1_000_000;
  const records = opts.records ?? 12_000_000;
  const rounds = opts.rounds ?? 3;
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new RangeError(`rounds must be a whole number ≥ 1, not ${rounds}`);
  const perSeriesWindow = opts.perSeriesWindow ?? 6;
  const warmup = opts.warmupRecords ?? keys * perSeriesWindow * 2;
  const drainEvery = opts.drainEvery ?? 100_000;
  const jitterMs = opts.jitterMs ?? 2_000;
  const latenessMs = 2 * jitterMs;
  // The worker's dictionaries look keys up in WebAssembly once the kernel is loaded (as `liveagg worker` does).
  await loadKeyLookupKernel();
  const gc = collectGarbage();
  const t0 = Date.UTC(2026, 0, 1);
  const pipeline = benchPipeline(latenessMs);
  const sizes = [...pipeline.windows];

  // --- core ---
  gc();
  const memory = new MemoryManager({ budgetBytes: 8 * 1024 ** 3, highWater: 0.9, lowWater: 0.75 });
  let engine: PartitionEngine | null = new PartitionEngine({
    pipeline,
    topic: 'in',
    partition: 0,
    memory: memory.account(pipeline.name),
  });
  let input = new InputStream(keys, perSeriesWindow, jitterMs, t0);
  log(`core: ${warmup} records of warm-up, then ${records} over ${keys} keys`);
  let emitted = 0;
  let drainCpu = 0;
  const drain = (e: PartitionEngine): void => {
    const at = process.cpuUsage();
    // As the worker takes outputs: parts of at most maxRowsPerWrite rows, each dropped (written)
    // before the next (a closed window is never a million result objects at once).
    for (;;) {
      const out = e.drainClosed(ROWS_PER_WRITE);
      emitted += out.results.length;
      if (!out.more) break;
    }
    drainCpu += cpuSecondsSince(at);
  };
  const feed = (e: PartitionEngine, from: number, to: number): void => {
    for (let i = from; i < to; i += BATCH) {
      const n = Math.min(BATCH, to - i);
      e.processBatch(input.fillBatch(i, n), input.offsets, n);
      if (drainDue(i, n, drainEvery)) drain(e);
    }
  };
  let cpu = process.cpuUsage();
  feed(engine, 0, warmup);
  const coldCpu = cpuSecondsSince(cpu);
  const timed: CoreRound[] = [];
  for (let r = 0; r < rounds; r++) {
    emitted = 0;
    drainCpu = 0;
    const from = warmup + r * records;
    const start = performance.now();
    cpu = process.cpuUsage();
    feed(engine, from, from + records);
    drain(engine);
    const seconds = (performance.now() - start) / 1000;
    const roundCpu = cpuSecondsSince(cpu);
    timed.push({
      updatesPerSec: Math.round(records / roundCpu),
      cpuSeconds: round(roundCpu),
      seconds: round(seconds),
      drainCpuSeconds: round(drainCpu),
      resultsEmitted: emitted,
    });
    log(
      `core: round ${r + 1} of ${rounds}, ${(records / roundCpu / 1e6).toFixed(2)}M records per CPU second`,
    );
  }
  const all = totalOfRounds(timed, records);
  const timedRecords = records * rounds;
  const coreCpu = all.cpuSeconds;
  const stats = engine.stats();
  // Steady state at `keys` series: every key live once in each size, in tables sized from the
  // previous window of their size (a first window grows by 1.5× steps; later ones start at the
  // right size). A 10m window receives the rows of each 1m window inside it when that closes.
  // Rounds: a first 1m window; the first 1m window of the next 10m window (closing the first
  // 1m window, merged into the first 10m window, which closes too); the next 1m window (closing
  // the previous one, merged into the second 10m window). Both measured tables are the hinted
  // kind and every key stays live throughout, as in a running partition.
  engine.release();
  engine = null;
  gc();
  const full = new PartitionEngine({ pipeline, topic: 'in', partition: 0, memory: memory.account('full') });
  const rec = stringRecord();
  for (const windowAt of [t0, t0 + 600_000 + latenessMs + 1, t0 + 660_000 + latenessMs + 1]) {
    for (let k = 0; k < keys; k++) {
      rec.seriesKey = `dev-${keyNumber(k)}`;
      rec.eventTimeMs = windowAt;
      rec.numbers['value'] = k;
      full.process(rec, k);
    }
    full.drainClosed();
  }
  const fullStats = full.stats();
  full.release();

  // --- the input alone (what both timed loops pay besides their own work) ---
  input = new InputStream(keys, perSeriesWindow, jitterMs, t0);
  let inputSink = 0;
  // The records of every timed round, in one loop (only their total is reported).
  const inputEnd = warmup + timedRecords;
  cpu = process.cpuUsage();
  for (let i = warmup; i < inputEnd; i += BATCH) {
    const n = Math.min(BATCH, inputEnd - i);
    const batch = input.fillBatch(i, n);
    for (let j = 0; j < n; j++) {
      const rec = batch[j]!;
      // Read the key and the value, so that nothing of the input is optimized away.
      inputSink += rec.keyBytes[rec.keyEnd - 1]! + rec.numbers['value']!;
    }
  }
  const inputCpu = cpuSecondsSince(cpu);
  if (inputSink === -1) log('(unreachable)');
  log(
    `core: ${(timedRecords / coreCpu / 1e6).toFixed(2)}M records per CPU second over ${rounds} rounds, ${fullStats.stateBytes} bytes for ${fullStats.openWindows} rows`,
  );

  // --- the floor: the least a JS core does per record (the same input, the same warm-up) ---
  gc();
  let floor: CoreFloor | null = new CoreFloor(keys);
  input = new InputStream(keys, perSeriesWindow, jitterMs, t0);
  const feedFloor = (f: CoreFloor, from: number, to: number): void => {
    for (let i = from; i < to; i += BATCH) {
      const n = Math.min(BATCH, to - i);
      f.processBatch(input.fillBatch(i, n), n);
    }
  };
  log('floor: a verified hash lookup and one row update per record');
  feedFloor(floor, 0, warmup);
  cpu = process.cpuUsage();
  feedFloor(floor, warmup, warmup + records);
  const floorCpu = cpuSecondsSince(cpu);
  if (floor.loadsSink() === 0.5) log('(unreachable)');
  floor = null;

  // --- baseline (the same warm-up, untimed) ---
  gc();
  const baseline = new MapBaseline(sizes, latenessMs);
  input = new InputStream(keys, perSeriesWindow, jitterMs, t0);
  log('baseline: Map<string, object> per window');
  const feedBaseline = (from: number, to: number): void => {
    for (let i = from; i < to; i += BATCH) {
      const n = Math.min(BATCH, to - i);
      const batch = input.fillBatch(i, n);
      for (let j = 0; j < n; j++) baseline.process(batch[j]!);
      if (drainDue(i, n, drainEvery)) baseline.drain();
    }
  };
  feedBaseline(0, warmup);
  baseline.emitted = 0;
  const start = performance.now();
  cpu = process.cpuUsage();
  feedBaseline(warmup, warmup + records);
  baseline.drain();
  const baseSeconds = (performance.now() - start) / 1000;
  const baseCpu = cpuSecondsSince(cpu);
  // Baseline memory: a fresh baseline with every key once in each size, measured on the heap.
  const emptyBase = new MapBaseline(sizes, latenessMs);
  gc();
  const before = heapBytes();
  for (let k = 0; k < keys; k++) {
    rec.seriesKey = `dev-${keyNumber(k)}`;
    rec.eventTimeMs = t0;
    emptyBase.process(rec);
  }
  gc();
  const baseBytesPerSeries = (heapBytes() - before) / emptyBase.liveRows();

  const coreRate = timedRecords / coreCpu;
  const baseRate = records / baseCpu;
  const bytesPerSeries = fullStats.stateBytes / fullStats.openWindows;
  return {
    nodeOptions: [process.env['NODE_OPTIONS'] ?? '', ...process.execArgv].join(' ').trim(),
    keys,
    records,
    windows: WINDOWS,
    aggregates: [...KINDS],
    core: {
      updatesPerSec: Math.round(coreRate),
      warmupRecords: warmup,
      coldUpdatesPerSec: Math.round(warmup / Math.max(coldCpu, 1e-9)),
      updatesPerWallSec: Math.round(timedRecords / all.seconds),
      cpuSeconds: round(coreCpu),
      rowUpdatesPerSec: Math.round(coreRate * sizes.length),
      seconds: round(all.seconds),
      resultsEmitted: all.resultsEmitted,
      drainCpuSeconds: round(all.drainCpuSeconds),
      drainShare: round(all.drainCpuSeconds / coreCpu),
      updatesPerSecExcludingInput: Math.round(timedRecords / Math.max(coreCpu - inputCpu, 1e-9)),
      rounds: timed,
    },
    input: { cpuSeconds: round(inputCpu), recordsPerSec: Math.round(timedRecords / inputCpu) },
    floor: {
      description:
        'per record: FNV-1a of the key, an open-addressing lookup verified against its bytes, one count/sum/min/max row; reads overlapped 64 records at a time; no windows',
      updatesPerSec: Math.round(records / floorCpu),
      cpuSeconds: round(floorCpu),
      // The floor is fed one round's records.
      updatesPerSecExcludingInput: Math.round(records / Math.max(floorCpu - inputCpu / rounds, 1e-9)),
    },
    ofFloor: round(coreRate / (records / floorCpu)),
    bytesPerSeries: round(bytesPerSeries),
    bytesPerKey: round(fullStats.stateBytes / fullStats.liveSeries),
    stateBytes: fullStats.stateBytes,
    liveSeriesWindows: fullStats.openWindows,
    baseline: {
      description: 'Map<windowStart, Map<seriesKey, {count,sum,min,max}>> per window size',
      updatesPerSec: Math.round(baseRate),
      updatesPerWallSec: Math.round(records / baseSeconds),
      cpuSeconds: round(baseCpu),
      seconds: round(baseSeconds),
      resultsEmitted: baseline.emitted,
      bytesPerSeries: round(baseBytesPerSeries),
    },
    speedup: round(coreRate / baseRate),
    memoryRatio: round(baseBytesPerSeries / bytesPerSeries),
    targets: { updatesPerSec: 3_000_000, bytesPerSeries: 64 },
    ...(stats.lateRecords > 0 ? { lateRecords: stats.lateRecords } : {}),
  };
}

/**
 * The rounds taken as one run of `records` × rounds records: CPU and wall seconds, drain CPU and
 * results summed, the rate from those sums (not an average of the rounds' rates). Sums each
 * round's unrounded CPU back from its rate (`records / updatesPerSec`), its printed cpuSeconds
 * being rounded.
 */
export function totalOfRounds(rounds: readonly CoreRound[], records: number): CoreRound {
  if (rounds.length === 0) throw new RangeError('no rounds');
  let cpuSeconds = 0;
  let seconds = 0;
  let drainCpuSeconds = 0;
  let resultsEmitted = 0;
  for (const r of rounds) {
    cpuSeconds += records / r.updatesPerSec;
    seconds += r.seconds;
    drainCpuSeconds += r.drainCpuSeconds;
    resultsEmitted += r.resultsEmitted;
  }
  return {
    updatesPerSec: Math.round((records * rounds.length) / cpuSeconds),
    cpuSeconds,
    seconds,
    drainCpuSeconds,
    resultsEmitted,
  };
}

function cpuSecondsSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** A bench's count option: an integer ≥ 0; `flag` names it in the error. */
function countOption(v: unknown, flag: string): number {
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isInteger(n) || n < 0)
    throw new RangeError(`${flag}: expected an integer ≥ 0, got ${String(v)}`);
  return n;
}

/** A bench's positive integer option (`fallback` when absent); `flag` names it in the error. */
export function intOption(v: unknown, fallback: number, flag?: string): number {
  const n = typeof v === 'string' ? Number(v) : fallback;
  if (!Number.isInteger(n) || n <= 0)
    throw new RangeError(`${flag ? `${flag}: ` : ''}expected a positive integer, got ${String(v)}`);
  return n;
}

export const coreBench: BenchDefinition = {
  name: 'core',
  // The core runs in a worker, with its young generation: the results a drain makes die young there.
  workerFlags: true,
  description:
    'Aggregation core alone at 1M keys (count/sum/min/max/mean over 1m and 10m): updates/s and bytes per series, vs a Map baseline',
  options: (cmd) =>
    cmd
      .option('--keys <n>', 'distinct series keys', '1000000')
      .option('--records <n>', 'records fed and timed in each round, after the warm-up', '12000000')
      .option('--rounds <n>', 'timed rounds of --records each, one after another; figures over all', '3')
      .option('--warmup-records <n>', 'records fed first, timed apart (default: two 1m windows)')
      .option('--per-series-window <n>', 'mean records per series per 1m window', '6'),
  run: (opts, log) =>
    measureCore(
      {
        keys: intOption(opts['keys'], 1_000_000),
        records: intOption(opts['records'], 12_000_000),
        rounds: intOption(opts['rounds'], 3, '--rounds'),
        perSeriesWindow: intOption(opts['perSeriesWindow'], 6),
        ...(opts['warmupRecords'] !== undefined
          ? { warmupRecords: countOption(opts['warmupRecords'], '--warmup-records') }
          : {}),
      },
      log,
    ),
};
