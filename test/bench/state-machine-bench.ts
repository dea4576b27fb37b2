import type { DecodedRecord } from '../../aggregator/decode/decoder.js';
import {
  type StateMachineDefinition,
  stateMachineSchema,
} from '../../aggregator/state-machine/state-machine-schema.js';
import { StateMachineTable, type Transition } from '../../aggregator/state-machine/state-machine-table.js';
import type { BenchDefinition } from '../../infra/cli/commands/bench-command.js';
import { collectGarbage, heapBytes } from './core-bench.js';

export interface StateMachineBenchResult {
  keys: number;
  records: number;
  /** A plain `Map<string, number>` get+set per record: the floor of any per-key table. */
  baseline: { mapUpdatesPerSec: number };
  table: { recordsPerSec: number; transitions: number; timeoutTransitions: number };
  ratioToMap: number;
  /** `table.bytes()` / live keys after the run. */
  bytesPerKey: number;
  /**
   * What a table of `keys` fresh keys (strings held by it alone, as the decoder's are) adds to the
   * heap and array buffers per key, measured after forced collections: what `bytesPerKey`, the
   * memory manager's figure, estimates.
   */
  heapBytesPerKey: number;
  /** bytesPerKey / heapBytesPerKey (1: the memory budget sees what the table really holds). */
  estimateOverHeap: number;
  snapshot: { bytes: number; ms: number; restoreMs: number };
  /** Keys that come and go (see {@link measureEviction}): memory with idle keys evicted vs kept forever. */
  eviction: EvictionResult;
}

export interface EvictionResult {
  generations: number;
  keysSeen: number;
  /** Live keys and table bytes at the end, evicting keys that rest in the initial state. */
  liveKeys: number;
  bytes: number;
  /** The most live keys and table bytes seen along the run (sampled every 1,000 records). */
  peakLiveKeys: number;
  peakBytes: number;
  /** The same input into a table that never evicts. */
  liveKeysWithoutEviction: number;
  bytesWithoutEviction: number;
  /** Records per second of the evicting table (eviction work included). */
  recordsPerSec: number;
  /** Identical transitions from both tables (eviction must not change the output). */
  sameTransitions: boolean;
}

/**
 * Sessions over keys that come and go, as device ids or user sessions do: `generations` successive populations of
 * `keys / generations` keys, each key reporting every `reportEveryMs` for ten reports, then never again. A key
 * goes idle → active on a record and back to idle after 60 s of silence; idle is the initial state (no timeout),
 * so a table that evicts (horizon 70 s, as the engine's smallest window + lateness would give) drops it, and one
 * that does not keeps every key ever seen.
 */
export function measureEviction(keys: number, reportEveryMs: number, generations = 10): EvictionResult {
  const def = stateMachineSchema.parse({
    name: 'session',
    states: ['idle', 'active'],
    initial: 'idle',
    transitions: [{ from: 'idle', to: 'active' }],
    timeouts: [{ state: 'active', afterMs: 60_000, to: 'idle' }],
  });
  const perGeneration = Math.max(1, Math.floor(keys / generations));
  const recordsPerGeneration = perGeneration * 10;
  const stepMs = reportEveryMs / perGeneration;
  const evicting = new StateMachineTable(def, { evictIdleAfterMs: 70_000 });
  const keeping = new StateMachineTable(def);
  const record = blankRecord();
  let peakLiveKeys = 0;
  let peakBytes = 0;
  const run = (table: StateMachineTable): { ns: number; digest: string[] } => {
    const digest: string[] = [];
    const note = (out: Transition[]) => {
      for (const t of out) digest.push(`${t.seriesKey} ${t.from}>${t.to} ${t.atMs} ${t.cause}`);
    };
    const start = process.hrtime.bigint();
    const total = recordsPerGeneration * generations;
    for (let i = 0; i < total; i++) {
      const g = Math.floor(i / recordsPerGeneration);
      const id = g * perGeneration + ((i * 7919) % perGeneration);
      const key = `dev-${id}`;
      record.seriesKey = key;
      record.keyValues = { device: key };
      record.eventTimeMs = Math.floor(i * stepMs);
      note(table.onRecord(record, ''));
      if (i % 1000 === 999) {
        note(table.onWatermark(record.eventTimeMs - 10_000));
        if (table === evicting) {
          peakLiveKeys = Math.max(peakLiveKeys, table.liveKeys());
          peakBytes = Math.max(peakBytes, table.bytes());
        }
      }
    }
    // Event time goes on past the last generation's timeouts and the eviction horizon.
    note(table.onWatermark(Math.floor(total * stepMs) + 200_000));
    return { ns: Number(process.hrtime.bigint() - start), digest };
  };
  const a = run(evicting);
  const b = run(keeping);
  const total = recordsPerGeneration * generations;
  return {
    generations,
    keysSeen: perGeneration * generations,
    liveKeys: evicting.liveKeys(),
    bytes: evicting.bytes(),
    peakLiveKeys,
    peakBytes,
    liveKeysWithoutEviction: keeping.liveKeys(),
    bytesWithoutEviction: keeping.bytes(),
    recordsPerSec: Math.round((total / a.ns) * 1e9),
    sameTransitions: a.digest.length === b.digest.length && a.digest.every((d, i) => d === b.digest[i]),
  };
}

/**
 * Device presence (online → offline after 5 min of silence) over `keys` devices that each report
 * every `reportEveryMs` of event time (20 s: ~15 records per timeout window), watermark every
 * 1000 records, 10 s behind. Best of `rounds` alternating rounds (the machine is shared and noisy).
 */
