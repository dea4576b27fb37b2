import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { S3Client } from '@aws-sdk/client-s3';
import { BlobCheckpointStore } from '../../aggregator/checkpoint/blob-checkpoint-store.js';
import type { CheckpointStore } from '../../aggregator/checkpoint/checkpoint-store.js';
import { RetryingBlobStore } from '../../aggregator/checkpoint/retrying-blob-store.js';
import type { WorkerConfig } from '../../aggregator/worker/worker-schema.js';
import { awsClientConfig } from '../aws/aws-clients.js';
import type { AwsConnection } from '../config/connections-schema.js';
import { LocalBlobStore } from '../fs/local-blob-store.js';
import type { Logger } from '../log/logger.js';
import { S3BlobStore } from '../s3/s3-blob-store.js';

/** The checkpoint store the config asks for: S3 (multipart, retried) or a local directory. */
export function createCheckpointStore(
  cfg: WorkerConfig['checkpoint'],
  aws: AwsConnection,
  log: Logger,
  writer = `${hostname()}:${process.pid}`,
): CheckpointStore {
  const raw =
    cfg.store === 's3'
      ? new S3BlobStore(
          // The retrying decorator below owns retries (one layer, so an outage costs 5 attempts, not 15);
          // idle and connect timeouts turn a silent network into errors it can retry.
          new S3Client({
            ...awsClientConfig(aws),
            maxAttempts: 1,
            forcePathStyle: aws.endpoint !== undefined,
            requestHandler: {
              connectionTimeout: cfg.storageIdleTimeoutMs,
              socketTimeout: cfg.storageIdleTimeoutMs,
            },
          }),
          {
            bucket: cfg.bucket!,
            multipartPartBytes: 8 * 1024 * 1024,
            multipartConcurrency: 4,
            rangeBytes: 8 * 1024 * 1024,
            rangeConcurrency: cfg.downloadConcurrency,
          },
        )
      : new LocalBlobStore(cfg.dir!);
  const blobs = new RetryingBlobStore(raw, {
    attempts: 5,
    baseDelayMs: 200,
    maxDelayMs: 5000,
    sleep: (ms) => sleep(ms),
    onRetry: (op, attempt, err) =>
      log.warn({ op, attempt, err: (err as Error).message }, 'checkpoint storage failed; retrying'),
  });
  return new BlobCheckpointStore(blobs, {
    prefix: cfg.prefix,
    writer,
    keep: cfg.keep,
    orphanGraceMs: cfg.orphanGraceMs,
    compression: cfg.compression,
    now: () => Date.now(),
  });
}
