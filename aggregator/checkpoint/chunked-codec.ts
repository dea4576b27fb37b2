import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { compress as snappyCompress, uncompress as snappyUncompress } from 'snappy';
import { joinBytes } from '../codec/byte-io.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * How a checkpoint's data object is stored. `snappy` (the default, as Flink compresses its snapshots) compresses and
 * decompresses several times faster than gzip at a somewhat larger size, so a drain and a restore are bound by the
 * network rather than by the CPU; `gzip` trades CPU for fewer bytes; `none` stores the snapshot as is.
 */
export type CheckpointCompression = 'snappy' | 'gzip' | 'none';

/** Snapshot bytes per compressed block: small enough that several compress in parallel, large enough to compress well. */
export const CHUNK_BYTES = 4 << 20;
/** zlib's output buffer size: large, so a gzip member inflates in a few calls instead of hundreds of 16 KiB ones. */
const OUT_CHUNK_BYTES = 1 << 20;

/**
 * Compresses `data` as consecutive blocks of `chunkBytes` input each, on libuv's thread pool (the event loop stays
 * free and the blocks compress in parallel on every core). Returns the concatenation and each block's stored size, so
 * a reader can decompress the blocks in parallel too. gzip blocks are gzip members: their concatenation is also one
 * valid gzip stream.
 */
export async function compressChunks(
  data: Uint8Array,
  codec: Exclude<CheckpointCompression, 'none'>,
  chunkBytes = CHUNK_BYTES,
): Promise<{ stored: Uint8Array; chunks: number[] }> {
  const parts: Promise<Uint8Array>[] = [];
  let off = 0;
  do {
    const block = data.subarray(off, Math.min(data.byteLength, off + chunkBytes));
    parts.push(
      codec === 'gzip'
        ? gzipAsync(block, { level: 1 })
        : snappyCompress(Buffer.from(block.buffer, block.byteOffset, block.byteLength)),
    );
    off += chunkBytes;
  } while (off < data.byteLength);
  const blocks = await Promise.all(parts);
  const chunks = blocks.map((b) => b.byteLength);
  return { stored: joinBytes(blocks), chunks };
}

/**
 * Decompresses what {@link compressChunks} wrote: blocks in parallel when their sizes are known; a gzip object without
 * them (written before blocks existed) as one stream. Throws when the sizes do not add up or the output is not
 * `expectedBytes` long.
 */
export async function decompressChunks(
  stored: Uint8Array,
  codec: Exclude<CheckpointCompression, 'none'>,
  chunks: readonly number[] | undefined,
  expectedBytes: number,
): Promise<Uint8Array> {
  let out: Uint8Array;
  if (chunks === undefined) {
    if (codec !== 'gzip')
      throw new Error(`a ${codec} object needs its block sizes, and the manifest has none`);
    out = joinBytes([await gunzipAsync(stored, { chunkSize: OUT_CHUNK_BYTES })]);
  } else {
    if (sum(chunks) !== stored.byteLength)
      throw new Error(`blocks add up to ${sum(chunks)} bytes, the object has ${stored.byteLength}`);
    const parts: Promise<Uint8Array>[] = [];
    let off = 0;
    for (const n of chunks) {
      parts.push(decompressBlock(stored.subarray(off, off + n), codec));
      off += n;
    }
    out = joinBytes(await Promise.all(parts));
  }
  if (out.byteLength !== expectedBytes)
    throw new Error(`decompressed to ${out.byteLength} bytes, the manifest says ${expectedBytes}`);
  return out;
}

/** Decompresses one block {@link compressChunks} wrote, on libuv's thread pool. */
export function decompressBlock(
  block: Uint8Array,
  codec: Exclude<CheckpointCompression, 'none'>,
): Promise<Uint8Array> {
  return codec === 'gzip'
    ? gunzipAsync(block, { chunkSize: OUT_CHUNK_BYTES })
    : (snappyUncompress(Buffer.from(block.buffer, block.byteOffset, block.byteLength)) as Promise<Buffer>);
}

export function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
