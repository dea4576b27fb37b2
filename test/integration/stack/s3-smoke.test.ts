import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../../infra/aws/aws-clients.js';
import { awsConnection, createBucket } from '../helpers/stack-endpoints.js';

const s3 = createS3Client(awsConnection);
afterAll(() => s3.destroy());

describe('S3 on moto (AWS SDK v3)', () => {
  it('puts, gets and lists objects under a prefix', async () => {
    const bucket = await createBucket(s3);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/one.txt', Body: 'one' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/two.txt', Body: 'two' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'b/three.txt', Body: 'three' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/two.txt' }));
    expect(await got.Body?.transformToString()).toBe('two');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'a/' }));
    expect((listed.Contents ?? []).map((o) => o.Key)).toEqual(['a/one.txt', 'a/two.txt']);
  });

  it('uploads a 12 MiB object in 5 MiB parts with lib-storage and reads it back byte for byte', async () => {
    const bucket = await createBucket(s3);
    const body = Buffer.alloc(12 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4096) body.writeUInt32BE(i, i);
    const parts: number[] = [];
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: 'big.bin', Body: body },
      partSize: 5 * 1024 * 1024,
      queueSize: 2,
    });
    upload.on('httpUploadProgress', (p) => {
      if (p.part !== undefined) parts.push(p.part);
    });
    await upload.done();
    expect(new Set(parts).size).toBe(3);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect(bytes.length).toBe(body.length);
    expect(bytes.equals(body)).toBe(true);
    expect(got.ETag).toMatch(/-3"$/);
  });
});
