import { randomBytes } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { median } from 'simple-statistics';
import { BlobCheckpointStore } from '../../aggregator/checkpoint/blob-checkpoint-store.js';
import type { LoadedCheckpoint } from '../../aggregator/checkpoint/checkpoint-types.js';
import type { CheckpointCompression } from '../../aggregator/checkpoint/chunked-codec.js';
import type { DecodedRecord } from '../../aggregator/decode/decoder.js';
import { PartitionEngine, type PartitionEngineOptions } from '../../aggregator/engine/partition-engine.js';
import { pipelineSchema } from '../../aggregator/pipeline/pipeline-schema.js';
import { createS3Client } from '../../infra/aws/aws-clients.js';
import type { BenchDefinition } from '../../infra/cli/commands/bench-command.js';
import { loadConfig } from '../../infra/config/load-config.js';
import { S3BlobStore } from '../../infra/s3/s3-blob-store.js';
import { benchPipelineInput, collectGarbage, intOption } from './core-bench.js';

const MB = 1024 * 1024;

/**
 * `liveagg bench checkpoint`: a partition engine holding `series` series (count/sum/min/max/mean
 * over 1m and 10m, as in the aggregate bench) is checkpointed to S3 and restored, and in the
 * same run a blob of the same size is uploaded and downloaded raw (the ceiling).
 */
