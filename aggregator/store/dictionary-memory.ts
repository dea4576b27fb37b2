import {
  KERNEL_HEADER_BYTES,
  KERNEL_IO,
  type KeyLookupInstance,
  type KeyLookupKernel,
  LOOKUP_CHUNK,
} from './key-lookup-kernel.js';
import { align8, alignLine } from './wasm-assembler.js';

/** The series dictionary's three arrays (see {@link SeriesDictionary}). */
export interface DictionaryArrays {
  slots: Int32Array;
  meta: Int32Array;
  arena: Uint8Array;
}

/** New lengths (in elements) for some of the arrays; the others keep theirs. */
export type ArrayLengths = Partial<Record<keyof DictionaryArrays, number>>;

/** The views a lookup reads its keys from and writes its answers to (in the kernel's memory). */
export interface LookupIo {
  offsets: Int32Array;
  lengths: Int32Array;
  hashes: Int32Array;
  ids: Int32Array;
  keys: Uint8Array;
}

/**
 * Where a dictionary's arrays live. {@link resize} hands out arrays of new lengths: the arrays
 * given a new length come back zeroed (the caller fills them from the old ones, which stay
 * readable until it lets go of them), the others with their contents.
 */
export interface DictionaryMemory {
  resize(current: DictionaryArrays | null, lengths: ArrayLengths): DictionaryArrays;
  /** Bytes held by the arrays (with the kernel's I/O area and page rounding). */
  bytes(current: DictionaryArrays): number;
  /** The batch lookup over the current arrays, or null (JavaScript arrays: looked up in JavaScript). */
  readonly kernel: KernelLookup | null;
}

/** The kernel's lookup bound to a dictionary's current memory. */
export interface KernelLookup {
  readonly io: LookupIo;
  /** Looks up keys 0..n of {@link io} (see `key-lookup-kernel.ts`); returns a value folded from the loads. */
  lookup(n: number, cap: number): number;
}

/** Arrays on the JavaScript heap. */
export class HeapMemory implements DictionaryMemory {
  readonly kernel = null;

  resize(current: DictionaryArrays | null, lengths: ArrayLengths): DictionaryArrays {
    const pick = <T>(name: keyof DictionaryArrays, make: (n: number) => T, old: T | undefined): T => {
      const n = lengths[name];
      if (n !== undefined || old === undefined) return make(n ?? 0);
      return old;
    };
    return {
      slots: pick('slots', (n) => new Int32Array(n), current?.slots),
      meta: pick('meta', (n) => new Int32Array(n), current?.meta),
      arena: pick('arena', (n) => new Uint8Array(n), current?.arena),
    };
  }

  bytes(a: DictionaryArrays): number {
    return a.slots.byteLength + a.meta.byteLength + a.arena.byteLength;
  }
}

/**
 * Arrays in one WebAssembly memory, after the kernel's I/O area, so the kernel reads them where
 * they are. A memory cannot shrink or move its contents cheaply, so every resize lays the three
 * out afresh in a new memory (growth is geometric, so this stays amortized O(1) per key, and a
 * dictionary shrinking after a peak gives its memory back as the JavaScript one does).
 */
export class KernelMemory implements DictionaryMemory {
  private current: KernelLookup | null = null;
  /**
   * Set when a WebAssembly memory could not be had (e.g. address space limited by `ulimit -v`:
   * each one reserves guard regions): the arrays move to the JavaScript heap for good, and keys
   * are looked up there. Same ids and snapshots, only slower.
   */
  private heap: HeapMemory | null = null;

  constructor(private readonly compiled: KeyLookupKernel) {}

  get kernel(): KernelLookup | null {
    return this.current;
  }

  resize(old: DictionaryArrays | null, lengths: ArrayLengths): DictionaryArrays {
    if (this.heap === null) {
      try {
        return this.resizeInKernel(old, lengths);
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        this.heap = new HeapMemory();
        this.current = null;
      }
    }
    // Arrays not resized still live in the last WebAssembly memory: copy them out too.
    const next = this.heap.resize(null, {
      slots: lengths.slots ?? old?.slots.length ?? 0,
      meta: lengths.meta ?? old?.meta.length ?? 0,
      arena: lengths.arena ?? old?.arena.length ?? 0,
    });
    if (old) {
      if (lengths.slots === undefined) next.slots.set(old.slots);
      if (lengths.meta === undefined) next.meta.set(old.meta);
      if (lengths.arena === undefined) next.arena.set(old.arena);
    }
    return next;
  }

  private resizeInKernel(old: DictionaryArrays | null, lengths: ArrayLengths): DictionaryArrays {
    const n = {
      slots: lengths.slots ?? old?.slots.length ?? 0,
      meta: lengths.meta ?? old?.meta.length ?? 0,
      arena: lengths.arena ?? old?.arena.length ?? 0,
    };
    const slotsAt = KERNEL_HEADER_BYTES;
    // On a cache line: an id's 32 bytes of metadata never span two.
    const metaAt = alignLine(slotsAt + n.slots * 4);
    const arenaAt = align8(metaAt + n.meta * 4);
    const { memory, lookup } = this.compiled.instantiate(arenaAt + n.arena);
    const buf = memory.buffer;
    const next: DictionaryArrays = {
      slots: new Int32Array(buf, slotsAt, n.slots),
      meta: new Int32Array(buf, metaAt, n.meta),
      arena: new Uint8Array(buf, arenaAt, n.arena),
    };
    if (old) {
      if (lengths.slots === undefined) next.slots.set(old.slots);
      if (lengths.meta === undefined) next.meta.set(old.meta);
      if (lengths.arena === undefined) next.arena.set(old.arena);
    }
    const io: LookupIo = {
      offsets: new Int32Array(buf, KERNEL_IO.offsets, LOOKUP_CHUNK),
      lengths: new Int32Array(buf, KERNEL_IO.lengths, LOOKUP_CHUNK),
      hashes: new Int32Array(buf, KERNEL_IO.hashes, LOOKUP_CHUNK),
      ids: new Int32Array(buf, KERNEL_IO.ids, LOOKUP_CHUNK),
      keys: new Uint8Array(buf, KERNEL_IO.keys, KERNEL_IO.keyRoom),
    };
    const run: KeyLookupInstance['lookup'] = lookup;
    this.current = { io, lookup: (count, cap) => run(count, slotsAt, cap, metaAt, arenaAt) };
    return next;
  }

  bytes(a: DictionaryArrays): number {
    return this.heap ? this.heap.bytes(a) : a.arena.buffer.byteLength;
  }
}
