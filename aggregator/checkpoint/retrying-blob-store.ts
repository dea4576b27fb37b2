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
  list(prefix: string): Promise<BlobInfo[]> {
    return this.retry('list', () => this.inner.list(prefix));
  }
  delete(keys: string[]): Promise<void> {
    return this.retry('delete', () => this.inner.delete(keys));
  }

  private async retry<T>(op: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await fn();
      } catch (err) {
        const retryable = err instanceof BlobStoreError ? err.retryable : false;
        if (!retryable || attempt >= this.policy.attempts) throw err;
        this.policy.onRetry?.(op, attempt, err);
        await this.policy.sleep(
          Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (attempt - 1)),
        );
      }
    }
  }
}
