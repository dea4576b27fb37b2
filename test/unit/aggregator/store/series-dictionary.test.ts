import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter, CorruptStateError } from '../../../../aggregator/codec/byte-io.js';
import { mixHash, SeriesDictionary } from '../../../../aggregator/store/series-dictionary.js';
import { rng } from '../engine/engine-fixtures.js';

describe('SeriesDictionary', () => {
  it('interns keys to stable ids and gives them back, including non-ASCII keys', () => {
    const d = new SeriesDictionary();
    const keys = ['a', 'dev-1|site', 'café', '設備-7', '', 'x'.repeat(5000)];
    const ids = keys.map((k) => d.intern(k));
    expect(new Set(ids).size).toBe(keys.length);
    keys.forEach((k, i) => {
      expect(d.intern(k)).toBe(ids[i]);
      expect(d.find(k)).toBe(ids[i]);
      expect(d.key(ids[i]!)).toBe(k);
    });
    expect(d.find('missing')).toBe(-1);
    expect(d.size()).toBe(keys.length);
  });

  it('behaves like a Map under random interns and releases (backward-shift deletes, id reuse, arena compaction)', () => {
    const d = new SeriesDictionary();
    const model = new Map<string, { id: number; refs: number }>();
    const r = rng(9);
    for (let step = 0; step < 30_000; step++) {
      const key = `series-${Math.floor(r() * 3000)}-${'k'.repeat(Math.floor(r() * 40))}`;
      if (r() < 0.55) {
        const id = d.intern(key);
        const m = model.get(key);
        if (m) expect(id).toBe(m.id);
        d.addRef(id);
        model.set(key, { id, refs: (m?.refs ?? 0) + 1 });
      } else if (model.size > 0) {
        const m = model.get(key);
        if (!m) continue;
        const freed = d.release(m.id);
        m.refs--;
        expect(freed).toBe(m.refs === 0);
        if (m.refs === 0) model.delete(key);
      }
    }
    expect(d.size()).toBe(model.size);
    for (const [key, m] of model) {
      expect(d.find(key)).toBe(m.id);
      expect(d.key(m.id)).toBe(key);
    }
    expect(d.liveIds()).toEqual([...model.values()].map((m) => m.id).sort((a, b) => a - b));
  });

  it('restores ids and the free list so later ids are assigned as before', () => {
    const a = new SeriesDictionary();
    for (let i = 0; i < 10; i++) a.addRef(a.intern(`k${i}`));
    a.release(a.find('k3'));
    a.release(a.find('k7'));
    const b = new SeriesDictionary();
    for (const id of a.liveIds()) b.internAs(a.key(id), id);
    const alloc = a.allocationState();
    b.setFreeIds(alloc.freeIds, alloc.nextId);
    expect(b.intern('new-1')).toBe(a.intern('new-1'));
    expect(b.intern('new-2')).toBe(a.intern('new-2'));
    expect(b.intern('new-3')).toBe(a.intern('new-3'));
  });

  /** A dictionary after random interns, references and releases (ids freed and reused, arena garbage). */
  function churned(): { d: SeriesDictionary; model: Map<string, number> } {
    const d = new SeriesDictionary();
    const model = new Map<string, number>();
    const r = rng(4);
    for (let step = 0; step < 20_000; step++) {
      const key = `s-${Math.floor(r() * 2000)}${r() < 0.1 ? '-café' : ''}`;
      if (r() < 0.6) {
        d.addRef(d.intern(key));
        model.set(key, (model.get(key) ?? 0) + 1);
      } else if (model.has(key)) {
        d.release(d.find(key));
        const n = model.get(key)! - 1;
        if (n === 0) model.delete(key);
        else model.set(key, n);
      }
    }
    return { d, model };
  }

  it('round-trips as raw typed arrays: same keys, ids, reference counts, free list and later ids', () => {
    const { d: a, model } = churned();
    const w = new ByteWriter();
    a.writeRaw(w);
    const b = new SeriesDictionary();
    const r = new ByteReader(w.finish(), 'test');
    b.readRaw(r);
    expect(r.done()).toBe(true);
    expect(b.size()).toBe(a.size());
    for (const key of model.keys()) {
      expect(b.find(key)).toBe(a.find(key));
      expect(b.key(b.find(key))).toBe(key);
    }
    // Reference counts came along: releasing a key as often as it was referenced frees it in both.
    const [key, refs] = [...model][0]!;
    for (let i = 0; i < refs; i++) expect(b.release(b.find(key))).toBe(i === refs - 1);
    for (let i = 0; i < refs; i++) a.release(a.find(key));
    for (const k of ['new-1', 'new-2', 'new-3']) expect(b.intern(k)).toBe(a.intern(k));
  });

  it('reads version-1 entries (id, key) into the same dictionary', () => {
    const { d: a, model } = churned();
    const w = new ByteWriter();
    const ids = a.liveIds();
    w.u32(ids.length);
    for (const id of ids) w.u32(id).str(a.key(id));
    const b = new SeriesDictionary();
    b.readLive(new ByteReader(w.finish(), 'test'));
    const alloc = a.allocationState();
    b.setFreeIds(alloc.freeIds, alloc.nextId);
    for (const key of model.keys()) expect(b.find(key)).toBe(a.find(key));
    expect(b.intern('later')).toBe(a.intern('later'));
  });

  it('refuses corrupt raw bytes: an id out of range, a key outside the arena, bad UTF-8 in version 1', () => {
    const { d: a } = churned();
    const w = new ByteWriter();
    a.writeRaw(w);
    const good = w.finish();
    const view = new DataView(good.buffer, good.byteOffset, good.byteLength);
    // Header (5 words), free ids, then (id, hash) slots and 32 bytes of metadata per id.
    const nFree = view.getUint32(20, true);
    const slots = 24 + nFree * 4;
    const cap = view.getUint32(0, true);
    let slot = 0;
    while (view.getInt32(slots + slot * 8, true) === -1) slot++;
    const badId = good.slice();
    new DataView(badId.buffer).setInt32(slots + slot * 8, 1 << 29, true);
    expect(() => new SeriesDictionary().readRaw(new ByteReader(badId, 'snap'))).toThrow(CorruptStateError);
    // A key said to be 40 bytes long (so in the arena) at an offset past the arena's end.
    const id = view.getInt32(slots + slot * 8, true);
    const badOffset = good.slice();
    const meta = new DataView(badOffset.buffer).getInt32(slots + cap * 8 + id * 32 + 8, true);
    new DataView(badOffset.buffer).setInt32(slots + cap * 8 + id * 32 + 8, (meta & ~0xffff) | 40, true);
    new DataView(badOffset.buffer).setInt32(slots + cap * 8 + id * 32, 1 << 28, true);
    expect(() => new SeriesDictionary().readRaw(new ByteReader(badOffset, 'snap'))).toThrow(
      /outside the arena/,
    );
    const v1 = new ByteWriter().u32(1).u32(0).u32(2);
    const bytes = new Uint8Array([...v1.finish(), 0xc3, 0x28]);
    expect(() => new SeriesDictionary().readLive(new ByteReader(bytes, 'snap'))).toThrow(/not valid UTF-8/);
  });

  it('hands out the lowest free id, and gives back the per-id metadata of a peak once its ids are free', () => {
    const d = new SeriesDictionary();
    const id = (key: string): number => {
      const i = d.intern(key);
      d.addRef(i);
      return i;
    };
    for (let i = 0; i < 1000; i++) expect(id(`base-${i}`)).toBe(i);
    const small = d.bytes();
    // A peak: 100k more series, then all of them go away (in any order).
    const peak: number[] = [];
    for (let i = 0; i < 100_000; i++) peak.push(id(`peak-${i}`));
    const atPeak = d.bytes();
    const r = rng(5);
    for (let i = peak.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [peak[i], peak[j]] = [peak[j]!, peak[i]!];
    }
    for (const p of peak) expect(d.release(p)).toBe(true);
    expect(d.size()).toBe(1000);
    // The peak's metadata (12 bytes per id) and free ids are given back, not only its slot table.
    expect(d.bytes()).toBeLessThan(small + (atPeak - small) / 10);
    expect(d.allocationState()).toEqual({ freeIds: [], nextId: 1000 });
    for (let i = 0; i < 1000; i++) expect(d.find(`base-${i}`)).toBe(i);
    // Holes are filled lowest first.
    d.release(d.find('base-500'));
    d.release(d.find('base-7'));
    expect(id('again-1')).toBe(7);
    expect(id('again-2')).toBe(500);
    expect(id('again-3')).toBe(1000);
  });

  it('continues with the same ids after a snapshot taken with free ids left above the top', () => {
    const d = new SeriesDictionary();
    const ids: number[] = [];
    for (let i = 0; i < 3000; i++) {
      ids.push(d.intern(`k-${i}`));
      d.addRef(ids[i]!);
    }
    // Free 1600 low ids, then the top 1000: those stay in the heap, stale (fewer than half of it).
    for (let i = 0; i < 1600; i++) d.release(ids[i]!);
    for (let i = 2999; i >= 2000; i--) d.release(ids[i]!);
    const alloc = d.allocationState();
    expect(alloc.nextId).toBe(2000);
    expect(alloc.freeIds).toEqual(Array.from({ length: 1600 }, (_, i) => i));
    const w = new ByteWriter();
    d.writeRaw(w);
    const back = new SeriesDictionary();
    back.readRaw(new ByteReader(w.finish(), 'test'));
    // Past the free ids, fresh ones follow the top: never a stale id handed out twice.
    const next = Array.from({ length: 2603 }, (_, i) => `n-${i}`);
    const got = next.map((k) => d.intern(k));
    expect(next.map((k) => back.intern(k))).toEqual(got);
    expect(got.slice(1598, 1603)).toEqual([1598, 1599, 2000, 2001, 2002]);
    expect(got.at(-1)).toBe(3002);
    expect(new Set(got).size).toBe(got.length);
    for (let i = 1600; i < 2000; i++) expect(d.find(`k-${i}`)).toBe(ids[i]);
  });

  it('refuses a free list that repeats an id or names a live one', () => {
    const d = new SeriesDictionary();
    for (let i = 0; i < 10; i++) d.addRef(d.intern(`k${i}`));
    d.release(d.find('k3'));
    d.release(d.find('k5'));
    const w = new ByteWriter();
    d.writeRaw(w);
    const good = w.finish();
    const view = new DataView(good.buffer, good.byteOffset, good.byteLength);
    expect(view.getUint32(20, true)).toBe(2);
    expect([view.getUint32(24, true), view.getUint32(28, true)]).toEqual([3, 5]);
    const read = (bytes: Uint8Array) => () => new SeriesDictionary().readRaw(new ByteReader(bytes, 'snap'));
    expect(read(good)).not.toThrow();
    const twice = good.slice();
    new DataView(twice.buffer).setUint32(28, 3, true);
    expect(read(twice)).toThrow(/free id 3 is listed twice/);
    const live = good.slice();
    new DataView(live.buffer).setUint32(28, d.find('k7'), true);
    expect(read(live)).toThrow(/free id \d+ has a key or references/);
  });

  it('reads the layout engine snapshots 2–5 wrote (ids in the slots, three words an id, every key in the arena)', () => {
    // Written here from its description: keys of 1, 16 (the longest kept in the metadata), 17
    // bytes and a non-ASCII one, id 3 free, the arena in another order than the ids with a gap.
    const keys = ['a', 'sixteen-bytes-16', 'seventeen-bytes-7', '', 'gerät'];
    const bytes = keys.map((k) => Buffer.from(k, 'utf8'));
    const arenaOrder = [4, 2, 0, 1];
    const offsets = new Map<number, number>();
    let arenaUsed = 3; // three bytes of garbage first
    for (const id of arenaOrder) {
      offsets.set(id, arenaUsed);
      arenaUsed += bytes[id]!.length;
    }
    const cap = 16;
    const hashOf = (b: Buffer): number => {
      let h = 0x811c9dc5;
      for (const x of b) h = Math.imul(h ^ x, 0x01000193);
      return mixHash(h);
    };
    const slots = new Int32Array(cap).fill(-1);
    for (const id of arenaOrder) {
      let i = Math.floor(((hashOf(bytes[id]!) >>> 0) / 2 ** 32) * cap);
      while (slots[i] !== -1) i = (i + 1) % cap;
      slots[i] = id;
    }
    const w = new ByteWriter().u32(cap).u32(4).u32(5).u32(arenaUsed).u32(3).u32(1).u32(3);
    for (const id of slots) w.i32(id);
    for (let id = 0; id < 5; id++) {
      if (id === 3) w.i32(-1).i32(0).i32(0);
      else
        w.i32(offsets.get(id)!)
          .i32(hashOf(bytes[id]!))
          .i32(bytes[id]!.length | ((id + 1) << 16));
    }
    w.raw(new Uint8Array([7, 7, 7]), 3);
    for (const id of arenaOrder) w.raw(bytes[id]!, bytes[id]!.length);
    const d = new SeriesDictionary();
    d.readRaw(new ByteReader(w.finish(), 'snap'), 'three-words');
    expect(d.size()).toBe(4);
    for (const id of [0, 1, 2, 4]) {
      expect(d.find(keys[id]!)).toBe(id);
      expect(d.key(id)).toBe(keys[id]);
      expect(d.refsWord(id) >>> 16).toBe(id + 1);
    }
    expect(d.find('')).toBe(-1);
    // The free id is handed out first; then the dictionary goes on in this version's layout.
    expect(d.intern('new')).toBe(3);
    const again = new ByteWriter();
    d.writeRaw(again);
    const back = new SeriesDictionary(null);
    back.readRaw(new ByteReader(again.finish(), 'snap'));
    for (const [id, key] of [...keys.entries()].filter(([id]) => id !== 3)) expect(back.find(key)).toBe(id);
    expect(back.find('new')).toBe(3);
    // A key outside the arena is refused in this layout too.
    const bad = new ByteWriter().u32(cap).u32(1).u32(1).u32(4).u32(0).u32(0);
    const badSlots = new Int32Array(cap).fill(-1);
    badSlots[0] = 0;
    for (const id of badSlots) bad.i32(id);
    bad
      .i32(2)
      .i32(0)
      .i32(5 | (1 << 16));
    bad.raw(new Uint8Array(4), 4);
    expect(() => new SeriesDictionary().readRaw(new ByteReader(bad.finish(), 'snap'), 'three-words')).toThrow(
      /outside the arena/,
    );
  });

  it('shrinks its slot table after a peak, keeping every live key and id', () => {
    const d = new SeriesDictionary();
    const ids = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const key = `peak-${i}`;
      const id = d.intern(key);
      d.addRef(id);
      ids.set(key, id);
    }
    const atPeak = d.bytes();
    for (let i = 0; i < 20_000; i++) if (i % 100 !== 0) expect(d.release(ids.get(`peak-${i}`)!)).toBe(true);
    expect(d.size()).toBe(200);
    // The slot table of the peak (~236 KB) is given back, less the free-id list's growth (~131 KB;
    // the metadata of ids 0..19900 stays, their keys in it): without shrinking, the bytes would grow.
    expect(atPeak - d.bytes()).toBeGreaterThan(50_000);
    for (let i = 0; i < 20_000; i += 100) expect(d.find(`peak-${i}`)).toBe(ids.get(`peak-${i}`));
    expect(d.find('peak-1')).toBe(-1);
    const w = new ByteWriter();
    d.writeRaw(w);
    const back = new SeriesDictionary();
    back.readRaw(new ByteReader(w.finish(), 'test'));
    for (let i = 0; i < 20_000; i += 100) expect(back.find(`peak-${i}`)).toBe(ids.get(`peak-${i}`));
  });
});
