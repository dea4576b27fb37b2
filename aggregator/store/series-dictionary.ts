const EMPTY = -1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Series key → dense int id, in typed storage: key bytes (UTF-8) in one arena, per-id columns
 * (offset, length, hash, reference count) and an open-addressing table of ids (linear probing,
 * load ≤ 0.5). A JS Map<string, number> would cost ~60 bytes per key plus the retained string;
 * this costs the key bytes + ~22.
 *
 * Ids are reference-counted by the window rows that use them; an id whose count drops to zero
 * is freed (its slot deleted by backward shift, the id reused LIFO), so the dictionary holds only
 * live series. Id assignment depends only on the sequence of calls: deterministic.
 */
export class SeriesDictionary {
  private arena = new Uint8Array(1 << 12);
  private arenaUsed = 0;
  /** Arena bytes of freed keys (compacted away when they exceed half the arena). */
  private arenaGarbage = 0;
  private offsets = new Int32Array(256);
  private lengths = new Uint16Array(256);
  private hashes = new Int32Array(256);
  private refs = new Int32Array(256);
  private slots = new Int32Array(512).fill(EMPTY);
  private mask = 511;
  private nextId = 0;
  private freeIds: number[] = [];
  private live = 0;
  private scratch = new Uint8Array(256);

  /** Live series (ids in use). */
  size(): number {
    return this.live;
  }

  /** Bytes of typed storage held. */
  bytes(): number {
    return (
      this.arena.byteLength +
      this.offsets.byteLength +
      this.lengths.byteLength +
      this.hashes.byteLength +
      this.refs.byteLength +
      this.slots.byteLength +
      this.freeIds.length * 8
    );
  }

