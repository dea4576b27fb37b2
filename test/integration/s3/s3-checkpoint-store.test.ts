import { randomBytes, randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { BlobCheckpointStore } from '../../../aggregator/checkpoint/blob-checkpoint-store.js';
import { joinBytes } from '../../../aggregator/codec/byte-io.js';
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
    expect(Buffer.from(joinBytes(checkpoint!.snapshot)).equals(Buffer.from(snapshot))).toBe(true);
  });

  it('streams an object in order from any byte, by parallel ranges or one GET', async () => {
    const bucket = await newBucket();
    const body = randomBytes(5 * 1024 * 1024 + 123);
    const MiB = 1024 * 1024;
    const read = async (pieces: AsyncIterable<Uint8Array> | undefined) => {
      const got: Uint8Array[] = [];
      for await (const p of pieces!) got.push(p);
      return got;
    };
    for (const ranges of [
      { rangeConcurrency: 1 },
      { rangeConcurrency: 3, rangeBytes: MiB },
      { rangeConcurrency: 2, rangeBytes: 777_777 },
    ]) {
      const blobs = new S3BlobStore(s3, {
        bucket,
        multipartPartBytes: 5 * MiB,
        multipartConcurrency: 2,
        ...ranges,
      });
      await blobs.put('obj', body);
      await blobs.put('empty', new Uint8Array(0));
      for (const start of [0, 1, 2_000_000, body.length - 1, body.length]) {
        const got = await read(await blobs.stream('obj', start));
        expect(
          Buffer.concat(got).equals(body.subarray(start)),
          `${JSON.stringify(ranges)} from ${start}`,
        ).toBe(true);
        // Ranged: one piece per range, in order.
        if (ranges.rangeBytes && start === 0)
          expect(got.length).toBe(Math.ceil(body.length / ranges.rangeBytes));
      }
      expect(await read(await blobs.stream('empty'))).toEqual([]);
      expect(await blobs.stream('missing')).toBeUndefined();
      // A reader that stops early leaves nothing behind: the next stream reads the whole object.
      for await (const _ of (await blobs.stream('obj'))!) break;
      expect(Buffer.concat(await read(await blobs.stream('obj'))).equals(body)).toBe(true);
    }
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
