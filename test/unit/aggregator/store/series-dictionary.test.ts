import { describe, expect, it } from 'vitest';
import { SeriesDictionary } from '../../../../aggregator/store/series-dictionary.js';
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
});