  /**
   * Encodes `key` into the scratch buffer and returns its byte length; the hash is FNV-1a over
   * the UTF-8 bytes. ASCII keys (the common case) skip the encoder.
   */
  private encode(key: string): number {
    const n = key.length;
    if (this.scratch.length < n * 3) this.scratch = new Uint8Array(n * 3 + 16);
    const s = this.scratch;
    for (let i = 0; i < n; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) return encoder.encodeInto(key, s).written;
      s[i] = c;
    }
    return n;
  }

  private static hash(bytes: Uint8Array, n: number): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < n; i++) {
      h ^= bytes[i]!;
      h = Math.imul(h, 0x01000193);
    }
    // Final avalanche so linear probing sees well-spread low bits.
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    return h | 0;
  }

  private equals(id: number, bytes: Uint8Array, n: number): boolean {
    if (this.lengths[id] !== n) return false;
    const a = this.arena;
    const off = this.offsets[id]!;
    for (let i = 0; i < n; i++) if (a[off + i] !== bytes[i]) return false;
    return true;
  }

  /** The id of `key`, or -1. */
  find(key: string): number {
    const n = this.encode(key);
    const h = SeriesDictionary.hash(this.scratch, n);
    let i = h & this.mask;
    for (;;) {
      const id = this.slots[i]!;
      if (id === EMPTY) return -1;
      if (this.hashes[id] === h && this.equals(id, this.scratch, n)) return id;
      i = (i + 1) & this.mask;
    }
  }

  /** The id of `key`, inserting it (with zero references) when absent. */
  intern(key: string): number {
    return this.internAt(key, -1);
  }

  /** Inserts `key` under a given id (restore from a snapshot, before {@link setFreeIds}). */
  internAs(key: string, id: number): void {
    if (this.internAt(key, id) !== id) {
      throw new RangeError(`series key ${JSON.stringify(key)} is already in the dictionary`);
    }
  }

  private internAt(key: string, forcedId: number): number {
    const n = this.encode(key);
    if (n > 0xffff) throw new RangeError(`series key of ${n} bytes exceeds 65535; shorten the key fields`);
    const bytes = this.scratch;
    const h = SeriesDictionary.hash(bytes, n);
    let i = h & this.mask;
    for (;;) {
      const id = this.slots[i]!;
      if (id === EMPTY) break;
      if (this.hashes[id] === h && this.equals(id, bytes, n)) return id;
      i = (i + 1) & this.mask;
    }
    let id: number;
    if (forcedId >= 0) {
      id = forcedId;
      if (id >= this.nextId) this.nextId = id + 1;
    } else {
      id = this.freeIds.length > 0 ? this.freeIds.pop()! : this.nextId++;
    }
    while (id >= this.offsets.length) this.growColumns();
    if (this.arenaUsed + n > this.arena.length) this.growArena(n);
    this.arena.set(bytes.subarray(0, n), this.arenaUsed);
    this.offsets[id] = this.arenaUsed;
    this.lengths[id] = n;
    this.hashes[id] = h;
    this.refs[id] = 0;
    this.arenaUsed += n;
    this.slots[i] = id;
    this.live++;
    if (this.live * 2 > this.mask + 1) this.rehash((this.mask + 1) * 2);
    return id;
  }

  /** Sets the free-id stack (restore from a snapshot), so later ids are assigned as before. */
  setFreeIds(ids: readonly number[], nextId: number): void {
    this.freeIds = [...ids];
    this.nextId = nextId;
  }

  /** Free-id stack and next fresh id (for a snapshot). */
  allocationState(): { freeIds: number[]; nextId: number } {
    return { freeIds: [...this.freeIds], nextId: this.nextId };
  }

  key(id: number): string {
    const off = this.offsets[id]!;
    const n = this.lengths[id]!;
    const a = this.arena;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (a[off + i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (!ascii) return decoder.decode(a.subarray(off, off + n));
    let s = '';
    for (let i = 0; i < n; i += 4096) {
      s += String.fromCharCode.apply(
        null,
        a.subarray(off + i, off + Math.min(n, i + 4096)) as unknown as number[],
      );
    }
    return s;
  }

  addRef(id: number): void {
    this.refs[id] = this.refs[id]! + 1;
  }

  /** Drops one reference; frees the id when none remain. Returns true when freed. */
  release(id: number): boolean {
    const r = this.refs[id]! - 1;
    this.refs[id] = r;
    if (r > 0) return false;
    this.remove(id);
    return true;
  }

  /** Ids in use, ascending. */
  liveIds(): number[] {
    const out: number[] = [];
    for (let i = 0; i <= this.mask; i++) if (this.slots[i] !== EMPTY) out.push(this.slots[i]!);
    return out.sort((a, b) => a - b);
  }

  private remove(id: number): void {
    const mask = this.mask;
    let i = this.hashes[id]! & mask;
    while (this.slots[i] !== id) i = (i + 1) & mask;
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const other = this.slots[j]!;
      if (other === EMPTY) break;
      const home = this.hashes[other]! & mask;
      // Move `other` into the hole at i unless its home lies cyclically in (i, j].
      const inRange = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!inRange) {
        this.slots[i] = other;
        i = j;
      }
    }
    this.slots[i] = EMPTY;
    this.arenaGarbage += this.lengths[id]!;
    this.freeIds.push(id);
    this.live--;
    if (this.arenaGarbage * 2 > this.arenaUsed && this.arenaUsed > 1 << 16) this.compactArena();
  }

  private growColumns(): void {
    const cap = this.offsets.length * 2;
    const grow = <T extends Int32Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.offsets = grow(this.offsets, (n) => new Int32Array(n));
    this.lengths = grow(this.lengths, (n) => new Uint16Array(n));
    this.hashes = grow(this.hashes, (n) => new Int32Array(n));
    this.refs = grow(this.refs, (n) => new Int32Array(n));
  }

  private growArena(need: number): void {
    let cap = this.arena.length * 2;
    while (cap < this.arenaUsed + need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.arena.subarray(0, this.arenaUsed));
    this.arena = next;
  }

  private compactArena(): void {
    const next = new Uint8Array(this.arena.length);
    let used = 0;
    for (let s = 0; s <= this.mask; s++) {
      const id = this.slots[s]!;
      if (id === EMPTY) continue;
      const off = this.offsets[id]!;
      const n = this.lengths[id]!;
      next.set(this.arena.subarray(off, off + n), used);
      this.offsets[id] = used;
      used += n;
    }
    this.arena = next;
    this.arenaUsed = used;
    this.arenaGarbage = 0;
  }

  private rehash(capacity: number): void {
    const old = this.slots;
    this.slots = new Int32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
    for (let s = 0; s < old.length; s++) {
      const id = old[s]!;
      if (id === EMPTY) continue;
      let i = this.hashes[id]! & this.mask;
      while (this.slots[i] !== EMPTY) i = (i + 1) & this.mask;
      this.slots[i] = id;
    }
  }
}
