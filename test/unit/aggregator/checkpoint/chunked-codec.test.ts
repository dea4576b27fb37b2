import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compressChunks, decompressChunks } from '../../../../aggregator/checkpoint/chunked-codec.js';

/** Byte-for-byte equality without a per-element deep compare. */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return a instanceof Uint8Array && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function sample(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 7;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 8 === 0 ? x >>> 24 : i & 0x0f;
  }
  return out;
}

describe.each(['snappy', 'gzip'] as const)('chunked %s (checkpoint data objects)', (codec) => {
  it('compresses into blocks of a bounded input size that decompress in parallel to the input', async () => {
    const data = sample(1_000_003);
    const { stored, chunks } = await compressChunks(data, codec, 300_000);
    expect(chunks).toHaveLength(4);
    expect(chunks.reduce((a, b) => a + b, 0)).toBe(stored.byteLength);
    expect(stored.byteLength).toBeLessThan(data.byteLength);
    expect(same(await decompressChunks(stored, codec, chunks, data.byteLength), data)).toBe(true);
    const empty = await compressChunks(new Uint8Array(0), codec);
    expect(same(await decompressChunks(empty.stored, codec, empty.chunks, 0), new Uint8Array(0))).toBe(true);
  });

  it('fails when block sizes do not add up or the output is not the size the manifest says', async () => {
    const data = sample(100_000);
    const { stored, chunks } = await compressChunks(data, codec, 40_000);
    const longer = [...chunks.slice(0, -1), chunks.at(-1)! + 1];
    await expect(decompressChunks(stored, codec, longer, data.byteLength)).rejects.toThrow(/add up/);
    await expect(decompressChunks(stored, codec, chunks, data.byteLength + 1)).rejects.toThrow(
      /manifest says/,
    );
    const shifted = [chunks[0]! + 1, chunks[1]! - 1, ...chunks.slice(2)];
    await expect(decompressChunks(stored, codec, shifted, data.byteLength)).rejects.toThrow();
  });
});

describe('chunked gzip compatibility', () => {
  it('is one valid gzip stream, and reads a single-stream object written before blocks existed', async () => {
    const data = sample(200_000);
    const { stored } = await compressChunks(data, 'gzip', 50_000);
    expect(same(new Uint8Array(gunzipSync(stored)), data)).toBe(true);
    expect(same(await decompressChunks(gzipSync(data), 'gzip', undefined, data.byteLength), data)).toBe(true);
  });

  it('refuses a snappy object without block sizes', async () => {
    const { stored } = await compressChunks(sample(1000), 'snappy');
    await expect(decompressChunks(stored, 'snappy', undefined, 1000)).rejects.toThrow(/block sizes/);
  });
});
