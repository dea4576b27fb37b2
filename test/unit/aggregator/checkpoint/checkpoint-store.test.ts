import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlobCheckpointStore } from '../../../../aggregator/checkpoint/blob-checkpoint-store.js';
import { BlobStoreError } from '../../../../aggregator/checkpoint/blob-store.js';
import { RetryingBlobStore } from '../../../../aggregator/checkpoint/retrying-blob-store.js';
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

describe('LocalBlobStore', () => {
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
    expect('manifest' in loaded && Buffer.from(loaded.snapshot).equals(snapshot)).toBe(true);
    const body = blobs.objects.get(manifest.dataKey)!.body;
    body[body.length - 1] = (body[body.length - 1]! + 1) % 256;
    expect(await store.load(ref, manifest.id)).toMatchObject({ reason: 'checksum_mismatch' });
  });
});
