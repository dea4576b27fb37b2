/**
 * The narrow object-storage port the checkpointer needs. Adapters: S3 (infra/s3) and a local
 * directory (infra/fs). Every write is whole-or-nothing for one key; ordering across keys is
 * the caller's job (data first, manifest last).
 */
export interface BlobStore {
  /** Human-readable location for logs and `checkpoint ls`, e.g. `s3://bucket/prefix` or a path. */
  readonly location: string;
  /** Writes one object atomically (a reader never sees part of it). */
  put(key: string, body: Uint8Array): Promise<void>;
  /** Reads one object; `undefined` when it does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * Reads one object from byte `start` (default 0) as consecutive pieces, in order, so a reader
   * can work on the first bytes while the rest arrive; `undefined` when it does not exist. A
   * failure may surface between pieces; {@link RetryingBlobStore} then resumes where it stopped.
   */
  stream(key: string, start?: number): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Lists keys under a prefix (recursively), with sizes and modification times. */
  list(prefix: string): Promise<BlobInfo[]>;
  /** Deletes objects; missing keys are not an error. */
  delete(keys: string[]): Promise<void>;
}

export interface BlobInfo {
  key: string;
  sizeBytes: number;
  modifiedMs: number;
}

/** A storage failure, with whether a retry can help (throttling, connection refused, 5xx). */
export class BlobStoreError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BlobStoreError';
    this.code = code;
    this.retryable = retryable;
  }
}
