import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlobCheckpointStore } from '../../../../aggregator/checkpoint/blob-checkpoint-store.js';
import { BlobStoreError } from '../../../../aggregator/checkpoint/blob-store.js';
import { RetryingBlobStore } from '../../../../aggregator/checkpoint/retrying-blob-store.js';
import { joinBytes } from '../../../../aggregator/codec/byte-io.js';
import { LocalBlobStore } from '../../../../infra/fs/local-blob-store.js';
import { describeCheckpointStoreContract } from '../../../contracts/checkpoint-store-contract.js';
import { MemoryBlobStore } from '../../../fakes/memory-blob-store.js';

describeCheckpointStoreContract('the in-memory fake', async () => {
  const blobs = new MemoryBlobStore();
  return {
    blobs,
    corrupt: async (key) => {
      const o = blobs.objects.get(key)!;
      o.body[0] = (o.body[0]! + 1) % 256;
    },
  };
});

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
describeCheckpointStoreContract('a local directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'liveagg-ckpt-'));
  dirs.push(dir);
  const blobs = new LocalBlobStore(dir);
  return {
    blobs,
    corrupt: async (key) => {
      await writeFile(join(dir, ...key.split('/')), 'garbage');
    },
  };
});

describe('RetryingBlobStore', () => {
  const sleeps: number[] = [];
  const policy = {
    attempts: 4,
    baseDelayMs: 100,
    maxDelayMs: 250,
    sleep: async (ms: number) => void sleeps.push(ms),
  };

  it('retries retryable failures with capped exponential backoff', async () => {
    const inner = new MemoryBlobStore();
    const store = new RetryingBlobStore(inner, policy);
    inner.failNext(3, ['put']);
    await store.put('a', Uint8Array.of(1));
    expect(sleeps).toEqual([100, 200, 250]);
    expect(await inner.get('a')).toEqual(Uint8Array.of(1));
  });

  it('gives up after the last attempt and does not retry permanent errors', async () => {
    const inner = new MemoryBlobStore();
    const store = new RetryingBlobStore(inner, policy);
    inner.failNext(10, ['get']);
    await expect(store.get('a')).rejects.toBeInstanceOf(BlobStoreError);
    expect(inner.calls.filter((c) => c.startsWith('get')).length).toBe(4);
    inner.failNext(1, ['list'], false);
    await expect(store.list('')).rejects.toThrow('injected list failure');
    expect(inner.calls.filter((c) => c.startsWith('list')).length).toBe(1);
  });
});

describe('BlobCheckpointStore retention', () => {
  it('reads no data object it wrote or verified before; a new owner hashes each kept one once', async () => {
    const blobs = new MemoryBlobStore();
    let clock = 1_700_000_000_000;
    const open = () =>
      new BlobCheckpointStore(blobs, {
        prefix: 'ck',
        writer: 't',
        keep: 2,
        orphanGraceMs: 60_000,
        compression: 'snappy',
        now: () => clock,
      });
    const writer = open();
    const ref = { pipeline: 'p', topic: 't', partition: 0 };
    for (let i = 1; i <= 4; i += 1) {
      clock += 1000;
      await writer.write(ref, randomBytes(20_000), String(i));
    }
    const dataReads = () => blobs.calls.filter((c) => /^(get|stream) .*state\.bin/.test(c));
    await writer.applyRetention(ref);
    expect(dataReads()).toEqual([]);
    expect((await writer.list(ref)).map((m) => m.nextOffset)).toEqual(['4', '3']);
    // Another worker: each kept checkpoint is hashed once (streamed, not loaded), then known.
    const owner = open();
    clock += 1000;
    await writer.write(ref, randomBytes(20_000), '5');
    await owner.applyRetention(ref);
    expect(dataReads().map((c) => c.split(' ')[0])).toEqual(['stream', 'stream']);
    await owner.applyRetention(ref);
    expect(dataReads()).toHaveLength(2);
    expect((await owner.list(ref)).map((m) => m.nextOffset)).toEqual(['5', '4']);
  });
});

