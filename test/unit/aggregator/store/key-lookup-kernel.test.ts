import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../../aggregator/codec/byte-io.js';
import { KeyedRecord } from '../../../../aggregator/decode/decoder.js';
import { keyLookupKernel, LOOKUP_CHUNK } from '../../../../aggregator/store/key-lookup-kernel.js';
import { type KeySource, mixHash, SeriesDictionary } from '../../../../aggregator/store/series-dictionary.js';
import { rng } from '../engine/engine-fixtures.js';

/** The dictionary's key hash (FNV-1a of the UTF-8 bytes, then its avalanche), computed here independently. */
function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(key)) h = Math.imul(h ^ b, 0x01000193);
  return mixHash(h);
}

/** ASCII keys as a decoder leaves them: bytes in a buffer ({@link KeyedRecord}); others as strings. */
function sources(keys: string[]): KeySource[] {
  const buf = Buffer.from(`#${keys.join('#')}`, 'utf8');
  let at = 1;
  return keys.map((key) => {
    const n = Buffer.byteLength(key);
    const start = at;
    at += n + 1;
    if (n !== key.length) return { seriesKey: key };
    return new KeyedRecord('k', buf, start, start + n, 0, {}, {});
  });
}

/** Looks `keys` up through {@link SeriesDictionary.prefetch} and interns them as the engine does. */
function internBatch(
  d: SeriesDictionary,
  keys: string[],
  asBytes = false,
): { ids: number[]; looked: number[] } {
  const hashes = new Int32Array(LOOKUP_CHUNK);
  const ascii = new Uint8Array(LOOKUP_CHUNK);
  const found = new Int32Array(LOOKUP_CHUNK);
  const given: KeySource[] = asBytes ? sources(keys) : keys.map((seriesKey) => ({ seriesKey }));
  d.prefetch([{ seriesKey: 'not this one' }, ...given], 1, keys.length, hashes, ascii, found);
  const ids: number[] = [];
  const looked: number[] = [];
  keys.forEach((key, j) => {
    if (ascii[j] === 1) expect(hashes[j]).toBe(keyHash(key));
    looked.push(ascii[j] === 1 ? found[j]! : -2);
    ids.push(ascii[j] !== 1 ? d.intern(key) : found[j]! >= 0 ? found[j]! : d.internHashed(key, hashes[j]!));
  });
  return { ids, looked };
}

function raw(d: SeriesDictionary): Uint8Array {
  const w = new ByteWriter();
  d.writeRaw(w);
  return w.finish();
}