export function measureStateMachine(
  keys = 100_000,
  records = 1_000_000,
  reportEveryMs = 20_000,
  rounds = 3,
): StateMachineBenchResult {
  const def = stateMachineSchema.parse({
    name: 'presence',
    states: ['online', 'offline'],
    initial: 'online',
    transitions: [{ from: 'offline', to: 'online' }],
    timeouts: [{ state: 'online', afterMs: 300_000, to: 'offline' }],
  });
  // Measured first (before the rounds leave garbage behind), median of three tables.
  const gc = collectGarbage();
  const heapBytesPerKey = [0, 1, 2].map(() => measureHeapPerKey(def, keys, gc)).sort((a, b) => a - b)[1]!;
  const input: DecodedRecord[] = [];
  for (let i = 0; i < keys; i++) {
    const device = `dev-${i}`;
    input.push({
      seriesKey: device,
      keyValues: { device },
      eventTimeMs: 0,
      numbers: {},
      strings: {},
      raw: { device },
    });
  }
  // Keys visited in a scattered order (7919 is prime); event time advances so each key recurs every reportEveryMs.
  const stepMs = reportEveryMs / keys;
  const at = (i: number): DecodedRecord => input[(i * 7919) % keys] as DecodedRecord;

  let bestMap = 0;
  let bestTable = 0;
  let table = new StateMachineTable(def);
  let transitions = 0;
  let timeouts = 0;
  for (let round = 0; round < rounds; round++) {
    const map = new Map<string, number>();
    let start = process.hrtime.bigint();
    for (let i = 0; i < records; i++) {
      const r = at(i);
      map.set(r.seriesKey, (map.get(r.seriesKey) ?? 0) + 1);
    }
    bestMap = Math.max(bestMap, (records / Number(process.hrtime.bigint() - start)) * 1e9);

    table = new StateMachineTable(def);
    transitions = 0;
    timeouts = 0;
    start = process.hrtime.bigint();
    for (let i = 0; i < records; i++) {
      const r = at(i);
      r.eventTimeMs = Math.floor(i * stepMs);
      const out = table.onRecord(r, '');
      for (let j = 0; j < out.length; j++) {
        transitions++;
        if ((out[j] as Transition).cause === 'timeout') timeouts++;
      }
      if (i % 1000 === 999) transitions += table.onWatermark(r.eventTimeMs - 10_000).length;
    }
    bestTable = Math.max(bestTable, (records / Number(process.hrtime.bigint() - start)) * 1e9);
  }

  let start = process.hrtime.bigint();
  const bytes = table.snapshot();
  const snapNs = Number(process.hrtime.bigint() - start);
  start = process.hrtime.bigint();
  StateMachineTable.restore(def, bytes);
  const restoreNs = Number(process.hrtime.bigint() - start);

  const bytesPerKey = Math.round(table.bytes() / table.liveKeys());
  return {
    keys: table.liveKeys(),
    records,
    baseline: { mapUpdatesPerSec: Math.round(bestMap) },
    table: { recordsPerSec: Math.round(bestTable), transitions, timeoutTransitions: timeouts },
    ratioToMap: Math.round((bestTable / bestMap) * 1000) / 1000,
    bytesPerKey,
    heapBytesPerKey,
    estimateOverHeap: Math.round((bytesPerKey / heapBytesPerKey) * 1000) / 1000,
    snapshot: { bytes: bytes.length, ms: Math.round(snapNs / 1e6), restoreMs: Math.round(restoreNs / 1e6) },
    eviction: measureEviction(keys, reportEveryMs),
  };
}

/** A record to refill per input (no fields beyond the key and time). */
function blankRecord(): DecodedRecord {
  return { seriesKey: '', keyValues: {}, eventTimeMs: 0, numbers: {}, strings: {}, raw: {} };
}

/** Heap and array-buffer bytes per key of a table holding `keys` keys made fresh for it. */
function measureHeapPerKey(def: StateMachineDefinition, keys: number, gc: () => void): number {
  gc();
  const before = heapBytes();
  const table = new StateMachineTable(def);
  const record = blankRecord();
  for (let i = 0; i < keys; i++) {
    // A new string per key, as the decoder slices one out of each fetched record.
    record.seriesKey = `dev-${i}`;
    record.keyValues = { device: record.seriesKey };
    record.eventTimeMs = i;
    table.onRecord(record, '');
  }
  gc();
  const grown = heapBytes() - before;
  if (table.liveKeys() !== keys) throw new Error(`expected ${keys} live keys, got ${table.liveKeys()}`);
  return Math.round(grown / keys);
}

/** `liveagg bench state-machine --json`. */
export const stateMachineBench: BenchDefinition = {
  name: 'state-machine',
  // Code that runs in a worker: measured under the worker's V8 flags.
  workerFlags: true,
  description: 'Per-key state machine records/s against a plain Map update, bytes per key, snapshot cost.',
  options: (cmd) =>
    cmd
      .option('--keys <n>', 'distinct keys', '100000')
      .option('--records <n>', 'records applied per round', '1000000')
      .option('--report-every-ms <n>', 'event-time interval between two records of a key', '20000')
      .option('--rounds <n>', 'timed rounds (best counts)', '3'),
  run: async (opts, log) => {
    const num = (v: unknown, name: string): number => {
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0)
        throw new Error(`--${name}: ${String(v)} is not a positive integer`);
      return n;
    };
    log('state-machine bench: Map baseline vs StateMachineTable');
    return measureStateMachine(
      num(opts['keys'], 'keys'),
      num(opts['records'], 'records'),
      num(opts['reportEveryMs'], 'report-every-ms'),
      num(opts['rounds'], 'rounds'),
    );
  },
};
