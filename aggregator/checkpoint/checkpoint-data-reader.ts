import { createHash } from 'node:crypto';
import type { CheckpointManifest, SkippedCheckpoint } from './checkpoint-types.js';
import { concat, decompressBlock, decompressChunks, sum } from './chunked-codec.js';

/** A verified data object's snapshot as its decompressed blocks, or why it cannot be used. */
export type CheckpointData =
  | { parts: Uint8Array[] }
  | {
      reason: Extract<SkippedCheckpoint['reason'], 'checksum_mismatch' | 'decompress_failed'>;
      detail: string;
    };

/**
 * Verifies and decompresses a checkpoint's data object while it arrives: the SHA-256 takes each
 * piece as it comes, and each compressed block starts decompressing (on libuv's thread pool) as
 * soon as its last byte is in, so hashing and decompression overlap the download instead of
 * following it. The snapshot is returned as its decompressed blocks, in order (ByteReader reads
 * them without joining them: no copy of the whole state). Nothing is used unless the checksum
 * and size match the manifest; a corrupt block only fails to decompress.
 */
export async function readCheckpointData(
  pieces: AsyncIterable<Uint8Array>,
  manifest: CheckpointManifest,
): Promise<CheckpointData> {
  const hash = createHash('sha256');
  const codec = manifest.compression;
  const blocks =
    codec !== 'none' && manifest.chunks !== undefined && sum(manifest.chunks) === manifest.storedBytes
      ? manifest.chunks
      : undefined;
  // Block-wise: the pieces of the block being assembled; otherwise every piece.
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  const decoded: Promise<Uint8Array | Error>[] = [];
  let block = 0;
  let received = 0;
  for await (const piece of pieces) {
    received += piece.byteLength;
    // Longer than the manifest says: not this checkpoint's data (and no reason to read the rest).
    if (received > manifest.storedBytes) break;
    hash.update(piece);
    if (blocks === undefined) {
      held.push(piece);
      continue;
    }
    for (let off = 0; off < piece.byteLength; ) {
      const take = Math.min(blocks[block]! - heldBytes, piece.byteLength - off);
      held.push(piece.subarray(off, off + take));
      heldBytes += take;
      off += take;
      if (heldBytes === blocks[block]) {
        decoded.push(decompressBlock(concat(held), codec as 'snappy' | 'gzip').catch((e: Error) => e));
        held.length = 0;
        heldBytes = 0;
        block += 1;
      }
    }
  }
  const digest = hash.digest('hex');
  if (received !== manifest.storedBytes || digest !== manifest.sha256) {
    await Promise.all(decoded);
    const size = received > manifest.storedBytes ? `over ${manifest.storedBytes} B` : `${received} B`;
    return {
      reason: 'checksum_mismatch',
      detail: `sha256 ${digest} (${size}) != manifest ${manifest.sha256} (${manifest.storedBytes} B)`,
    };
  }
  if (codec === 'none') return { parts: held };
  let parts: Uint8Array[];
  if (blocks !== undefined) {
    const out = await Promise.all(decoded);
    const failed = out.find((p): p is Error => p instanceof Error);
    if (failed) return { reason: 'decompress_failed', detail: failed.message };
    parts = out as Uint8Array[];
    const total = sum(parts.map((p) => p.byteLength));
    if (total !== manifest.stateBytes)
      return {
        reason: 'decompress_failed',
        detail: `decompressed to ${total} bytes, the manifest says ${manifest.stateBytes}`,
      };
  } else {
    // One gzip stream (written before blocks existed), or block sizes that do not add up.
    try {
      parts = [await decompressChunks(concat(held), codec, manifest.chunks, manifest.stateBytes)];
    } catch (err) {
      return { reason: 'decompress_failed', detail: (err as Error).message };
    }
  }
  return { parts };
}
