import type { Decoder } from '../../aggregator/decode/decoder.js';
import { createJsonDecoder, type DecoderSpec } from '../../aggregator/decode/json-decoder.js';
import type { BenchDefinition } from '../../infra/cli/commands/bench-command.js';

export interface DecodeBenchOptions {
  /** Distinct records in the input set (cycled). */
  records?: number;
  /** Decodes per timed round. */
  iterations?: number;
  /** Timed rounds per contender; the best round counts (the machine is shared and noisy). */
  rounds?: number;
}

export interface DecodeBenchResult {
  records: number;
  iterations: number;
  avgRecordBytes: number;
  /** Plain `JSON.parse(buf.toString())`: the floor any JSON decoder pays. */
  baseline: { jsonParsePerSec: number };
  /** A pipeline with state machines: JSON.parse, `raw` kept for predicates. */
  decoder: { decodesPerSec: number; mbPerSec: number };
  /** decoder / baseline: 1 means validation and key building cost nothing on top of parsing. */
  ratioToJsonParse: number;
  /** A pipeline without state machines: the field scanner (no object, no string of the record). */
  scanDecoder: { decodesPerSec: number; mbPerSec: number };
  /** scanDecoder / baseline. */
  scanRatioToJsonParse: number;
  /**
   * The scanner with a single key field (`device`): a plain ASCII key is left as bytes in the
   * record's value (`KeyedRecord`), no string made; read as the engine reads it (its length).
   */
  singleKeyScanDecoder: { decodesPerSec: number; mbPerSec: number };
  /** singleKeyScanDecoder / baseline. */
  singleKeyScanRatioToJsonParse: number;
}

export const decodeBenchSpec: DecoderSpec = {
  keyFields: ['tenant', 'device'],
  eventTimeField: 'ts',
  numericFields: ['temp', 'load'],
  distinctFields: ['user'],
  maxRecordBytes: 1_000_000,
  predicateFields: ['status'],
};

/** ~130-byte JSON records with 100 tenants × 10k devices, epoch-ms and (1 in 10) ISO times. */
export function makeDecodeInput(n: number): Buffer[] {
  const out: Buffer[] = [];
  const base = Date.UTC(2026, 0, 1);
  for (let i = 0; i < n; i++) {
    const ts = base + i * 37;
    out.push(
      Buffer.from(
        JSON.stringify({
          tenant: `t${i % 100}`,
          device: `dev-${(i * 7919) % 10_000}`,
          ts: i % 10 === 0 ? new Date(ts).toISOString() : ts,
          temp: Math.round((15 + (i % 300) / 10) * 100) / 100,
          load: (i % 1000) / 1000,
          user: `user-${i % 5000}`,
          status: i % 13 === 0 ? 'down' : 'up',
          region: 'eu-west-1',
        }),
      ),
    );
  }
  return out;
}

function timeRound(
  input: Buffer[],
  iterations: number,
  step: (b: Buffer) => number,
): { perSec: number; sink: number } {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += step(input[i % input.length] as Buffer);
  const ns = Number(process.hrtime.bigint() - start);
  return { perSec: (iterations / ns) * 1e9, sink };
}

/** Measures JSON decodes/s against plain JSON.parse on the same input in the same run. */
export function measureDecode(options: DecodeBenchOptions = {}): DecodeBenchResult {
  const records = options.records ?? 10_000;
  const iterations = options.iterations ?? 500_000;
  const rounds = options.rounds ?? 3;
  const input = makeDecodeInput(records);
  const decoder: Decoder = createJsonDecoder(decodeBenchSpec);
  const parse = (b: Buffer): number => ((JSON.parse(b.toString('utf8')) as { ts: unknown }) === null ? 0 : 1);
  const decode = (b: Buffer): number => {
    const r = decoder.decode(b, b.length);
    return r.ok ? r.record.seriesKey.length : -1;
  };
  const scanDecoder: Decoder = createJsonDecoder({ ...decodeBenchSpec, predicateFields: [] });
  const scan = (b: Buffer): number => {
    const r = scanDecoder.decode(b, b.length);
    return r.ok ? r.record.seriesKey.length : -1;
  };
  const singleDecoder: Decoder = createJsonDecoder({
    ...decodeBenchSpec,
    keyFields: ['device'],
    predicateFields: [],
  });
  const single = (b: Buffer): number => {
    const r = singleDecoder.decode(b, b.length);
    if (!r.ok) return -1;
    const k = r.record;
    return k.keyBytes ? k.keyEnd! - k.keyStart! : k.seriesKey.length;
  };
  // Warm every path up before timing; alternate rounds so drift in machine load hits all.
  timeRound(input, Math.min(iterations, 50_000), parse);
  timeRound(input, Math.min(iterations, 50_000), decode);
  timeRound(input, Math.min(iterations, 50_000), scan);
  timeRound(input, Math.min(iterations, 50_000), single);
  let bestParse = 0;
  let bestDecode = 0;
  let bestScan = 0;
  let bestSingle = 0;
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    const p = timeRound(input, iterations, parse);
    const d = timeRound(input, iterations, decode);
    const sc = timeRound(input, iterations, scan);
    const si = timeRound(input, iterations, single);
    bestSingle = Math.max(bestSingle, si.perSec);
    bestParse = Math.max(bestParse, p.perSec);
    bestDecode = Math.max(bestDecode, d.perSec);
    bestScan = Math.max(bestScan, sc.perSec);
    sink += p.sink + d.sink + sc.sink + si.sink;
  }
  if (sink < 0) throw new Error('decode bench input produced a failed decode');
  const avgRecordBytes = input.reduce((n, b) => n + b.length, 0) / input.length;
  return {
    records,
    iterations,
    avgRecordBytes: Math.round(avgRecordBytes),
    baseline: { jsonParsePerSec: Math.round(bestParse) },
    decoder: {
      decodesPerSec: Math.round(bestDecode),
      mbPerSec: Math.round((bestDecode * avgRecordBytes) / 1e6),
    },
    ratioToJsonParse: Math.round((bestDecode / bestParse) * 1000) / 1000,
    scanDecoder: {
      decodesPerSec: Math.round(bestScan),
      mbPerSec: Math.round((bestScan * avgRecordBytes) / 1e6),
    },
    scanRatioToJsonParse: Math.round((bestScan / bestParse) * 1000) / 1000,
    singleKeyScanDecoder: {
      decodesPerSec: Math.round(bestSingle),
      mbPerSec: Math.round((bestSingle * avgRecordBytes) / 1e6),
    },
    singleKeyScanRatioToJsonParse: Math.round((bestSingle / bestParse) * 1000) / 1000,
  };
}

/** `liveagg bench decode --json`. */
export const decodeBench: BenchDefinition = {
  name: 'decode',
  // Code that runs in a worker: measured under the worker's V8 flags.
  workerFlags: true,
  description:
    'JSON decoder throughput (decodes/s), with and without state machines, against plain JSON.parse in the same run.',
  options: (cmd) =>
    cmd
      .option('--records <n>', 'distinct input records', '10000')
      .option('--iterations <n>', 'decodes per timed round', '500000')
      .option('--rounds <n>', 'timed rounds (best counts)', '3'),
  run: async (opts, log) => {
    const num = (v: unknown, name: string): number => {
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0)
        throw new Error(`--${name}: ${String(v)} is not a positive integer`);
      return n;
    };
    log('decode bench: JSON.parse baseline vs json decoder');
    return measureDecode({
      records: num(opts['records'], 'records'),
      iterations: num(opts['iterations'], 'iterations'),
      rounds: num(opts['rounds'], 'rounds'),
    });
  },
};
