import { type BlobInfo, type BlobStore, BlobStoreError } from '../../aggregator/checkpoint/blob-store.js';

/** In-memory blob store for unit tests: records calls and can fail the next N operations. */
export class MemoryBlobStore implements BlobStore {
  readonly location = 'memory://';
  readonly objects = new Map<string, { body: Uint8Array; modifiedMs: number }>();
  readonly calls: string[] = [];
  private failures: { ops: Set<string>; remaining: number; retryable: boolean } | undefined;

  /** Streams hand out pieces of this many bytes (small, so readers meet pieces that split their blocks). */
  streamPieceBytes = 4096;
  /** Streams that will fail (retryably) after handing out this many bytes, once each. */
  private readonly streamBreaks: number[] = [];

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** The next `at.length` streams fail after handing out `at[i]` bytes (counted from their start). */
  breakStreams(...at: number[]): void {
    this.streamBreaks.push(...at);
  }

  /** The next `count` calls of the given operations throw a BlobStoreError. */
  failNext(
    count: number,
    ops: string[] = ['put', 'get', 'stream', 'list', 'delete'],
    retryable = true,
  ): void {
    this.failures = { ops: new Set(ops), remaining: count, retryable };
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    this.check('put', key);
    this.objects.set(key, { body: new Uint8Array(body), modifiedMs: this.now() });
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    this.check('get', key);
    return this.objects.get(key)?.body;
  }
  async stream(key: string, start = 0): Promise<AsyncIterable<Uint8Array> | undefined> {
    this.check('stream', `${key}@${start}`);
    const body = this.objects.get(key)?.body;
    if (!body) return undefined;
    const breakAt = this.streamBreaks.shift();
    const piece = this.streamPieceBytes;
    return (async function* () {
      for (let off = start; off < body.byteLength; off += piece) {
        if (breakAt !== undefined && off - start >= breakAt)
          throw new BlobStoreError('INJECTED', `injected failure after ${off - start} bytes`, true);
        yield body.slice(off, Math.min(body.byteLength, off + piece));
      }
    })();
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    this.check('list', prefix);
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .map(([key, o]) => ({ key, sizeBytes: o.body.byteLength, modifiedMs: o.modifiedMs }))
      .sort((a, b) => (a.key < b.key ? -1 : 1));
  }
  async delete(keys: string[]): Promise<void> {
    this.check('delete', keys.join(','));
    for (const k of keys) this.objects.delete(k);
  }

  private check(op: string, key: string): void {
    this.calls.push(`${op} ${key}`);
    const f = this.failures;
    if (f && f.remaining > 0 && f.ops.has(op)) {
      f.remaining -= 1;
      throw new BlobStoreError('INJECTED', `injected ${op} failure`, f.retryable);
    }
  }
}
