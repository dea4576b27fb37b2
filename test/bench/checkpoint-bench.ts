import { randomBytes } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { BlobCheckpointStore } from '../../aggregator/checkpoint/blob-checkpoint-store.js';
import type { DecodedRecord } from '../../aggregator/decode/decoder.js';
import { PartitionEngine } from '../../aggregator/engine/partition-engine.js';
import { pipelineSchema } from '../../aggregator/pipeline/pipeline-schema.js';
import { createS3Client } from '../../infra/aws/aws-clients.js';
import type { BenchDefinition } from '../../infra/cli/commands/bench-command.js';
import { loadConfig } from '../../infra/config/load-config.js';
import { S3BlobStore } from '../../infra/s3/s3-blob-store.js';

const MB = 1024 * 1024;

/**
 * `liveagg bench checkpoint`: a partition engine holding `series` series (count/sum/min/max/mean
 * over 1m and 10m, as in the aggregate bench) is checkpointed to S3 and restored, and in the
 * same run a blob of the same size is uploaded and downloaded raw (the ceiling).
 */
export async function measureCheckpoint(
  opts: { series: number; config?: string },
  log: (line: string) => void,
) {
  const cfg = await loadConfig(opts.config);
  const aws = cfg.aws.endpoint ? cfg.aws : { ...cfg.aws, endpoint: `http://127.0.0.1:${cfg.stack.awsPort}` };
  const pipeline = pipelineSchema.parse({
    name: 'bench',
    source: { topics: ['in'] },
    keyFields: ['device'],
    eventTimeField: 'ts',
    windows: ['1m', '10m'],
    allowedLatenessMs: 4000,
    aggregates: [{ field: 'value', kinds: ['count', 'sum', 'min', 'max', 'mean'] }],
    sink: { type: 'cassandra', table: 'bench' },
  });
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
  for (let k = 0; k < opts.series; k++) {
    rec.seriesKey = `dev-${k}`;
    rec.keyValues = { device: rec.seriesKey };
    rec.numbers = { value: k % 1000 };
    rec.eventTimeMs = t0 + (k % 50_000);
    engine.process(rec, k);
  }
  const stats = engine.stats();

  const s3 = createS3Client(aws);
  const bucket = `liveagg-bench-${Date.now().toString(36)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const blobs = new S3BlobStore(s3, { bucket, multipartPartBytes: 8 * MB, multipartConcurrency: 4 });
  const store = new BlobCheckpointStore(blobs, {
    prefix: 'ck',
    writer: 'bench',
    keep: 2,
    orphanGraceMs: 60_000,
    compress: true,
    now: Date.now,
  });
  const ref = { pipeline: 'bench', topic: 'in', partition: 0 };

  // A drain's work on this partition: snapshot, compress + checksum, upload, manifest.
  let t = performance.now();
  const snapshot = engine.snapshot();
  const snapshotSeconds = (performance.now() - t) / 1000;
  const manifest = await store.write(ref, snapshot, String(opts.series));
  const checkpointSeconds = (performance.now() - t) / 1000;
  const stateMb = snapshot.byteLength / MB;
  log(
    `checkpoint: ${stateMb.toFixed(1)} MB of state (${(manifest.storedBytes / MB).toFixed(1)} MB stored) in ${checkpointSeconds.toFixed(2)} s`,
  );
  engine.release();

  t = performance.now();
  const { checkpoint } = await store.latestValid(ref);
  if (!checkpoint) throw new Error('the checkpoint just written is not valid');
  const restored = PartitionEngine.restore(engineOpts, checkpoint.snapshot);
  const restoreSeconds = (performance.now() - t) / 1000;
  const restoredSeries = restored.stats().liveSeries;
  restored.release();
  log(`restore: ${restoreSeconds.toFixed(2)} s, ${restoredSeries} series`);

  // The ceiling: the same number of bytes up and down through the same client, no encoding.
  const blob = randomBytes(snapshot.byteLength);
  t = performance.now();
  await blobs.put('raw/blob', blob);
  const uploadSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  await blobs.get('raw/blob');
  const downloadSeconds = (performance.now() - t) / 1000;
  await blobs.delete([
    'raw/blob',
    manifest.dataKey,
    manifest.dataKey.replace(/state\.bin(\.gz)?$/, 'manifest.json'),
  ]);

  const rate = (seconds: number) => Math.round((stateMb / seconds) * 10) / 10;
  const checkpointRate = rate(checkpointSeconds);
  const restoreRate = rate(restoreSeconds);
  const rawUpload = rate(uploadSeconds);
  const rawDownload = rate(downloadSeconds);
  return {
    series: opts.series,
    openWindows: stats.openWindows,
    stateBytes: snapshot.byteLength,
    storedBytes: manifest.storedBytes,
    snapshotSeconds,
    checkpoint: { mbPerSec: checkpointRate, seconds: checkpointSeconds },
    restore: { mbPerSec: restoreRate, seconds: restoreSeconds, series: restoredSeries },
    rawUpload: { mbPerSec: rawUpload, seconds: uploadSeconds },
    rawDownload: { mbPerSec: rawDownload, seconds: downloadSeconds },
    ratio: {
      checkpointOverRawUpload: Math.round((checkpointRate / rawUpload) * 100) / 100,
      restoreOverRawDownload: Math.round((restoreRate / rawDownload) * 100) / 100,
    },
    /** What a drain spends on this partition's state: snapshot + compress + upload + manifest. */
    drainSeconds: checkpointSeconds,
    /** Linear estimate for a worker holding 1 GiB of state (checkpoint throughput held). */
    drainSecondsPerGiB: Math.round((1024 / checkpointRate) * 10) / 10,
  };
}

export const checkpointBench: BenchDefinition = {
  name: 'checkpoint',
  description:
    'Checkpoint and restore of S series to S3 vs raw upload/download of the same bytes; drain seconds',
  options: (cmd) =>
    cmd
      .option('--series <n>', 'series held by the worker', '2000000')
      .option('-c, --config <file>', 'config file (defaults: the local stack)'),
  run: (opts, log) =>
    measureCheckpoint(
      {
        series: Number.parseInt(String(opts['series'] ?? '2000000'), 10),
        ...(typeof opts['config'] === 'string' ? { config: opts['config'] } : {}),
      },
      log,
    ),
};