describe('the WebAssembly key lookup', () => {
  it('is what dictionaries use once loaded (the unit setup loads it, as a worker does)', () => {
    expect(keyLookupKernel()).not.toBeNull();
    expect(new SeriesDictionary().exactPrefetch).toBe(true);
    expect(new SeriesDictionary(null).exactPrefetch).toBe(false);
  });

  it('finds each key’s own id, and the same ids, hashes and snapshot as the JavaScript dictionary under random interns and releases', () => {
    const wasm = new SeriesDictionary();
    const js = new SeriesDictionary(null);
    const refs = new Map<number, number>();
    const r = rng(11);
    const keyOf = (): string => {
      const n = Math.floor(r() * 4000);
      // Some non-ASCII keys (left to the JavaScript intern) and some long ones.
      if (n % 41 === 0) return `gerät-${n}`;
      return `dev-${n}${n % 97 === 0 ? 'x'.repeat(300) : ''}`;
    };
    for (let round = 0; round < 600; round++) {
      const keys = Array.from({ length: LOOKUP_CHUNK }, keyOf);
      // What the lookup said before the batch changed anything: the key's id, or -1 when absent.
      const before = keys.map((k) => js.find(k));
      // Half the chunks come as bytes (as the JSON decoder leaves single ASCII keys), half as strings.
      const { ids, looked } = internBatch(wasm, keys, round % 2 === 0);
      keys.forEach((key, j) => {
        if (looked[j] !== -2) expect(looked[j]).toBe(before[j]);
        expect(ids[j]).toBe(js.intern(key));
        expect(wasm.key(ids[j]!)).toBe(key);
        if (!refs.has(ids[j]!)) {
          refs.set(ids[j]!, 1);
          wasm.addRef(ids[j]!);
          js.addRef(ids[j]!);
        }
      });
      for (const id of [...refs.keys()]) {
        if (r() < 0.01) {
          expect(wasm.release(id)).toBe(true);
          js.release(id);
          refs.delete(id);
        }
      }
    }
    expect(wasm.size()).toBe(js.size());
    expect(wasm.size()).toBeGreaterThan(2000);
    expect(raw(wasm)).toEqual(raw(js));
  });

  it('tells apart keys whose hashes collide', () => {
    // Two keys with the same 32-bit hash (found by brute force): the lookup must compare bytes.
    const seen = new Map<number, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; pair === null; i++) {
      const key = `collide-${i}`;
      const h = keyHash(key);
      const other = seen.get(h);
      if (other !== undefined) pair = [other, key];
      else seen.set(h, key);
    }
    const [a, b] = pair;
    const d = new SeriesDictionary();
    const ida = d.intern(a);
    // b is absent although a sits where its probe starts with the same hash.
    expect(internBatch(d, [b]).looked).toEqual([-1]);
    const idb = d.intern(b);
    expect(idb).not.toBe(ida);
    // Both found, in either order, past the other's slot, from strings and from bytes.
    expect(internBatch(d, [b, a, b]).looked).toEqual([idb, ida, idb]);
    expect(internBatch(d, [a, b, a], true).looked).toEqual([ida, idb, ida]);
  });

  it('leaves to JavaScript the keys of a chunk that do not fit its input area, with the same ids', () => {
    const d = new SeriesDictionary();
    const js = new SeriesDictionary(null);
    // 64 keys of 403 bytes: 16 KiB of room takes the first 40; the rest are interned from strings.
    const keys = Array.from(
      { length: LOOKUP_CHUNK },
      (_, j) => `${String(j).padStart(2, '0')}-${'k'.repeat(400)}`,
    );
    for (const asBytes of [false, true, true]) {
      const hashes = new Int32Array(LOOKUP_CHUNK);
      const ascii = new Uint8Array(LOOKUP_CHUNK);
      const found = new Int32Array(LOOKUP_CHUNK);
      const given: KeySource[] = asBytes ? sources(keys) : keys.map((seriesKey) => ({ seriesKey }));
      d.prefetch(given, 0, LOOKUP_CHUNK, hashes, ascii, found);
      expect(Array.from(ascii).filter((a) => a === 1).length).toBe(Math.floor(16_384 / 403));
      const { ids } = internBatch(d, keys, asBytes);
      expect(ids).toEqual(keys.map((k) => js.intern(k)));
    }
    expect(d.size()).toBe(LOOKUP_CHUNK);
  });

  it('moves its arrays to the JavaScript heap when no WebAssembly memory can be had, and goes on the same', () => {
    const real = keyLookupKernel()!;
    let memories = 0;
    const scarce = {
      instantiate(bytes: number) {
        if (++memories > 4) throw new RangeError('WebAssembly.Memory(): could not allocate memory');
        return real.instantiate(bytes);
      },
    };
    const wasm = new SeriesDictionary(scarce);
    const js = new SeriesDictionary(null);
    const keys = Array.from({ length: 20_000 }, (_, i) => `dev-${i}`);
    for (let at = 0; at < keys.length; at += LOOKUP_CHUNK) {
      const chunk = keys.slice(at, at + LOOKUP_CHUNK);
      const { ids } = internBatch(wasm, chunk, true);
      expect(ids).toEqual(chunk.map((k) => js.intern(k)));
    }
    expect(memories).toBeGreaterThan(4);
    expect(wasm.exactPrefetch).toBe(false);
    expect(internBatch(wasm, ['dev-7', 'dev-19999']).ids).toEqual([js.find('dev-7'), js.find('dev-19999')]);
    expect(raw(wasm)).toEqual(raw(js));
    expect(wasm.bytes()).toBe(js.bytes());
  });

  it('keys of every length, in their metadata (up to 16 bytes) or in the arena, differing in any one byte', () => {
    const wasm = new SeriesDictionary();
    const js = new SeriesDictionary(null);
    // Per length 0..40, a key and its variants differing in one byte only: the first, one at
    // 8 (the second word), the last, and for long keys one past the first 16.
    const keys: string[] = [];
    for (let n = 0; n <= 40; n++) {
      const base = Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((n + i) % 26))).join('');
      keys.push(base);
      for (const at of new Set([0, 8, 16, n - 1])) {
        if (at < 0 || at >= n) continue;
        keys.push(`${base.slice(0, at)}${at === 0 ? 'Z' : '#'}${base.slice(at + 1)}`);
      }
    }
    keys.push('gerät-16-bytes!', 'gerät-with-more-than-16-bytes');
    const ids = new Map<string, number>();
    for (let from = 0; from < keys.length; from += LOOKUP_CHUNK) {
      const chunk = keys.slice(from, from + LOOKUP_CHUNK);
      const { ids: got } = internBatch(wasm, chunk, from % (2 * LOOKUP_CHUNK) === 0);
      chunk.forEach((key, j) => {
        expect(got[j]).toBe(js.intern(key));
        ids.set(key, got[j]!);
      });
    }
    expect(new Set(ids.values()).size).toBe(keys.length);
    // What the kernel says of a key: its id; a key that is not ASCII is left to intern (-2 here).
    const lookedUp = (k: string): number | undefined => (Buffer.byteLength(k) === k.length ? ids.get(k) : -2);
    // Found again from bytes and from strings, each its own id; every key read back as it was.
    for (let from = 0; from < keys.length; from += LOOKUP_CHUNK) {
      const chunk = keys.slice(from, from + LOOKUP_CHUNK);
      for (const asBytes of [false, true])
        expect(internBatch(wasm, chunk, asBytes).looked).toEqual(chunk.map(lookedUp));
    }
    for (const [key, id] of ids) expect(wasm.key(id)).toBe(key);
    // Releases (long keys leave arena garbage, compacted when it is half of it), then a snapshot
    // written by either kind restores into the other with the same keys and ids.
    for (const [key, id] of ids) {
      wasm.addRef(id);
      js.addRef(id);
      if (key.length % 3 === 0) {
        wasm.release(id);
        js.release(id);
        ids.delete(key);
      }
    }
    expect(raw(wasm)).toEqual(raw(js));
    const back = new SeriesDictionary();
    back.readRaw(new ByteReader(raw(js), 'snap'));
    const backJs = new SeriesDictionary(null);
    backJs.readRaw(new ByteReader(raw(wasm), 'snap'));
    for (const [key, id] of ids) {
      expect(back.find(key)).toBe(id);
      expect(back.key(id)).toBe(key);
      expect(backJs.find(key)).toBe(id);
    }
    const all = [...ids.keys()].slice(0, LOOKUP_CHUNK);
    expect(internBatch(back, all, true).looked).toEqual(all.map(lookedUp));
    expect(raw(back)).toEqual(raw(wasm));
  });

  it('restores a snapshot written by either kind of dictionary into the other', () => {
    const js = new SeriesDictionary(null);
    for (let i = 0; i < 5000; i++) js.addRef(js.intern(`k-${i}`));
    for (let i = 0; i < 5000; i += 3) js.release(js.find(`k-${i}`));
    const wasm = new SeriesDictionary();
    wasm.readRaw(new ByteReader(raw(js), 'snap'));
    const keys = Array.from({ length: 64 }, (_, j) => `k-${j * 70}`);
    const before = keys.map((k) => js.find(k));
    const { ids, looked } = internBatch(wasm, keys);
    expect(looked).toEqual(before);
    expect(before.filter((id) => id < 0).length).toBeGreaterThan(0);
    expect(ids).toEqual(keys.map((k) => js.intern(k)));
    const back = new SeriesDictionary(null);
    back.readRaw(new ByteReader(raw(wasm), 'snap'));
    expect(raw(back)).toEqual(raw(js));
  });
});
