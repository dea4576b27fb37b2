/**
 * Compares the aggregation engine of two checkouts in ONE process, for developers changing the
 * engine: on a shared machine, separate runs of a memory-bound loop differ by 15–25 % from one
 * minute to the next; here the engines take turns on slices of the same input, so the neighbours'
 * noise hits both alike (two runs of one checkout against itself differ by ~1 %).
 *
 *   node --import tsx test/bench/engine-ab.ts --a /path/to/checkout-a --b /path/to/checkout-b \
 *     [--keys 1000000] [--warm 2000000] [--records 5000000] [--slice 65536] [--per-series-window 6]
 *     [--processes N]
 *
 * The engine loaded first in one process was measured ~10 % slower than the second at 1M keys in
 * steady state (--warm 12000000 --records 24000000), either way round: for such runs, `--processes N`
 * runs each engine alone in its own process instead, A then B, N times, and prints each pair's
 * ratio and their median.
 *
 * Prints JSON: engine time per record (processBatch + drains, input excluded) of each, and b / a.
 * Both engines live in this process at once: each has its own state (twice the memory of one).
 * A checkout needs its own node_modules (a link to this one's will do).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type * as EngineModule from '../../aggregator/engine/partition-engine.js';
import type * as PipelineModule from '../../aggregator/pipeline/pipeline-schema.js';
import type * as MemoryModule from '../../aggregator/store/memory-manager.js';
import { benchPipelineInput, drainDue } from './core-bench.js';
import { BATCH, InputStream } from './core-input.js';

/** Closed windows are drained every this many records, as `bench core` does. */
const DRAIN_EVERY = 100_000;

interface Contender {
  name: string;
  engine: EngineModule.PartitionEngine;
  /** `bench core`'s input (the same sequence for every contender). */
  input: InputStream;
  /** Records fed so far. */
  next: number;
  ms: number;
}

async function load(dir: string, keys: number, perSeriesWindow: number): Promise<Contender> {
  const root = resolve(dir);
  const { PartitionEngine } = (await import(
    `${root}/aggregator/engine/partition-engine.ts`
  )) as typeof EngineModule;
  const { pipelineSchema } = (await import(
    `${root}/aggregator/pipeline/pipeline-schema.ts`
  )) as typeof PipelineModule;
  const { MemoryManager } = (await import(
    `${root}/aggregator/store/memory-manager.ts`
  )) as typeof MemoryModule;
  // A checkout whose dictionaries can look keys up in WebAssembly does so, as its workers do.
  const kernel = `${root}/aggregator/store/key-lookup-kernel.ts`;
  if (existsSync(kernel)) {
    const { loadKeyLookupKernel } = (await import(kernel)) as { loadKeyLookupKernel(): Promise<unknown> };
    await loadKeyLookupKernel();
  }
  const pipeline = pipelineSchema.parse(benchPipelineInput('engine-ab', 4000));
  const memory = new MemoryManager({ budgetBytes: 64 * 1024 ** 3, highWater: 0.9, lowWater: 0.75 });
  return {
    name: root,
    engine: new PartitionEngine({ pipeline, topic: 'in', partition: 0, memory: memory.account('ab') }),
    input: new InputStream(keys, perSeriesWindow, 2_000, Date.UTC(2026, 0, 1)),
    next: 0,
    ms: 0,
  };
}

/** Feeds `c` its next `n` records; times the engine (batches and drains) when `timed`. */
function feed(c: Contender, n: number, timed: boolean): void {
  for (let done = 0; done < n; done += BATCH) {
    const records = c.input.fillBatch(c.next, BATCH);
    const start = performance.now();
    c.engine.processBatch(records, c.input.offsets, BATCH);
    if (drainDue(c.next, BATCH, DRAIN_EVERY)) c.engine.drainClosed();
    if (timed) c.ms += performance.now() - start;
    c.next += BATCH;
  }
}

