import { type ByteReader, type ByteWriter, CorruptStateError } from '../codec/byte-io.js';
import { latin1String, type SliceableBuffer } from '../codec/latin1-string.js';
import {
  type ArrayLengths,
  type DictionaryArrays,
  type DictionaryMemory,
  HeapMemory,
  type KernelLookup,
  KernelMemory,
} from './dictionary-memory.js';
import { IdHeap } from './id-heap.js';
import {
  DICTIONARY_LAYOUT,
  KERNEL_IO,
  type KeyLookupKernel,
  keyLookupKernel,
  LOOKUP_CHUNK,
} from './key-lookup-kernel.js';

const EMPTY = -1;
/**
 * Int32s per id: [arena offset (-1: free), hash, length | refs << 16, 0, then the key's bytes
 * when it has at most {@link INLINE} of them]. 32 bytes: with the metadata on a 64-byte boundary
 * an id's never spans two cache lines, and a lookup of a short key reads its slot and this only.
 */
const META = DICTIONARY_LAYOUT.metaBytes / 4;
/** Keys of at most this many bytes live in their id's metadata (words 4–7), longer ones in the arena. */
const INLINE = DICTIONARY_LAYOUT.inline;
/** Byte offset of the inline key in an id's metadata. */
const INLINE_AT = DICTIONARY_LAYOUT.inlineAt;
/** Int32s per id in snapshots of engine versions 2–5: [arena offset (-1: free), hash, length | refs << 16] (every key in the arena). */
const SNAPSHOT_META = 3;
/** Int32s per hash slot: [id (EMPTY: none), the id's key hash]. */
const SLOT = 2;
const TWO_TO_MINUS_32 = 2 ** -32;
const MAX_LOAD = 0.75;
/** Growth factor of the arena and the per-id metadata: small steps, little slack (copies stay amortized O(1)). */
const GROWTH = 1.25;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Series key → dense int id, in typed storage: per-id metadata interleaved in one Int32Array
 * ([offset, hash, length | refs << 16, 0, the key's bytes when it has at most 16]: 32 bytes, one
 * cache line), the bytes (UTF-8) of longer keys in one arena, and an open-addressing table of
 * (id, hash) pairs (linear probing, any capacity via multiply-shift, load ≤ 0.75). Each slot
 * carries its id's hash, so a probe passes the other keys of its chain without reading their
 * metadata; a short key is compared where its metadata is. At a million keys each of those reads
 * is a cache miss: a lookup of a short key takes two (its slot, its metadata). A JS
 * Map<string, number> costs ~60 bytes per key plus the retained string; this costs ~50 (a short
 * key: 32 of metadata, 8 per slot at a load of 0.5–0.75, growth slack) or the key's bytes + ~50.
 *
 * Ids are reference-counted by the window rows that use them; an id whose count drops to zero
 * is freed (its slot deleted by backward shift), so the dictionary holds only live series. Free
 * ids are reused lowest first, so after a peak the ids in use gather at the bottom and the top of
 * the id space (its metadata, its free-id entries) is given back as it empties. Id assignment
 * depends only on the sequence of calls: deterministic.
 *
 * Once the WebAssembly key lookup is loaded (`loadKeyLookupKernel`, as a worker does), the three
 * arrays live in a WebAssembly memory and a chunk of keys is looked up there in one call
 * ({@link prefetch}): the same ids, hashes and snapshots, at about half the CPU per lookup.
 */
export class SeriesDictionary {
  /** Where the arrays live: the JavaScript heap, or the lookup kernel's memory. */
  private readonly memory: DictionaryMemory;
  private arena: Uint8Array;
  /** The arena's bytes as a Buffer (same memory): ASCII keys are read back with `latin1String`. */
  private arenaText: SliceableBuffer;
  private arenaUsed = 0;
  /** Arena bytes of freed keys (compacted away when they exceed half the arena). */
  private arenaGarbage = 0;
  private meta: Int32Array;
  /** The metadata's bytes (same memory): short keys are read from here. */
  private metaBytes: Uint8Array;
  private metaText: SliceableBuffer;
  private slots: Int32Array;
  private cap = 512;
  private nextId = 0;
  /** Free ids below `nextId`, lowest handed out first; may also hold ids ≥ `nextId` (stale, never handed out). */
  private freeIds = new IdHeap();
  /** Ids in `freeIds` at or above `nextId` (left there when the top of the id space was given back). */
  private staleFree = 0;
  private live = 0;
  private scratch = new Uint8Array(256);
  /** Home slots of a prefetched chunk's keys. */
  private homes = new Int32Array(64);
  /** Ids freed so far: a {@link prefetch}'s exact ids hold while this is unchanged. */
  removals = 0;

  /**
   * @param kernel the WebAssembly lookup (default: the process's, once `loadKeyLookupKernel`
   *   has resolved); null keeps the arrays in JavaScript and looks keys up there. Ids, hashes and
   *   snapshots are the same either way.
   */
  constructor(kernel: KeyLookupKernel | null = keyLookupKernel()) {
    this.memory = kernel ? new KernelMemory(kernel) : new HeapMemory();
    const a = this.memory.resize(null, { slots: 512 * SLOT, meta: 256 * META, arena: 1 << 12 });
    for (let i = 0; i < 512; i++) a.slots[i * SLOT] = EMPTY;
    this.slots = a.slots;
    this.meta = a.meta;
    this.metaBytes = bytesOf(a.meta);
    this.metaText = asText(this.metaBytes);
    this.arena = a.arena;
    this.arenaText = asText(a.arena);
  }

  /**
   * True when {@link prefetch} fills `ids` with each key's own id (or -1: absent), looked up in
   * WebAssembly, rather than with a likely one.
   */
  get exactPrefetch(): boolean {
    return this.memory.kernel !== null;
  }

  /** Gives the arrays named in `lengths` new (zeroed) storage; returns the old arrays (still readable). */
  private resize(lengths: ArrayLengths): DictionaryArrays {
    const old = { slots: this.slots, meta: this.meta, arena: this.arena };
    const a = this.memory.resize(old, lengths);
    this.slots = a.slots;
    if (a.meta !== this.meta) {
      this.meta = a.meta;
      this.metaBytes = bytesOf(a.meta);
      this.metaText = asText(this.metaBytes);
    }
    this.arena = a.arena;
    this.arenaText = asText(a.arena);
    return old;
  }

  /** Live series (ids in use). */
  size(): number {
    return this.live;
  }

  /** Ids handed out so far and not given back: every id in use is below this. */
  idSpace(): number {
    return this.nextId;
  }

  /** Bytes of typed storage held. */
  bytes(): number {
    return (
      this.memory.bytes({ slots: this.slots, meta: this.meta, arena: this.arena }) + this.freeIds.bytes()
    );
  }

  /** Encodes `key` into the scratch buffer and returns its byte length; ASCII keys skip the encoder. */
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

  /** FNV-1a over the bytes, then an avalanche so multiply-shift sees well-mixed high bits. */
  private static hash(bytes: Uint8Array, n: number): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < n; i++) {
      h ^= bytes[i]!;
      h = Math.imul(h, 0x01000193);
    }
    return mixHash(h);
  }

  /** Home slot of a hash: ⌊h · cap / 2^32⌋ (any capacity, no power of two needed). */
  private home(h: number): number {
    // h · 2^-32 is exact, as h / 2^32 is: the same slot, a product where a division takes longer.
    const i = Math.floor((h >>> 0) * TWO_TO_MINUS_32 * this.cap);
    return i < this.cap ? i : 0;
  }

  /**
   * Hash of a key: FNV-1a over its UTF-8 bytes, then an avalanche. ASCII keys (the common case)
   * are hashed straight from the string's char codes; others are encoded into the scratch buffer
   * first (`scratchLength` ≥ 0 tells which).
   */
  private hashKey(key: string): number {
    let h = 0x811c9dc5;
    const n = key.length;
    for (let i = 0; i < n; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) {
        this.scratchLength = this.encode(key);
        return SeriesDictionary.hash(this.scratch, this.scratchLength);
      }
      h = Math.imul(h ^ c, 0x01000193);
    }
    this.scratchLength = -1;
    return mixHash(h);
  }

  /** Byte length of the key last hashed when it was not ASCII; -1 for ASCII. */
  private scratchLength = -1;

  /** The array holding the bytes of a key of `len` bytes: its metadata's, or the arena. */
  private keyArray(len: number): Uint8Array {
    return len <= INLINE ? this.metaBytes : this.arena;
  }

  /** Where in {@link keyArray} the bytes of the key of `len` bytes whose metadata starts at word `b` are. */
  private keyAt(b: number, len: number): number {
    return len <= INLINE ? b * 4 + INLINE_AT : this.meta[b]!;
  }

  /** True when id's key equals `key` (hash `h`, last passed to {@link hashKey}). */
  private matches(id: number, h: number, key: string): boolean {
    const m = this.meta;
    const b = id * META;
    if (m[b + 1] !== h) return false;
    const len = m[b + 2]! & 0xffff;
    const a = this.keyArray(len);
    const off = this.keyAt(b, len);
    if (this.scratchLength < 0) {
      const n = key.length;
      if (len !== n) return false;
      for (let i = 0; i < n; i++) if (a[off + i] !== key.charCodeAt(i)) return false;
      return true;
    }
    const n = this.scratchLength;
    if (len !== n) return false;
    const s = this.scratch;
    for (let i = 0; i < n; i++) if (a[off + i] !== s[i]) return false;
    return true;
  }

  /** The id of `key`, or -1. */
  find(key: string): number {
    const h = this.hashKey(key);
    const slots = this.slots;
    let i = this.home(h);
    for (;;) {
      const id = slots[i * SLOT]!;
      if (id === EMPTY) return -1;
      if (slots[i * SLOT + 1] === h && this.matches(id, h, key)) return id;
      if (++i === this.cap) i = 0;
    }
  }

  /** The id of `key`, inserting it (with zero references) when absent. */
  intern(key: string): number {
    return this.internAt(this.hashKey(key), key);
  }

  /**
   * {@link intern} of an ASCII key whose hash {@link prefetch} computed (`hashes[j]` where
   * `ascii[j]` is 1): the same id, without hashing the key again.
   */
  internHashed(key: string, h: number): number {
    this.scratchLength = -1;
    return this.internAt(h, key);
  }

  /**
   * Reads, for `keys[0..n)`, what {@link intern} will read (each key's probe chain in the slots up
   * to the slot with its hash, that id's metadata, and the start of its key bytes when they are in
   * the arena), one stage at a time over all the keys, so that the loads of different keys do not
   * wait for each other: at a million keys each is a cache and TLB miss, ~240 ns when taken one
   * after another and ~25 ns when overlapped. Changes nothing. Fills `hashes[j]` with the key's
   * hash, `ascii[j]` with 1 when it may be passed to {@link internHashed}, and `ids[j]` with the
   * first id on its probe chain with the same hash (-1: none; most likely the key's own id).
   * Returns a value computed from the loads (so the compiler keeps them).
   *
   * With the WebAssembly kernel ({@link exactPrefetch}), the keys' bytes are looked up there
   * instead, and `ids[j]` is key j's own id or -1 when it is absent (`ascii[j]` 1).
   */
  prefetch(
    keys: readonly KeySource[],
    from: number,
    n: number,
    hashes: Int32Array,
    ascii: Uint8Array,
    ids: Int32Array,
  ): number {
    const kernel = this.memory.kernel;
    if (kernel !== null && n <= LOOKUP_CHUNK)
      return this.lookupInKernel(kernel, keys, from, n, hashes, ascii, ids);
    // Each stage is a loop of loads only, so that many of them are in flight at once; a loop
    // that also hashed would keep only a few (the CPU overlaps the loads of the iterations its
    // reorder window holds).
    if (this.homes.length < n) this.homes = new Int32Array(n);
    const homes = this.homes;
    for (let j = 0; j < n; j++) {
      const h = this.hashKey(keys[from + j]!.seriesKey);
      hashes[j] = h;
      ascii[j] = this.scratchLength < 0 ? 1 : 0;
      homes[j] = this.home(h);
    }
    const slots = this.slots;
    for (let j = 0; j < n; j++) ids[j] = slots[homes[j]! * SLOT]!;
    // The id in the home slot is this key's about half the time at these loads; each probe chain
    // is followed (neighbouring slots, the same cache line mostly) to the id whose hash matches,
    // then the metadata of those ids is loaded for all the keys.
    const cap = this.cap;
    for (let j = 0; j < n; j++) {
      let id = ids[j]!;
      const h = hashes[j]!;
      let i = homes[j]!;
      while (id >= 0 && slots[i * SLOT + 1] !== h) {
        if (++i === cap) i = 0;
        id = slots[i * SLOT]!;
      }
      ids[j] = id;
    }
    const meta = this.meta;
    let sink = 0;
    for (let j = 0; j < n; j++) {
      const id = ids[j]!;
      if (id >= 0) sink ^= meta[id * META]!;
    }
    const arena = this.arena;
    for (let j = 0; j < n; j++) {
      const id = ids[j]!;
      if (id >= 0 && (meta[id * META + 2]! & 0xffff) > INLINE) sink ^= arena[meta[id * META]!]!;
    }
    return sink;
  }

  /**
   * {@link prefetch} in the WebAssembly kernel: the keys' bytes are written into its I/O area and
   * looked up there (hash, probe, compare), so `ids[j]` is key j's own id, or -1 when it is absent.
   * A key that is not ASCII or does not fit the area gets `ascii[j]` 0 and is left to {@link intern}.
   */
  private lookupInKernel(
    kernel: KernelLookup,
    keys: readonly KeySource[],
    from: number,
    n: number,
    hashes: Int32Array,
    ascii: Uint8Array,
    ids: Int32Array,
  ): number {
    const io = kernel.io;
    const bytes = io.keys;
    const room = bytes.length;
    let at = 0;
    for (let j = 0; j < n; j++) {
      const source = keys[from + j]!;
      const src = source.keyBytes;
      io.offsets[j] = KERNEL_IO.keys + at;
      let ok: number;
      let len: number;
      if (src) {
        // ASCII bytes (KeyedRecord): copied as they are, four at a time (each byte's loop step
        // and bounds checks cost more than its copy; ~20 against ~32 ns for a 14-byte key).
        let i = source.keyStart!;
        const end = source.keyEnd!;
        len = end - i;
        ok = at + len <= room ? 1 : 0;
        if (ok === 1) {
          let to = at;
          for (; i + 4 <= end; i += 4, to += 4) {
            bytes[to] = src[i]!;
            bytes[to + 1] = src[i + 1]!;
            bytes[to + 2] = src[i + 2]!;
            bytes[to + 3] = src[i + 3]!;
          }
          for (; i < end; i++) bytes[to++] = src[i]!;
        }
      } else {
        const key = source.seriesKey;
        len = key.length;
        ok = at + len <= room ? 1 : 0;
        for (let i = 0; ok === 1 && i < len; i++) {
          const c = key.charCodeAt(i);
          if (c >= 0x80) ok = 0;
          else bytes[at + i] = c;
        }
      }
      io.lengths[j] = ok === 1 ? len : 0;
      if (ok === 1) at += len;
      ascii[j] = ok;
    }
    const sink = kernel.lookup(n, this.cap);
    for (let j = 0; j < n; j++) {
      hashes[j] = io.hashes[j]!;
      ids[j] = ascii[j] === 1 ? io.ids[j]! : -1;
    }
    return sink;
  }

  private internAt(h: number, key: string): number {
    const slots = this.slots;
    let i = this.home(h);
    for (;;) {
      const id = slots[i * SLOT]!;
      if (id === EMPTY) return this.insertAt(i, h, key, -1);
      if (slots[i * SLOT + 1] === h && this.matches(id, h, key)) return id;
      if (++i === this.cap) i = 0;
    }
  }

  /** Inserts `key` under a given id (restore from a snapshot, before {@link setFreeIds}). */
  internAs(key: string, id: number): void {
    const h = this.hashKey(key);
    let i = this.home(h);
    for (;;) {
      const other = this.slots[i * SLOT]!;
      if (other === EMPTY) break;
      if (this.slots[i * SLOT + 1] === h && this.matches(other, h, key))
        throw new RangeError(`series key ${JSON.stringify(key)} is already in the dictionary`);
      if (++i === this.cap) i = 0;
    }
    this.insertAt(i, h, key, id);
  }

  private insertAt(slot: number, h: number, key: string, forcedId: number): number {
    let n = this.scratchLength;
    if (n < 0) {
      n = key.length;
      if (this.scratch.length < n) this.scratch = new Uint8Array(n + 16);
      for (let k = 0; k < n; k++) this.scratch[k] = key.charCodeAt(k);
    }
    if (n > 0xffff) throw new RangeError(`series key of ${n} bytes exceeds 65535; shorten the key fields`);
    let id: number;
    if (forcedId >= 0) {
      id = forcedId;
      if (id >= this.nextId) this.nextId = id + 1;
    } else {
      id = this.takeId();
    }
    while ((id + 1) * META > this.meta.length) this.growMeta();
    const b = id * META;
    const bytes = this.scratch.subarray(0, n);
    if (n <= INLINE) {
      this.meta[b] = 0;
      this.metaBytes.set(bytes, b * 4 + INLINE_AT);
    } else {
      if (this.arenaUsed + n > this.arena.length) this.growArena(n);
      this.arena.set(bytes, this.arenaUsed);
      this.meta[b] = this.arenaUsed;
      this.arenaUsed += n;
    }
    this.meta[b + 1] = h;
    this.meta[b + 2] = n;
    this.slots[slot * SLOT] = id;
    this.slots[slot * SLOT + 1] = h;
    this.live++;
    if (this.live > this.cap * MAX_LOAD) this.rehash(Math.ceil(this.cap * 1.5));
    return id;
  }

  /** The lowest free id, else a fresh one. */
  private takeId(): number {
    const free = this.freeIds;
    if (free.size() > 0) {
      if (free.peek() < this.nextId) return free.popMin();
      // The lowest is stale, so all are.
      this.freeIds = new IdHeap();
      this.staleFree = 0;
    }
    return this.nextId++;
  }

  /**
   * Sets the free ids (restore from a snapshot, after the live keys), so later ids are assigned as
   * before: the lowest free one first (snapshots written when ids were reused last-freed-first are
   * read the same way). Throws {@link CorruptStateError} for an id out of range, listed twice or in
   * use: handing it out would give two series one id.
   */
  setFreeIds(ids: readonly number[], nextId: number): void {
    while (this.meta.length < nextId * META) this.growMeta();
    // Freed ids have no key and no references; every live one has its key.
    const sorted = Int32Array.from(ids).sort();
    for (let k = 0; k < sorted.length; k++) {
      const id = sorted[k]!;
      if (id < 0 || id >= nextId) corrupt(`free id ${id}, next id is ${nextId}`);
      if (k > 0 && id === sorted[k - 1]) corrupt(`free id ${id} is listed twice`);
      if (this.meta[id * META + 2] !== 0) corrupt(`free id ${id} has a key or references`);
    }
    for (const id of ids) this.meta[id * META] = -1;
    this.freeIds = IdHeap.of(ids);
    this.staleFree = 0;
    this.nextId = nextId;
  }

  /** Free ids (ascending) and next fresh id (for a snapshot). */
  allocationState(): { freeIds: number[]; nextId: number } {
    return { freeIds: this.liveFreeIds(), nextId: this.nextId };
  }

  /** The free ids below `nextId`, ascending. */
  private liveFreeIds(): number[] {
    return this.freeIds
      .toArray()
      .filter((id) => id < this.nextId)
      .sort((a, b) => a - b);
  }

  key(id: number): string {
    const b = id * META;
    const n = this.meta[b + 2]! & 0xffff;
    const off = this.keyAt(b, n);
    const a = this.keyArray(n);
    for (let i = 0; i < n; i++) {
      if (a[off + i]! >= 0x80) return decoder.decode(a.subarray(off, off + n));
    }
    // One flat one-byte string straight from the bytes (no intermediate array or rope).
    return latin1String(n <= INLINE ? this.metaText : this.arenaText, off, off + n);
  }

  /**
   * Reads what {@link key} and {@link release} of `ids[0..n)` will (each id's metadata, then the
   * bytes of a key too long to be in it), one stage over all of them, so the misses overlap (see
   * prefetch). Changes nothing; returns a value computed from the loads.
   */
  touchKeys(ids: Int32Array, n: number): number {
    const meta = this.meta;
    const arena = this.arena;
    let sink = 0;
    for (let j = 0; j < n; j++) sink ^= meta[ids[j]! * META + 2]!;
    for (let j = 0; j < n; j++) {
      const b = ids[j]! * META;
      const len = meta[b + 2]! & 0xffff;
      // First and last byte: the key may span two cache lines, and a line missed later is a
      // miss waited for alone.
      if (len > INLINE) sink ^= arena[meta[b]!]! ^ arena[meta[b]! + len - 1]!;
    }
    return sink;
  }

  /** The metadata word {@link addRef} and {@link release} update (for reading ahead). */
  refsWord(id: number): number {
    return this.meta[id * META + 2]!;
  }

  /** Adds one reference (a window row of this series). */
  addRef(id: number): void {
    const b = id * META + 2;
    const v = this.meta[b]!;
    if (v >>> 16 === 0xffff)
      throw new RangeError(`series ${JSON.stringify(this.key(id))} is in 65535 open windows`);
    this.meta[b] = v + 0x10000;
  }

  /** Drops one reference; frees the id when none remain. Returns true when freed. */
  release(id: number): boolean {
    const b = id * META + 2;
    const v = this.meta[b]! - 0x10000;
    this.meta[b] = v;
    if (v >>> 16 > 0) return false;
    this.remove(id);
    return true;
  }

  /** Ids in use, ascending. */
  liveIds(): number[] {
    return Array.from(this.liveIdArray());
  }

  private liveIdArray(): Int32Array {
    const out = new Int32Array(this.live);
    let k = 0;
    for (let i = 0; i < this.cap; i++) {
      const id = this.slots[i * SLOT]!;
      if (id !== EMPTY) out[k++] = id;
    }
    return out.sort();
  }

  /**
   * Writes the whole dictionary as its typed arrays as they are in memory ((id, hash) slots, per-id
   * metadata with reference counts and short keys, the arena of long keys, free ids): restoring
   * it is a copy, not a rebuild ({@link readRaw}).
   */
  writeRaw(w: ByteWriter): void {
    w.u32(this.cap).u32(this.live).u32(this.nextId).u32(this.arenaUsed).u32(this.arenaGarbage);
    const free = this.liveFreeIds();
    w.u32(free.length);
    for (const id of free) w.u32(id);
    w.raw(this.slots, this.cap * SLOT * 4);
    w.raw(this.meta, this.nextId * META * 4);
    w.raw(this.arena, this.arenaUsed);
  }

  /**
   * Reads what {@link writeRaw} wrote into this (empty) dictionary: `memory`, this version's
   * layout, copied; `three-words`, the layout engine snapshots 2–5 wrote (the slots' ids, three
   * words of metadata per id, every key's bytes in the arena), converted. Checks that every slot
   * names an id in range whose key lies where its metadata says and that the free ids are free
   * ({@link setFreeIds}); throws {@link CorruptStateError} otherwise.
   */
  readRaw(r: ByteReader, layout: 'memory' | 'three-words' = 'memory'): void {
    const cap = r.u32();
    const live = r.u32();
    const nextId = r.u32();
    const arenaUsed = r.u32();
    const arenaGarbage = r.u32();
    if (cap < 1 || cap > 1 << 30 || live > cap || nextId > 1 << 30 || arenaGarbage > arenaUsed)
      corrupt(`${live} live in ${cap} slots, next id ${nextId}, arena ${arenaUsed} bytes`);
    const nFree = r.u32();
    if (nFree > nextId) corrupt(`${nFree} free ids of ${nextId}`);
    const freeIds: number[] = new Array(nFree);
    for (let i = 0; i < nFree; i++) freeIds[i] = r.u32();
    if (layout === 'three-words') this.readThreeWords(r, cap, live, nextId, arenaUsed);
    else {
      // Read straight into this dictionary's new arrays (an exception leaves it unusable: the
      // caller discards it).
      this.resize({
        slots: cap * SLOT,
        meta: Math.max(256, nextId) * META,
        arena: Math.max(1 << 12, arenaUsed),
      });
      const { slots, meta } = this;
      r.rawInto(slots, cap * SLOT * 4);
      r.rawInto(meta, nextId * META * 4);
      r.rawInto(this.arena, arenaUsed);
      // The checks walk their arrays in order.
      checkSlotIds(slots, SLOT, cap, live, nextId);
      for (let id = 0; id < nextId; id++) {
        const b = id * META;
        const len = meta[b + 2]! & 0xffff;
        if (len > INLINE && (meta[b]! < 0 || meta[b]! + len > arenaUsed))
          corrupt(`key of id ${id} is outside the arena`);
      }
      this.arenaUsed = arenaUsed;
      this.arenaGarbage = arenaGarbage;
    }
    this.cap = cap;
    this.live = live;
    this.nextId = nextId;
    this.setFreeIds(freeIds, nextId);
  }

  /**
   * The rest of a {@link readRaw} of the `three-words` layout: short keys move into their
   * metadata, long ones into a fresh arena (in id order, no garbage), each slot takes its id's hash.
   */
  private readThreeWords(r: ByteReader, cap: number, live: number, nextId: number, arenaUsed: number): void {
    const ids = new Int32Array(cap);
    r.rawInto(ids, cap * 4);
    const written = new Int32Array(nextId * SNAPSHOT_META);
    r.rawInto(written, nextId * SNAPSHOT_META * 4);
    const keys = new Uint8Array(arenaUsed);
    r.rawInto(keys, arenaUsed);
    // The checks walk their arrays in order.
    checkSlotIds(ids, 1, cap, live, nextId);
    // Freed ids have length 0 (nothing of the arena is read for them), live ones their key's.
    let longBytes = 0;
    for (let id = 0; id < nextId; id++) {
      const k = id * SNAPSHOT_META;
      const len = written[k + 2]! & 0xffff;
      if (len > 0 && (written[k]! < 0 || written[k]! + len > arenaUsed))
        corrupt(`key of id ${id} is outside the arena`);
      if (len > INLINE) longBytes += len;
    }
    // Read into this dictionary's new arrays (an exception leaves it unusable: the caller
    // discards it): short keys into their metadata, long ones into the arena, in id order.
    this.resize({
      slots: cap * SLOT,
      meta: Math.max(256, nextId) * META,
      arena: Math.max(1 << 12, longBytes),
    });
    const { slots, meta, arena, metaBytes } = this;
    let used = 0;
    for (let id = 0; id < nextId; id++) {
      const k = id * SNAPSHOT_META;
      const b = id * META;
      const off = written[k]!;
      const len = written[k + 2]! & 0xffff;
      meta[b + 1] = written[k + 1]!;
      meta[b + 2] = written[k + 2]!;
      if (off === -1) meta[b] = -1;
      else if (len <= INLINE) {
        const to = b * 4 + INLINE_AT;
        for (let x = 0; x < len; x++) metaBytes[to + x] = keys[off + x]!;
      } else {
        meta[b] = used;
        arena.set(keys.subarray(off, off + len), used);
        used += len;
      }
    }
    // Each slot's hash is its id's, from the metadata as written (12 bytes an id, not 32): a cache
    // miss per series, but independent ones (they overlap), unlike a lookup's.
    for (let i = 0; i < cap; i++) {
      const id = ids[i]!;
      slots[i * SLOT] = id;
      if (id !== EMPTY) slots[i * SLOT + 1] = written[id * SNAPSHOT_META + 1]!;
    }
    this.arenaUsed = used;
    this.arenaGarbage = 0;
  }

  /**
   * Reads the entries of a version-1 engine snapshot (a u32 count, then per entry a u32 id and its key as a
   * length-prefixed UTF-8 string) into this (empty) dictionary, keys inserted from their bytes under their ids, with no
   * references (the caller adds them); follow with {@link setFreeIds}. Throws {@link CorruptStateError} on invalid UTF-8 or a repeated key.
   */
  readLive(r: ByteReader): void {
    const count = r.u32();
    if (count > this.cap * MAX_LOAD) this.rehash(Math.ceil(count / MAX_LOAD) + 1);
    for (let k = 0; k < count; k++) {
      const id = r.u32();
      const n = r.u32();
      const bytes = r.span(n);
      for (let i = 0; i < n; i++) {
        if (bytes[i]! < 0x80) continue;
        try {
          strictDecoder.decode(bytes);
        } catch {
          throw new CorruptStateError('engine snapshot', `series key of id ${id} is not valid UTF-8`);
        }
        break;
      }
      this.insertBytesAs(bytes, id);
    }
  }

  private insertBytesAs(bytes: Uint8Array, id: number): void {
    const n = bytes.length;
    if (n > 0xffff) throw new CorruptStateError('engine snapshot', `series key of ${n} bytes`);
    const h = SeriesDictionary.hash(bytes, n);
    let i = this.home(h);
    for (;;) {
      const other = this.slots[i * SLOT]!;
      if (other === EMPTY) break;
      const b = other * META;
      if (this.slots[i * SLOT + 1] === h && (this.meta[b + 2]! & 0xffff) === n) {
        const keyBytes = this.keyArray(n);
        const off = this.keyAt(b, n);
        let same = true;
        for (let j = 0; j < n && same; j++) same = keyBytes[off + j] === bytes[j];
        if (same) throw new CorruptStateError('engine snapshot', `series key of id ${id} appears twice`);
      }
      if (++i === this.cap) i = 0;
    }
    if (this.scratch.length < n) this.scratch = new Uint8Array(n + 16);
    this.scratch.set(bytes);
    this.scratchLength = n;
    this.insertAt(i, h, '', id);
  }

  private remove(id: number): void {
    const cap = this.cap;
    const slots = this.slots;
    let i = this.home(this.meta[id * META + 1]!);
    while (slots[i * SLOT] !== id) if (++i === cap) i = 0;
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    let j = i;
    for (;;) {
      if (++j === cap) j = 0;
      const other = slots[j * SLOT]!;
      if (other === EMPTY) break;
      const h = slots[j * SLOT + 1]!;
      const home = this.home(h);
      // `other` may move into the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!stays) {
        slots[i * SLOT] = other;
        slots[i * SLOT + 1] = h;
        i = j;
      }
    }
    slots[i * SLOT] = EMPTY;
    slots[i * SLOT + 1] = 0;
    const len = this.meta[id * META + 2]! & 0xffff;
    if (len > INLINE) this.arenaGarbage += len;
    this.meta[id * META] = -1;
    this.meta[id * META + 2] = 0;
    this.freeIds.push(id);
    this.removals++;
    this.live--;
    if (id === this.nextId - 1) this.trimIds();
    // Shrink the slot table after a peak (load under 0.15 → 0.5), so its memory follows the live series.
    if (this.cap > 4096 && this.live < this.cap * 0.15) this.rehash(Math.max(512, Math.ceil(this.live * 2)));
    if (this.arenaGarbage * 2 > this.arenaUsed && this.arenaUsed > 1 << 16) this.compactArena();
  }

  /**
   * Gives back the top of the id space while its ids are free (ids are handed out lowest first,
   * so after a peak the ids in use gather at the bottom): the per-id metadata shrinks once less
   * than half of it is in use. The free ids above the new top stay in the heap, stale, until
   * they are half of it.
   */
  private trimIds(): void {
    const meta = this.meta;
    let top = this.nextId;
    while (top > 0 && meta[(top - 1) * META] === -1) top--;
    this.staleFree += this.nextId - top;
    this.nextId = top;
    if (this.staleFree * 2 > this.freeIds.size()) {
      this.freeIds.keepBelow(top);
      this.staleFree = 0;
    }
    const ids = Math.max(256, Math.ceil(top * GROWTH));
    if (meta.length > 2 * ids * META) {
      const old = this.resize({ meta: ids * META }).meta;
      this.meta.set(old.subarray(0, ids * META));
    }
  }

  private growMeta(): void {
    const old = this.resize({ meta: Math.ceil((this.meta.length / META) * GROWTH) * META }).meta;
    this.meta.set(old);
  }

  private growArena(need: number): void {
    let cap = Math.ceil(this.arena.length * GROWTH);
    while (cap < this.arenaUsed + need) cap = Math.ceil(cap * GROWTH);
    const old = this.resize({ arena: cap }).arena;
    this.arena.set(old.subarray(0, this.arenaUsed));
  }

  private compactArena(): void {
    const old = this.resize({
      arena: Math.max(1 << 12, Math.ceil((this.arenaUsed - this.arenaGarbage) * 1.25)),
    }).arena;
    const next = this.arena;
    let used = 0;
    for (let s = 0; s < this.cap; s++) {
      const id = this.slots[s * SLOT]!;
      if (id === EMPTY) continue;
      const b = id * META;
      const off = this.meta[b]!;
      const n = this.meta[b + 2]! & 0xffff;
      if (n <= INLINE) continue;
      next.set(old.subarray(off, off + n), used);
      this.meta[b] = used;
      used += n;
    }
    this.arenaUsed = used;
    this.arenaGarbage = 0;
  }

  private rehash(capacity: number): void {
    const old = this.resize({ slots: capacity * SLOT }).slots;
    this.cap = capacity;
    const slots = this.slots;
    for (let i = 0; i < capacity; i++) slots[i * SLOT] = EMPTY;
    for (let s = 0; s < old.length; s += SLOT) {
      const id = old[s]!;
      if (id === EMPTY) continue;
      const h = old[s + 1]!;
      let i = this.home(h);
      while (slots[i * SLOT] !== EMPTY) if (++i === capacity) i = 0;
      slots[i * SLOT] = id;
      slots[i * SLOT + 1] = h;
    }
  }
}

