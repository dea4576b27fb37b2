import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { BlobCheckpointStore } from '../../../aggregator/checkpoint/blob-checkpoint-store.js';
import { createS3Client } from '../../../infra/aws/aws-clients.js';
import { stackConfigSchema } from '../../../infra/local/stack-config.js';
import { S3BlobStore } from '../../../infra/s3/s3-blob-store.js';
import { describeCheckpointStoreContract } from '../../contracts/checkpoint-store-contract.js';

const endpoint =
  process.env['LA_TEST_AWS_ENDPOINT'] ?? `http://127.0.0.1:${stackConfigSchema.parse({}).awsPort}`;
const s3 = createS3Client({ region: 'us-east-1', endpoint });
const buckets: string[] = [];

async function newBucket(): Promise<string> {
  const bucket = `la-test-${randomUUID().slice(0, 13)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  buckets.push(bucket);
  return bucket;
}

afterAll(async () => {
  for (const bucket of buckets) {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length > 0)
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  }
});

describeCheckpointStoreContract('S3 (moto)', async () => {
  const bucket = await newBucket();
  const blobs = new S3BlobStore(s3, { bucket, multipartPartBytes: 5 * 1024 * 1024, multipartConcurrency: 2 });
  return {
    blobs,
    corrupt: async (key) => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'garbage' }));
    },
  };
});

describe('S3 checkpoints', () => {
  it('uploads a large snapshot as a multipart upload and restores it byte for byte', async () => {
    const bucket = await newBucket();
    const blobs = new S3BlobStore(s3, {
      bucket,
      multipartPartBytes: 5 * 1024 * 1024,
      multipartConcurrency: 2,
    });
    const store = new BlobCheckpointStore(blobs, {
      prefix: 'ck',
      writer: 't',
      keep: 2,
      orphanGraceMs: 1000,
      compression: 'none',
      now: Date.now,
    });
    const snapshot = new Uint8Array(12 * 1024 * 1024);
    for (let i = 0; i < snapshot.length; i += 4096) snapshot[i] = i % 251;
    const ref = { pipeline: 'p', topic: 't', partition: 0 };
    await store.write(ref, snapshot, '99');
    const { checkpoint } = await store.latestValid(ref);
    expect(checkpoint?.manifest.nextOffset).toBe('99');
    expect(Buffer.from(checkpoint!.snapshot).equals(Buffer.from(snapshot))).toBe(true);
  });

  it('reports a stopped endpoint as a retryable error', async () => {
    const dead = createS3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1' });
    const blobs = new S3BlobStore(dead, {
      bucket: 'nope',
      multipartPartBytes: 5 * 1024 * 1024,
      multipartConcurrency: 1,
    });
    await expect(blobs.put('k', Uint8Array.of(1))).rejects.toMatchObject({ retryable: true });
  });
});