const { values } = parseArgs({
  options: {
    a: { type: 'string', default: '.' },
    b: { type: 'string' },
    keys: { type: 'string', default: '1000000' },
    warm: { type: 'string', default: '2000000' },
    records: { type: 'string', default: '5000000' },
    slice: { type: 'string', default: '65536' },
    'per-series-window': { type: 'string', default: '6' },
    processes: { type: 'string', default: '0' },
    only: { type: 'string' },
  },
});
const num = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new RangeError(`--${name}: expected a positive integer, got ${v}`);
  return n;
};
if (!values.b && values.only === undefined) {
  process.stderr.write(
    'usage: engine-ab.ts --a DIR --b DIR [--keys N] [--warm N] [--records N] [--slice N] [--processes N]\n',
  );
  process.exit(2);
}
const keys = num('keys', values.keys);
const warm = num('warm', values.warm);
const records = num('records', values.records);
const slice = Math.ceil(num('slice', values.slice) / BATCH) * BATCH;
const perSeriesWindow = num('per-series-window', values['per-series-window']);
const processes = Number(values.processes ?? '0');
if (values.only !== undefined) {
  // A child of --processes: one engine alone, its time per record on stdout.
  const c = await load(values.only, keys, perSeriesWindow);
  feed(c, warm, false);
  feed(c, records - warm, true);
  process.stdout.write(`${JSON.stringify({ engineNsPerRecord: (c.ms * 1e6) / (records - warm) })}\n`);
  process.exit(0);
}
if (processes > 0) {
  // Each engine alone in its own process (no shared caches or heap), A and B alternating.
  const run = (dir: string): number => {
    const args = [...process.execArgv, process.argv[1]!, '--only', dir, '--keys', String(keys)];
    args.push(
      '--warm',
      String(warm),
      '--records',
      String(records),
      '--per-series-window',
      String(perSeriesWindow),
    );
    const out = execFileSync(process.execPath, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return (JSON.parse(out) as { engineNsPerRecord: number }).engineNsPerRecord;
  };
  const pairs: { a: number; b: number; bOverA: number }[] = [];
  for (let p = 0; p < processes; p++) {
    const a = run(values.a);
    const b = run(values.b!);
    pairs.push({ a: Math.round(a), b: Math.round(b), bOverA: Math.round((b / a) * 1000) / 1000 });
    process.stderr.write(
      `pair ${p + 1}/${processes}: a ${Math.round(a)} ns, b ${Math.round(b)} ns per record\n`,
    );
  }
  const ratios = pairs.map((x) => x.bOverA).sort((x, y) => x - y);
  process.stdout.write(
    `${JSON.stringify({ keys, timedRecords: records - warm, a: resolve(values.a), b: resolve(values.b!), pairs, medianBOverA: ratios[Math.floor(ratios.length / 2)] }, null, 2)}\n`,
  );
  process.exit(0);
}
const contenders = [
  await load(values.a, keys, perSeriesWindow),
  await load(values.b!, keys, perSeriesWindow),
];
for (let i = 0; i < warm; i += slice) for (const c of contenders) feed(c, slice, false);
let turn = 0;
for (let i = warm; i < records; i += slice, turn++) {
  // Alternate who goes first, so neither always runs on the other's evictions.
  for (let k = 0; k < contenders.length; k++) feed(contenders[(k + turn) % 2]!, slice, true);
}
const timed = contenders[0]!.next - Math.ceil(warm / slice) * slice;
const ns = contenders.map((c) => Math.round((c.ms * 1e6) / timed));
process.stdout.write(
  `${JSON.stringify({ keys, timedRecords: timed, a: { checkout: contenders[0]!.name, engineNsPerRecord: ns[0] }, b: { checkout: contenders[1]!.name, engineNsPerRecord: ns[1] }, bOverA: Math.round((ns[1]! / ns[0]!) * 1000) / 1000 }, null, 2)}\n`,
);
