import { type BlobInfo, type BlobStore, BlobStoreError } from './blob-store.js';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep: (ms: number) => Promise<void>;
  /** Told about each failed attempt that will be retried. */
  onRetry?: (op: string, attempt: number, err: unknown) => void;
}

/**
 * Retries retryable storage failures with capped exponential backoff (full jitter avoided so
 * tests stay deterministic: delay = min(max, base × 2^attempt)). A decorator, so adapters
 * stay free of retry loops.
 */
export class RetryingBlobStore implements BlobStore {
  readonly location: string;
  constructor(
    private readonly inner: BlobStore,
    private readonly policy: RetryPolicy,
  ) {
    this.location = inner.location;
  }
  put(key: string, body: Uint8Array): Promise<void> {
    return this.retry('put', () => this.inner.put(key, body));
  }
  get(key: string): Promise<Uint8Array | undefined> {
    return this.retry('get', () => this.inner.get(key));
  }
  /** Also resumes a stream that fails part-way: from the byte it stopped at, with the same backoff. */
  async stream(key: string, start = 0): Promise<AsyncIterable<Uint8Array> | undefined> {
    const first = await this.retry('stream', () => this.inner.stream(key, start));
    return first && this.resuming(key, start, first);
  }

  private async *resuming(
    key: string,
    start: number,
    first: AsyncIterable<Uint8Array>,
  ): AsyncGenerator<Uint8Array> {
    let at = start;
    let pieces = first;
    // Failures since the last piece arrived: a stream that keeps making progress keeps going.
    for (let attempt = 1; ; ) {
      try {
        for await (const piece of pieces) {
          at += piece.byteLength;
          attempt = 1;
          yield piece;
        }
        return;
      } catch (err) {
        const retryable = err instanceof BlobStoreError ? err.retryable : false;
        if (!retryable || attempt >= this.policy.attempts) throw err;
        this.policy.onRetry?.('stream', attempt, err);
        await this.policy.sleep(this.delay(attempt));
        attempt += 1;
        const rest = await this.retry('stream', () => this.inner.stream(key, at));
        if (!rest)
          throw new BlobStoreError('GONE', `${key} disappeared while it was read (at byte ${at})`, false);
        pieces = rest;
      }
    }
  }

  list(prefix: string): Promise<BlobInfo[]> {
    return this.retry('list', () => this.inner.list(prefix));
  }
  delete(keys: string[]): Promise<void> {
    return this.retry('delete', () => this.inner.delete(keys));
  }

  private delay(attempt: number): number {
    return Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (attempt - 1));
  }

  private async retry<T>(op: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await fn();
      } catch (err) {
        const retryable = err instanceof BlobStoreError ? err.retryable : false;
        if (!retryable || attempt >= this.policy.attempts) throw err;
        this.policy.onRetry?.(op, attempt, err);
        await this.policy.sleep(this.delay(attempt));
      }
    }
  }
}