describe('RetryingBlobStore streams', () => {
  const body = Uint8Array.from({ length: 50_000 }, (_, i) => (i * 7) % 256);
  const read = async (pieces: AsyncIterable<Uint8Array> | undefined) => {
    const got: Uint8Array[] = [];
    for await (const p of pieces!) got.push(p);
    return Buffer.concat(got);
  };

  it('resumes a stream that fails part-way from the byte it stopped at', async () => {
    const sleeps: number[] = [];
    const inner = new MemoryBlobStore();
    await inner.put('k', body);
    const store = new RetryingBlobStore(inner, {
      attempts: 2,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      sleep: async (ms) => void sleeps.push(ms),
    });
    // Three breaks, each after progress: two attempts per failure are enough.
    inner.breakStreams(10_000, 8192, 20_000);
    expect((await read(await store.stream('k'))).equals(body)).toBe(true);
    expect(inner.calls.filter((c) => c.startsWith('stream'))).toEqual([
      'stream k@0',
      'stream k@12288',
      'stream k@20480',
      'stream k@40960',
    ]);
    expect(sleeps).toEqual([100, 100, 100]);
    // From a given byte, and a missing object.
    expect((await read(await store.stream('k', 49_990))).equals(body.subarray(49_990))).toBe(true);
    expect(await store.stream('missing')).toBeUndefined();
  });

  it('gives up after the last attempt without progress', async () => {
    const inner = new MemoryBlobStore();
    await inner.put('k', body);
    const store = new RetryingBlobStore(inner, {
      attempts: 3,
      baseDelayMs: 1,
      maxDelayMs: 1,
      sleep: async () => {},
    });
    inner.breakStreams(4096, 0, 0);
    await expect(read(await store.stream('k'))).rejects.toThrow('injected failure after 0 bytes');
    expect(inner.calls.filter((c) => c.startsWith('stream'))).toEqual([
      'stream k@0',
      'stream k@4096',
      'stream k@4096',
    ]);
  });
});

describe('LocalBlobStore', () => {
  it('streams an object from any byte; a missing one is undefined', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'liveagg-blobs-'));
    dirs.push(dir);
    const store = new LocalBlobStore(dir);
    const body = randomBytes(3 * 1024 * 1024 + 5);
    await store.put('a/b', body);
    for (const start of [0, 1, 1024 * 1024, body.length - 1, body.length]) {
      const got: Uint8Array[] = [];
      for await (const p of (await store.stream('a/b', start))!) got.push(p);
      expect(Buffer.concat(got).equals(body.subarray(start)), `from ${start}`).toBe(true);
      if (start === 0) expect(got.length).toBe(4);
    }
    expect(await store.stream('a/c')).toBeUndefined();
  });

  it('rejects keys that would escape its directory', async () => {
    const store = new LocalBlobStore(tmpdir());
    await expect(store.put('../x', Uint8Array.of(1))).rejects.toThrow('invalid blob key');
  });
});

describe('BlobCheckpointStore checksum of large snapshots', () => {
  it('hashes a snapshot of several slices as one object: round-trips, and a change in the last slice is caught', async () => {
    const blobs = new MemoryBlobStore();
    const store = new BlobCheckpointStore(blobs, {
      prefix: 'ck',
      writer: 't',
      keep: 2,
      orphanGraceMs: 60_000,
      compression: 'none',
      now: () => 1_700_000_000_000,
    });
    const ref = { pipeline: 'p', topic: 't', partition: 0 };
    const snapshot = randomBytes(9 * 1024 * 1024 + 17);
    const manifest = await store.write(ref, snapshot, '42');
    expect(manifest.sha256).toBe(createHash('sha256').update(snapshot).digest('hex'));
    const loaded = await store.load(ref, manifest.id);
    expect('manifest' in loaded && Buffer.from(joinBytes(loaded.snapshot)).equals(snapshot)).toBe(true);
    const body = blobs.objects.get(manifest.dataKey)!.body;
    body[body.length - 1] = (body[body.length - 1]! + 1) % 256;
    expect(await store.load(ref, manifest.id)).toMatchObject({ reason: 'checksum_mismatch' });
  });
});
