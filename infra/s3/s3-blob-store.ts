import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { type BlobInfo, type BlobStore, BlobStoreError } from '../../aggregator/checkpoint/blob-store.js';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Bodies at least this large go up as a multipart upload, in parts of this size. */
  multipartPartBytes: number;
  /** Parts uploaded in parallel. */
  multipartConcurrency: number;
}

/** S3 (or moto) as a blob store. A PutObject or completed multipart upload is atomic per key. */
export class S3BlobStore implements BlobStore {
  readonly location: string;
  constructor(
    private readonly s3: S3Client,
    private readonly opts: S3BlobStoreOptions,
  ) {
    this.location = `s3://${opts.bucket}`;
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    try {
      if (body.byteLength >= this.opts.multipartPartBytes) {
        await new Upload({
          client: this.s3,
          params: { Bucket: this.opts.bucket, Key: key, Body: body },
          partSize: this.opts.multipartPartBytes,
          queueSize: this.opts.multipartConcurrency,
          leavePartsOnError: false,
        }).done();
      } else {
        await this.s3.send(new PutObjectCommand({ Bucket: this.opts.bucket, Key: key, Body: body }));
      }
    } catch (err) {
      throw toBlobError('put', key, err);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: key }));
      if (!res.Body) return new Uint8Array();
      return await res.Body.transformToByteArray();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw toBlobError('get', key, err);
    }
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    const out: BlobInfo[] = [];
    let token: string | undefined;
    try {
      do {
        const res = await this.s3.send(
          new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of res.Contents ?? []) {
          if (o.Key)
            out.push({ key: o.Key, sizeBytes: o.Size ?? 0, modifiedMs: o.LastModified?.getTime() ?? 0 });
        }
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw toBlobError('list', prefix, err);
    }
    return out;
  }

  async delete(keys: string[]): Promise<void> {
    // DeleteObjects takes at most 1,000 keys per request.
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      try {
        await this.s3.send(
          new DeleteObjectsCommand({
            Bucket: this.opts.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
      } catch (err) {
        throw toBlobError('delete', batch[0] ?? '', err);
      }
    }
  }
}

interface AwsLikeError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

function isNotFound(err: unknown): boolean {
  const e = err as AwsLikeError;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

function toBlobError(op: string, key: string, err: unknown): BlobStoreError {
  const e = err as AwsLikeError;
  const status = e?.$metadata?.httpStatusCode;
  const name = e?.name ?? 'Error';
  const networkCodes = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'];
  const retryable =
    e?.$retryable !== undefined ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    ['SlowDown', 'ThrottlingException', 'RequestTimeout', 'TimeoutError'].includes(name) ||
    networkCodes.includes(e?.code ?? '') ||
    status === undefined;
  const message = err instanceof Error ? err.message : String(err);
  return new BlobStoreError(
    `S3_${op.toUpperCase()}_FAILED`,
    `S3 ${op} ${key}: ${name}: ${message}`,
    retryable,
    { cause: err },
  );
}
