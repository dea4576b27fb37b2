import { createHash } from 'node:crypto';
import { joinBytes } from '../codec/byte-io.js';
import type { CheckpointManifest, SkippedCheckpoint } from './checkpoint-types.js';
import { decompressBlock, decompressChunks, sum } from './chunked-codec.js';

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
  const checksum = new Checksum(manifest);
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
  for await (const piece of pieces) {
    if (!checksum.take(piece)) break;
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
        decoded.push(decompressBlock(joinBytes(held), codec as 'snappy' | 'gzip').catch((e: Error) => e));
        held.length = 0;
        heldBytes = 0;
        block += 1;
      }
    }
  }
  const mismatch = checksum.mismatch();
  if (mismatch !== undefined) {
    await Promise.all(decoded);
    return { reason: 'checksum_mismatch', detail: mismatch };
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
      parts = [await decompressChunks(joinBytes(held), codec, manifest.chunks, manifest.stateBytes)];
    } catch (err) {
      return { reason: 'decompress_failed', detail: (err as Error).message };
    }
  }
  return { parts };
}

/** Whether a data object's pieces are its manifest's bytes (size and SHA-256); reads no further than that size. */
export async function checksumMatches(
  pieces: AsyncIterable<Uint8Array>,
  manifest: CheckpointManifest,
): Promise<boolean> {
  const checksum = new Checksum(manifest);
  for await (const piece of pieces) if (!checksum.take(piece)) break;
  return checksum.mismatch() === undefined;
}

/** A data object's size and SHA-256, piece by piece, against its manifest's. */
class Checksum {
  private readonly hash = createHash('sha256');
  private received = 0;
  constructor(private readonly manifest: CheckpointManifest) {}

  /** Takes the next piece; false once the object is longer than the manifest says (no reason to read on). */
  take(piece: Uint8Array): boolean {
    this.received += piece.byteLength;
    if (this.received > this.manifest.storedBytes) return false;
    this.hash.update(piece);
    return true;
  }

  /** Why the pieces taken are not the manifest's object, or undefined when they are. */
  mismatch(): string | undefined {
    const m = this.manifest;
    const digest = this.hash.digest('hex');
    if (this.received === m.storedBytes && digest === m.sha256) return undefined;
    const size = this.received > m.storedBytes ? `over ${m.storedBytes} B` : `${this.received} B`;
    return `sha256 ${digest} (${size}) != manifest ${m.sha256} (${m.storedBytes} B)`;
  }
}
