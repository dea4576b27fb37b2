import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readCheckpointData } from '../../../../aggregator/checkpoint/checkpoint-data-reader.js';
import type { CheckpointManifest } from '../../../../aggregator/checkpoint/checkpoint-types.js';
import {
  type CheckpointCompression,
  compressChunks,
} from '../../../../aggregator/checkpoint/chunked-codec.js';
import { joinBytes } from '../../../../aggregator/codec/byte-io.js';

function sample(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 3;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 4 === 0 ? x >>> 24 : i & 0x07;
  }
  return out;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function manifestFor(
  stored: Uint8Array,
  stateBytes: number,
  compression: CheckpointCompression,
  chunks?: number[],
): CheckpointManifest {
  return {
    formatVersion: 1,
    id: 'c1',
    pipeline: 'p',
    topic: 't',
    partition: 0,
    nextOffset: '1',
    createdAtMs: 0,
    writer: 'test',
    dataKey: 'k',
    storedBytes: stored.byteLength,
    stateBytes,
    sha256: sha(stored),
    compression,
    ...(chunks ? { chunks } : {}),
    stats: {},
  };
}

/** `bytes` as pieces of `size` (the last shorter), as a store streams them; counts the pieces pulled. */
function piecesOf(bytes: Uint8Array, size: number, pulled = { n: 0 }): AsyncIterable<Uint8Array> {
  return (async function* () {
    for (let at = 0; at < bytes.byteLength; at += size) {
      pulled.n += 1;
      yield bytes.slice(at, at + size);
    }
  })();
}

describe('readCheckpointData', () => {
  const state = sample(100_003);

  it.each(['snappy', 'gzip'] as const)(
    'verifies and decompresses %s blocks as they arrive, however the pieces cut them',
    async (codec) => {
      const { stored, chunks } = await compressChunks(state, codec, 16_384);
      expect(chunks.length).toBe(7);
      const manifest = manifestFor(stored, state.byteLength, codec, chunks);
      for (const size of [1, 333, chunks[0]!, 10_000, stored.byteLength]) {
        const out = await readCheckpointData(piecesOf(stored, size), manifest);
        if (!('parts' in out)) throw new Error(`${size}: ${out.reason} ${out.detail}`);
        // One part per block, never joined into one buffer.
        expect(out.parts.map((p) => p.byteLength)).toEqual([...Array(6).fill(16_384), 100_003 - 6 * 16_384]);
        expect(Buffer.from(joinBytes(out.parts)).equals(state), `pieces of ${size}`).toBe(true);
      }
    },
  );

  it('hands over the pieces themselves when the object is not compressed', async () => {
    const out = await readCheckpointData(
      piecesOf(state, 40_000),
      manifestFor(state, state.byteLength, 'none'),
    );
    if (!('parts' in out)) throw new Error(out.detail);
    expect(out.parts.map((p) => p.byteLength)).toEqual([40_000, 40_000, 20_003]);
    expect(Buffer.from(joinBytes(out.parts)).equals(state)).toBe(true);
  });

  it('reads a gzip object without block sizes (written before blocks) as one stream', async () => {
    const stored = gzipSync(state);
    const out = await readCheckpointData(
      piecesOf(stored, 1000),
      manifestFor(stored, state.byteLength, 'gzip'),
    );
    if (!('parts' in out)) throw new Error(out.detail);
    expect(Buffer.from(joinBytes(out.parts)).equals(state)).toBe(true);
  });

  it('refuses changed, short and over-long data (checksum_mismatch), reading no further than the manifest says', async () => {
    const { stored, chunks } = await compressChunks(state, 'snappy', 16_384);
    const manifest = manifestFor(stored, state.byteLength, 'snappy', chunks);
    const changed = stored.slice();
    changed[changed.length - 1] = changed[changed.length - 1]! ^ 1;
    expect(await readCheckpointData(piecesOf(changed, 5000), manifest)).toMatchObject({
      reason: 'checksum_mismatch',
    });
    expect(
      await readCheckpointData(piecesOf(stored.subarray(0, stored.length - 1), 5000), manifest),
    ).toMatchObject({
      reason: 'checksum_mismatch',
      detail: expect.stringContaining(`(${stored.length - 1} B)`),
    });
    // An endless object: the reader stops once it has more bytes than the manifest names.
    const pulled = { n: 0 };
    const endless = (async function* () {
      for (;;) {
        pulled.n += 1;
        yield new Uint8Array(4096);
      }
    })();
    expect(await readCheckpointData(endless, manifest)).toMatchObject({
      reason: 'checksum_mismatch',
      detail: expect.stringContaining(`over ${stored.length} B`),
    });
    expect(pulled.n).toBe(Math.floor(stored.length / 4096) + 1);
  });

  it('refuses intact data that does not decompress as the manifest says (decompress_failed)', async () => {
    const { stored, chunks } = await compressChunks(state, 'snappy', 16_384);
    const cases: [Partial<CheckpointManifest>, RegExp][] = [
      [{ chunks: [...chunks.slice(0, -1), chunks.at(-1)! + 1] }, /add up to/],
      // Block edges moved: the first block is cut short.
      [{ chunks: [chunks[0]! - 5, 5, ...chunks.slice(1)] }, /\w/],
      [{ stateBytes: state.byteLength + 1 }, /decompressed to 100003 bytes, the manifest says 100004/],
    ];
    for (const [change, detail] of cases) {
      const manifest = { ...manifestFor(stored, state.byteLength, 'snappy', chunks), ...change };
      const out = await readCheckpointData(piecesOf(stored, 3000), manifest);
      expect(out).toMatchObject({ reason: 'decompress_failed' });
      expect('detail' in out && out.detail).toMatch(detail);
    }
  });
});
