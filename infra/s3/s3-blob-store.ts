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
  /** {@link S3BlobStore.stream} reads an object in ranges of this size (default 8 MiB)... */
  rangeBytes?: number;
  /**
   * ...this many at a time (default 4): one connection to S3 carries ~100 MB/s, several carry
   * more. 1: one GET, no ranges.
   */
  rangeConcurrency?: number;
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

  /**
   * With `rangeConcurrency` above 1 (the default is 4): ranged GETs of `rangeBytes`, that many in
   * flight, handed out in order (S3's advice for large objects: one connection carries far less
   * than the instance's network); every range after the first names the first one's ETag
   * (If-Match), so all pieces are of one version. With 1: one GET, its body handed out as it
   * arrives (for stores where a ranged GET costs as much as the whole object, such as moto).
   */
  async stream(key: string, start = 0): Promise<AsyncIterable<Uint8Array> | undefined> {
    const concurrency = Math.max(1, this.opts.rangeConcurrency ?? DEFAULT_RANGE_CONCURRENCY);
    const rangeBytes = this.opts.rangeBytes ?? DEFAULT_RANGE_BYTES;
    const abort = new AbortController();
    try {
      if (concurrency === 1) {
        const res = await this.s3.send(
          new GetObjectCommand({
            Bucket: this.opts.bucket,
            Key: key,
            ...(start > 0 ? { Range: `bytes=${start}-` } : {}),
          }),
          { abortSignal: abort.signal },
        );
        return this.body(key, res.Body as AsyncIterable<Uint8Array> | undefined, abort);
      }
      const first = await this.range(key, start, rangeBytes, undefined, abort.signal);
      return this.ranges(key, start, rangeBytes, concurrency, first, abort);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      // Asked from the end of the object (or an empty object): nothing left to read.
      if (isUnsatisfiableRange(err)) return (async function* () {})();
      throw toBlobError('get', key, err);
    }
  }

  /** A GET's body as it arrives; a failure part-way becomes a (retryable) BlobStoreError. */
  private async *body(
    key: string,
    body: AsyncIterable<Uint8Array> | undefined,
    abort: AbortController,
  ): AsyncGenerator<Uint8Array> {
    if (!body) return;
    try {
      for await (const piece of body) yield piece;
    } catch (err) {
      throw toBlobError('get', key, err);
    } finally {
      abort.abort();
    }
  }

  private async *ranges(
    key: string,
    start: number,
    rangeBytes: number,
    concurrency: number,
    first: { body: Uint8Array; total: number; etag: string | undefined },
    abort: AbortController,
  ): AsyncGenerator<Uint8Array> {
    const inFlight: Promise<Uint8Array>[] = [];
    let next = start + first.body.byteLength;
    const fill = () => {
      while (inFlight.length < concurrency && next < first.total) {
        const from = next;
        next = Math.min(first.total, from + rangeBytes);
        const p = this.range(key, from, next - from, first.etag, abort.signal).then(
          (r) => r.body,
          (err: unknown) => {
            throw toBlobError('get', key, err);
          },
        );
        // Awaited in order below; a failure ahead of its turn must not count as unhandled.
        p.catch(() => {});
        inFlight.push(p);
      }
    };
    try {
      fill();
      yield first.body;
      while (inFlight.length > 0) {
        const body = await inFlight.shift()!;
        fill();
        yield body;
      }
    } finally {
      // The reader stopped early or a range failed: the requests still running are not needed.
      abort.abort();
    }
  }

  private async range(
    key: string,
    from: number,
    length: number,
    etag: string | undefined,
    abortSignal: AbortSignal,
  ): Promise<{ body: Uint8Array; total: number; etag: string | undefined }> {
    const res = await this.s3.send(
      new GetObjectCommand({
        Bucket: this.opts.bucket,
        Key: key,
        Range: `bytes=${from}-${from + length - 1}`,
        ...(etag ? { IfMatch: etag } : {}),
      }),
      { abortSignal },
    );
    const body = res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
    // "bytes 0-8388607/138881343"; a server that ignores ranges sends the whole object.
    const range = /\/(\d+)$/.exec(res.ContentRange ?? '');
    if (!range && from === 0) return { body, total: body.byteLength, etag: res.ETag };
    const total = range ? Number(range[1]) : Number.NaN;
    if (body.byteLength !== Math.min(length, total - from))
      throw new Error(`range ${from}+${length} of ${total} bytes came back with ${body.byteLength}`);
    return { body, total, etag: res.ETag };
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

const DEFAULT_RANGE_BYTES = 8 * 1024 * 1024;
const DEFAULT_RANGE_CONCURRENCY = 4;

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

function isUnsatisfiableRange(err: unknown): boolean {
  const e = err as AwsLikeError;
  return e?.name === 'InvalidRange' || e?.$metadata?.httpStatusCode === 416;
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