export async function measureCheckpoint(
  opts: {
    series: number;
    repeat: number;
    compression: CheckpointCompression;
    downloadConcurrency: number;
    config?: string;
  },
  log: (line: string) => void,
) {
  const cfg = await loadConfig(opts.config);
  const aws = cfg.aws.endpoint ? cfg.aws : { ...cfg.aws, endpoint: `http://127.0.0.1:${cfg.stack.awsPort}` };
  const pipeline = pipelineSchema.parse(benchPipelineInput('bench', 4000, 'bench'));
  const engineOpts = { pipeline, topic: 'in', partition: 0 };
  const engine = new PartitionEngine(engineOpts);
  const t0 = Date.UTC(2026, 10, 26);
  const rec: DecodedRecord = {
    seriesKey: '',
    keyValues: {},
    eventTimeMs: t0,
    numbers: {},
    strings: {},
    raw: {},
  };
  log(`filling ${opts.series} series`);
  // Two passes, as a running partition holds its state: every series in a 1m window (then
  // closed, its rows merged into the 10m window) and in the next 1m window.
  for (const at of [t0, t0 + 64_001]) {
    for (let k = 0; k < opts.series; k++) {
      rec.seriesKey = `dev-${k}`;
      rec.keyValues = { device: rec.seriesKey };
      rec.numbers = { value: k % 1000 };
      rec.eventTimeMs = at + (k % 50_000);
      engine.process(rec, k);
    }
  }
  engine.drainClosed();
  const stats = engine.stats();

  const s3 = createS3Client(aws);
  const bucket = `liveagg-bench-${Date.now().toString(36)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const blobs = new S3BlobStore(s3, {
    bucket,
    multipartPartBytes: 8 * MB,
    multipartConcurrency: 4,
    rangeBytes: 8 * MB,
    rangeConcurrency: opts.downloadConcurrency,
  });
  const store = new BlobCheckpointStore(blobs, {
    prefix: 'ck',
    writer: 'bench',
    keep: 2,
    orphanGraceMs: 60_000,
    compression: opts.compression,
    now: Date.now,
  });
  const ref = { pipeline: 'bench', topic: 'in', partition: 0 };

  // Each round: a drain's work on this partition (snapshot, compress + checksum, upload, manifest), the raw upload of
  // the same number of bytes, a restore (find, download, verify, decompress, rebuild), the raw download. Baseline and
  // measurement alternate, so a noisy neighbour hits both; the figures are medians over the rounds.
  const rounds: Round[] = [];
  let blob: Uint8Array | undefined;
  let stateBytes = 0;
  let storedBytes = 0;
  let restoredSeries = 0;
  for (let round = 0; round < opts.repeat; round++) {
    let t = performance.now();
    const snapshot = engine.snapshot();
    const snapshotSeconds = (performance.now() - t) / 1000;
    const manifest = await store.write(ref, snapshot, String(opts.series + round));
    const checkpointSeconds = (performance.now() - t) / 1000;
    stateBytes = snapshot.byteLength;
    storedBytes = manifest.storedBytes;
    blob ??= randomBytes(stateBytes);

    t = performance.now();
    await blobs.put('raw/blob', blob);
    const uploadSeconds = (performance.now() - t) / 1000;

    t = performance.now();
    const { checkpoint } = await store.latestValid(ref);
    if (!checkpoint || checkpoint.manifest.id !== manifest.id)
      throw new Error('the checkpoint just written is not the latest valid one');
    const loadSeconds = (performance.now() - t) / 1000;
    const restored = PartitionEngine.restore(engineOpts, checkpoint.snapshot, { release: true });
    const restoreSeconds = (performance.now() - t) / 1000;
    restoredSeries = restored.stats().liveSeries;
    restored.release();

    t = performance.now();
    await blobs.get('raw/blob');
    const downloadSeconds = (performance.now() - t) / 1000;
    await store.applyRetention(ref);
    rounds.push({
      snapshotSeconds,
      checkpointSeconds,
      uploadSeconds,
      loadSeconds,
      restoreSeconds,
      downloadSeconds,
    });
    log(
      `round ${round + 1}/${opts.repeat}: ${(stateBytes / MB).toFixed(1)} MB of state (${(storedBytes / MB).toFixed(1)} MB stored): checkpoint ${checkpointSeconds.toFixed(2)} s vs raw upload ${uploadSeconds.toFixed(2)} s; restore ${restoreSeconds.toFixed(2)} s vs raw download ${downloadSeconds.toFixed(2)} s`,
    );
  }
  const memory = await measureRestoreMemory(() => store.latestValid(ref), engineOpts, log);
  engine.release();
  if (restoredSeries !== stats.liveSeries)
    throw new Error(`restored ${restoredSeries} series, the engine held ${stats.liveSeries}`);
  await blobs.delete((await blobs.list('')).map((b) => b.key));

  const stateMb = stateBytes / MB;
  const med = (f: (r: Round) => number) => median(rounds.map(f));
  const rate = (seconds: number) => Math.round((stateMb / seconds) * 10) / 10;
  const checkpointSeconds = med((r) => r.checkpointSeconds);
  const round2 = (x: number) => Math.round(x * 100) / 100;
  return {
    series: opts.series,
    openWindows: stats.openWindows,
    repeat: opts.repeat,
    downloadConcurrency: opts.downloadConcurrency,
    stateBytes,
    storedBytes,
    snapshotSeconds: med((r) => r.snapshotSeconds),
    checkpoint: { mbPerSec: rate(checkpointSeconds), seconds: checkpointSeconds },
    restore: {
      mbPerSec: rate(med((r) => r.restoreSeconds)),
      seconds: med((r) => r.restoreSeconds),
      series: restoredSeries,
      /** Of which: finding, downloading, verifying and decompressing the checkpoint. */
      loadSeconds: med((r) => r.loadSeconds),
    },
    rawUpload: { mbPerSec: rate(med((r) => r.uploadSeconds)), seconds: med((r) => r.uploadSeconds) },
    rawDownload: { mbPerSec: rate(med((r) => r.downloadSeconds)), seconds: med((r) => r.downloadSeconds) },
    /** Medians of the per-round ratios (each round's baseline measured beside it). */
    ratio: {
      checkpointOverRawUpload: round2(med((r) => r.uploadSeconds / r.checkpointSeconds)),
      restoreOverRawDownload: round2(med((r) => r.downloadSeconds / r.restoreSeconds)),
    },
    restoreMemory: memory,
    /** What a drain spends on this partition's state: snapshot + compress + upload + manifest. */
    drainSeconds: checkpointSeconds,
    /** Linear estimate for a worker holding 1 GiB of state (checkpoint throughput held). */
    drainSecondsPerGiB: Math.round((1024 / stateMb) * checkpointSeconds * 10) / 10,
    rounds,
  };
}

/**
 * Memory a restore leaves in use while the loaded checkpoint is still referenced (as the worker
 * holds it): the decompressed blocks plus what the restore adds to the JS heap and external
 * memory (array buffers and native buffers, after forced collections), keeping the blocks (the old path) against handing them over (each
 * dropped once read: the worker's path).
 */
async function measureRestoreMemory(
  load: () => Promise<{ checkpoint?: LoadedCheckpoint }>,
  engineOpts: PartitionEngineOptions,
  log: (line: string) => void,
) {
  const gc = collectGarbage();
  // Buffers made by native code (snappy's) are given back by finalizers that may run after the
  // collection, on a later turn of the event loop: let them run before reading.
  const inUse = async (): Promise<number> => {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
    gc();
    // `external` holds array buffers and native buffers (snappy's output) alike.
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  /** Blocks loaded, and what the restore added while they stay referenced. */
  const restoreOnce = async (release: boolean) => {
    const { checkpoint } = await load();
    if (!checkpoint) throw new Error('no valid checkpoint to restore');
    let blocks = 0;
    for (const p of checkpoint.snapshot) blocks += p.byteLength;
    const before = await inUse();
    const engine = PartitionEngine.restore(engineOpts, checkpoint.snapshot, { release });
    const added = (await inUse()) - before;
    const state = engine.stats().stateBytes;
    engine.release();
    return { blocks, held: blocks + added, state, parts: checkpoint.snapshot.length };
  };
  log('restore memory: keeping the blocks, then handing them over');
  const keeping = await restoreOnce(false);
  const handing = await restoreOnce(true);
  return {
    /** The engine's state as its memory account measures it. */
    stateBytes: keeping.state,
    /** The loaded checkpoint's decompressed blocks. */
    blocksBytes: keeping.blocks,
    blocks: keeping.parts,
    heldKeepingBlocksBytes: keeping.held,
    heldHandingOverBytes: handing.held,
    /** heldKeepingBlocksBytes / heldHandingOverBytes. */
    ratio: Math.round((keeping.held / Math.max(handing.held, 1)) * 100) / 100,
  };
}

interface Round {
  snapshotSeconds: number;
  checkpointSeconds: number;
  uploadSeconds: number;
  loadSeconds: number;
  restoreSeconds: number;
  downloadSeconds: number;
}

export const checkpointBench: BenchDefinition = {
  name: 'checkpoint',
  // Code that runs in a worker: measured under the worker's V8 flags.
  workerFlags: true,
  description:
    'Checkpoint and restore of S series to S3 vs raw upload/download of the same bytes; drain seconds',
  options: (cmd) =>
    cmd
      .option('--series <n>', 'series held by the worker', '2000000')
      .option('--repeat <n>', 'rounds (checkpoint, raw upload, restore, raw download); medians reported', '3')
      .option('--compression <codec>', 'snappy, gzip or none', 'snappy')
      .option(
        '--download-concurrency <n>',
        "restores read 8 MiB ranges n at a time (worker.checkpoint.downloadConcurrency); 1: one GET (moto's ranged GETs each read the whole object)",
        '1',
      )
      .option('-c, --config <file>', 'config file (defaults: the local stack)'),
  run: (opts, log) =>
    measureCheckpoint(
      {
        series: Number.parseInt(String(opts['series'] ?? '2000000'), 10),
        repeat: Math.max(1, Number.parseInt(String(opts['repeat'] ?? '3'), 10)),
        compression: codecOption(opts['compression']),
        downloadConcurrency: intOption(opts['downloadConcurrency'], 1, '--download-concurrency'),
        ...(typeof opts['config'] === 'string' ? { config: opts['config'] } : {}),
      },
      log,
    ),
};

function codecOption(v: unknown): CheckpointCompression {
  if (v === undefined || v === 'snappy' || v === 'gzip' || v === 'none') return v ?? 'snappy';
  throw new Error(`--compression ${String(v)}: expected snappy, gzip or none`);
}
