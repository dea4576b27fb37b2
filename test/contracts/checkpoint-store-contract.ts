import { describe, expect, it } from 'vitest';
import { BlobCheckpointStore } from '../../aggregator/checkpoint/blob-checkpoint-store.js';
import type { BlobStore } from '../../aggregator/checkpoint/blob-store.js';
import type { PartitionRef } from '../../aggregator/checkpoint/checkpoint-types.js';
import type { CheckpointCompression } from '../../aggregator/checkpoint/chunked-codec.js';
import { joinBytes } from '../../aggregator/codec/byte-io.js';

/**
 * One contract for every BlobStore adapter under the checkpoint store: the in-memory fake, a
 * local directory and S3 (moto) all have to pass the same cases.
 */
export function describeCheckpointStoreContract(
  adapter: string,
  makeBlobs: () => Promise<{ blobs: BlobStore; corrupt: (key: string) => Promise<void> }>,
): void {
  describe(`CheckpointStore over ${adapter}`, () => {
    const ref: PartitionRef = { pipeline: 'pipe/one', topic: 'events', partition: 3 };
    let clock = 1_700_000_000_000;
    /** A store over `blobs`: another one over the same blobs is another worker (a new owner). */
    const open = (blobs: BlobStore, compression: CheckpointCompression = 'snappy') =>
      new BlobCheckpointStore(blobs, {
        prefix: 'checkpoints',
        writer: 'test',
        keep: 2,
        orphanGraceMs: 60_000,
        compression,
        now: () => clock,
      });
    const make = async (compression: CheckpointCompression = 'snappy') => {
      const { blobs, corrupt } = await makeBlobs();
      return { store: open(blobs, compression), blobs, corrupt };
    };
    const bytes = (n: number, seed: number) =>
      Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251);

    it('round-trips a snapshot with its offsets, compressed (snappy, gzip) or not', async () => {
      for (const compression of ['snappy', 'gzip', 'none'] as const) {
        const { store } = await make(compression);
        const snap = bytes(10_000, 7);
        clock += 1000;
        const written = await store.write(ref, snap, '1234', { series: 42 });
        const { checkpoint, skipped } = await store.latestValid(ref);
        expect(skipped).toEqual([]);
        expect(checkpoint?.manifest.id).toBe(written.id);
        expect(checkpoint?.manifest.nextOffset).toBe('1234');
        expect(checkpoint?.manifest.stats).toEqual({ series: 42 });
        expect(Buffer.from(joinBytes(checkpoint!.snapshot)).equals(Buffer.from(snap))).toBe(true);
      }
    });

    it("keeps an idle advance in the manifest: the newest of one offset's checkpoints is the one restored", async () => {
      const { store } = await make();
      clock += 1000;
      const plain = await store.write(ref, bytes(100, 1), '50');
      expect(plain.advanceWatermarkToMs).toBeUndefined();
      clock += 1000;
      // Same offset, the state before an idle advance and the advance: restored with it.
      const advanced = await store.write(
        ref,
        bytes(100, 2),
        '50',
        {},
        { advanceWatermarkToMs: 1_795_000_000_123 },
      );
      const { checkpoint } = await store.latestValid(ref);
      expect(checkpoint?.manifest.id).toBe(advanced.id);
      expect(checkpoint?.manifest.advanceWatermarkToMs).toBe(1_795_000_000_123);
      expect((await store.list(ref))[0]?.advanceWatermarkToMs).toBe(1_795_000_000_123);
    });

    it('returns the highest-offset valid checkpoint and lists newest first', async () => {
      const { store } = await make();
      clock += 1000;
      await store.write(ref, bytes(100, 1), '10');
      clock += 1000;
      const second = await store.write(ref, bytes(100, 2), '20');
      clock += 1000;
      // A late write from a previous owner: newer timestamp, older offset.
      await store.write(ref, bytes(100, 3), '15');
      const { checkpoint } = await store.latestValid(ref);
      expect(checkpoint?.manifest.id).toBe(second.id);
      const listed = await store.list(ref);
      expect(listed.map((m) => m.nextOffset)).toEqual(['15', '20', '10']);
      expect((await store.list({ pipeline: 'other' })).length).toBe(0);
    });

    it('skips a corrupted latest checkpoint in favour of the previous one', async () => {
      const { store, corrupt } = await make();
      clock += 1000;
      const good = await store.write(ref, bytes(5000, 4), '100');
      clock += 1000;
      const bad = await store.write(ref, bytes(5000, 5), '200');
      await corrupt(bad.dataKey);
      const { checkpoint, skipped } = await store.latestValid(ref);
      expect(checkpoint?.manifest.id).toBe(good.id);
      expect(skipped).toEqual([expect.objectContaining({ id: bad.id, reason: 'checksum_mismatch' })]);
    });

    it('skips a checkpoint whose intact data does not decompress as its manifest says (decompress_failed)', async () => {
      for (const compression of ['snappy', 'gzip'] as const) {
        const { store, blobs } = await make(compression);
        clock += 1000;
        const good = await store.write(ref, bytes(5000, 8), '100');
        clock += 1000;
        const bad = await store.write(ref, bytes(5000, 9), '200');
        // The data and its checksum are intact; the manifest's block sizes and state size are not.
        const manifestKey = (await blobs.list(''))
          .map((b) => b.key)
          .find((k) => k.endsWith(`${bad.id}/manifest.json`))!;
        const manifest = JSON.parse(Buffer.from((await blobs.get(manifestKey))!).toString()) as Record<
          string,
          unknown
        >;
        const stored = bad.storedBytes;
        await blobs.put(
          manifestKey,
          Buffer.from(JSON.stringify({ ...manifest, chunks: [stored - 3, 3], stateBytes: 4999 })),
        );
        const { checkpoint, skipped } = await store.latestValid(ref);
        expect(checkpoint?.manifest.id).toBe(good.id);
        expect(skipped).toEqual([expect.objectContaining({ id: bad.id, reason: 'decompress_failed' })]);
      }
    });

    it('ignores data without a manifest (a crash mid-checkpoint) and retention removes it after the grace period', async () => {
      const { store, blobs } = await make();
      clock += 1000;
      const kept = await store.write(ref, bytes(100, 6), '5');
      const orphanKey = kept.dataKey.replace(kept.id, `${String(clock + 1).padStart(14, '0')}-deadbeef`);
      await blobs.put(orphanKey, bytes(100, 9));
      expect((await store.latestValid(ref)).checkpoint?.manifest.id).toBe(kept.id);
      clock += 1000;
      expect((await store.applyRetention(ref)).deletedKeys).not.toContain(orphanKey);
      clock = Date.now() + 10 * 60_000;
      expect((await store.applyRetention(ref)).deletedKeys).toContain(orphanKey);
      expect(await blobs.get(orphanKey)).toBeUndefined();
    });

    it('retention keeps the newest valid checkpoints only', async () => {
      const { store } = await make();
      const ids: string[] = [];
      for (let i = 1; i <= 5; i += 1) {
        clock += 1000;
        ids.push((await store.write(ref, bytes(100, i), String(i * 10))).id);
      }
      await store.applyRetention(ref);
      expect((await store.list(ref)).map((m) => m.id)).toEqual([ids[4], ids[3]]);
    });

    it('retention keeps a corrupt newest checkpoint for inspection and still the newest valid ones (a new owner checks them)', async () => {
      const { store, blobs, corrupt } = await make();
      const written: string[] = [];
      for (let i = 1; i <= 4; i += 1) {
        clock += 1000;
        written.push((await store.write(ref, bytes(3000, i), String(i * 10))).id);
      }
      const newest = (await store.list(ref))[0]!;
      await corrupt(newest.dataKey);
      const owner = open(blobs);
      await owner.applyRetention(ref);
      expect((await owner.list(ref)).map((m) => m.id)).toEqual([written[3], written[2], written[1]]);
      const { checkpoint, skipped } = await owner.latestValid(ref);
      expect(checkpoint?.manifest.id).toBe(written[2]);
      expect(skipped.map((s) => s.id)).toEqual([written[3]]);
    });

    it('retention keeps the highest offsets: late checkpoints of a previous owner do not push out the newest state', async () => {
      const { store } = await make();
      clock += 1000;
      const ahead = await store.write(ref, bytes(100, 1), '500');
      // A previous owner, still processing before it noticed the rebalance, writes two checkpoints that reflect less.
      for (const offset of ['300', '320']) {
        clock += 1000;
        await store.write(ref, bytes(100, 2), offset);
      }
      await store.applyRetention(ref);
      const kept = await store.list(ref);
      expect(kept.map((m) => m.nextOffset).sort()).toEqual(['320', '500']);
      expect((await store.latestValid(ref)).checkpoint?.manifest.id).toBe(ahead.id);
    });
  });
}