/**
 * A key as a record carries it: a string, or ASCII bytes `keyBytes[keyStart..keyEnd)` whose
 * string `seriesKey` is made only when read (`KeyedRecord`).
 */
export interface KeySource {
  readonly seriesKey: string;
  readonly keyBytes?: Uint8Array | null;
  readonly keyStart?: number;
  readonly keyEnd?: number;
}

/** The final avalanche of a key's FNV-1a hash, so multiply-shift sees well-mixed high bits. */
export function mixHash(fnv: number): number {
  let h = fnv;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/**
 * Checks the ids of a snapshot's `cap` slots (every `stride`-th int of `slots`): each empty or
 * below `nextId`, `live` of them in all. Throws {@link CorruptStateError} otherwise.
 */
function checkSlotIds(slots: Int32Array, stride: number, cap: number, live: number, nextId: number): void {
  let seen = 0;
  for (let i = 0; i < cap; i++) {
    const id = slots[i * stride]!;
    if (id === EMPTY) continue;
    if (id < 0 || id >= nextId) corrupt(`slot ${i} holds id ${id}, next id is ${nextId}`);
    seen++;
  }
  if (seen !== live) corrupt(`${seen} ids in the slots, ${live} live`);
}

function corrupt(detail: string): never {
  throw new CorruptStateError('engine snapshot', `series dictionary: ${detail}`);
}

/** The bytes of an Int32Array (same memory). */
function bytesOf(a: Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function asText(arena: Uint8Array): SliceableBuffer {
  return Buffer.from(arena.buffer, arena.byteOffset, arena.byteLength) as SliceableBuffer;
}
