/**
 * The series dictionary's batch lookup in WebAssembly: for a chunk of keys written as bytes into
 * the head of the dictionary's memory, each key's hash and its id (or -1 when absent), read from
 * the dictionary's own arrays in the same memory (hash slots of (id, hash), per-id metadata with
 * short keys in it, the arena of long keys; see {@link SeriesDictionary}). It computes what the
 * dictionary's JavaScript does — FNV-1a of the bytes then `mixHash`, home slot ⌊h · cap / 2^32⌋,
 * linear probing past slots of other hashes, the key's bytes compared —
 * so ids and hashes are the same whichever side looks a key up; only lookups happen here,
 * inserts and deletes stay in JavaScript. The reads of the chunk's keys are overlapped stage by
 * stage, as `SeriesDictionary.prefetch` does, which is what makes it ~2× the JavaScript lookup at
 * a million keys (`test/bench/core-wasm-floor.ts` measured the same shape).
 *
 * The module is assembled from its text (below) by `wabt` once per process (`wasm-assembler.ts`):
 * {@link loadKeyLookupKernel} must have resolved before dictionaries can use it.
 */
import { compileWat, instantiateWithMemory, loadAssembler, type WasmMemory } from './wasm-assembler.js';

/** Keys per lookup call (the engine's chunk). */
export const LOOKUP_CHUNK = 64;
/** Byte addresses of the lookup's input and output, at the head of every dictionary memory. */
export const KERNEL_IO = {
  /** Int32 per key: where its bytes start (an address). */
  offsets: 0,
  /** Int32 per key: its byte length. */
  lengths: LOOKUP_CHUNK * 4,
  /** Int32 per key, written by the lookup: its hash. */
  hashes: LOOKUP_CHUNK * 8,
  /** Int32 per key, written by the lookup: its id, or -1 when absent. */
  ids: LOOKUP_CHUNK * 12,
  /** Int32 per key: scratch (each key's probe position). */
  homes: LOOKUP_CHUNK * 16,
  /** The keys' bytes. */
  keys: LOOKUP_CHUNK * 20,
  /** Room for the keys' bytes of one call; a chunk whose keys do not fit is looked up in parts. */
  keyRoom: 16_384,
} as const;
/**
 * The dictionary's per-id metadata as the kernel reads it (see `SeriesDictionary`): `metaBytes`
 * per id (words: arena offset, hash, length | refs << 16), a key of at most `inline` bytes at
 * `inlineAt` in it, a longer one in the arena.
 */
export const DICTIONARY_LAYOUT = { metaBytes: 32, inline: 16, inlineAt: 16 } as const;
/** Where the dictionary's own arrays may start (8-aligned). */
export const KERNEL_HEADER_BYTES = KERNEL_IO.keys + KERNEL_IO.keyRoom;

/**
 * `$hash(p, n)`: a key's hash from its bytes at p..p+n, as the dictionary's JavaScript computes it
 * (FNV-1a, then `mixHash`'s avalanche).
 */
export const KEY_HASH_WAT = `(func $hash (param $p i32) (param $n i32) (result i32) (local $h i32) (local $k i32)
  (local.set $h (i32.const 0x811c9dc5))
  (block $end (loop $byte (br_if $end (i32.ge_u (local.get $k) (local.get $n)))
   (local.set $h (i32.mul (i32.xor (local.get $h) (i32.load8_u (i32.add (local.get $p) (local.get $k)))) (i32.const 0x01000193)))
   (local.set $k (i32.add (local.get $k) (i32.const 1))) (br $byte)))
  (local.set $h (i32.mul (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 16))) (i32.const 0x85ebca6b)))
  (local.set $h (i32.mul (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 13))) (i32.const 0xc2b2ae35)))
  (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 16))))`;

/** The module's text. `lookup(n, slots, cap, meta, arena)`: addresses of the arrays, `cap` slots. */
function kernelWat(): string {
  const io = KERNEL_IO;
  const at = (base: number, j = '(local.get $j)'): string =>
    `(i32.add (i32.const ${base}) (i32.shl ${j} (i32.const 2)))`;
  /** Slot $i: its id, then (offset=4) its id's hash. */
  const slotAt = '(i32.add (local.get $slots) (i32.shl (local.get $i) (i32.const 3)))';
  const metaOf = (id: string): string =>
    `(i32.add (local.get $meta) (i32.shl ${id} (i32.const ${Math.log2(DICTIONARY_LAYOUT.metaBytes)})))`;
  /** for ($j = 0; $j < $n; $j++) body */
  const each = (label: string, body: string): string => `
  (local.set $j (i32.const 0))
  (block $${label}_end (loop $${label}
   (br_if $${label}_end (i32.ge_u (local.get $j) (local.get $n)))
   ${body}
   (local.set $j (i32.add (local.get $j) (i32.const 1)))
   (br $${label})))`;
  return `(module
 (import "env" "memory" (memory 1))
 ${KEY_HASH_WAT}
 (func $home (param $h i32) (param $cap i32) (result i32) (local $i i32)
  (local.set $i (i32.trunc_f64_u (f64.floor (f64.mul
   (f64.mul (f64.convert_i32_u (local.get $h)) (f64.const 0x1p-32))
   (f64.convert_i32_u (local.get $cap))))))
  (select (local.get $i) (i32.const 0) (i32.lt_u (local.get $i) (local.get $cap))))
 (func $same (param $b i32) (param $arena i32) (param $p i32) (param $n i32) (result i32) (local $off i32) (local $k i32)
  (if (i32.ne (i32.and (i32.load offset=8 (local.get $b)) (i32.const 0xffff)) (local.get $n)) (then (return (i32.const 0))))
  ;; a short key's bytes are in its metadata, a long one's in the arena
  (local.set $off (select (i32.add (local.get $b) (i32.const ${DICTIONARY_LAYOUT.inlineAt}))
   (i32.add (local.get $arena) (i32.load (local.get $b)))
   (i32.le_u (local.get $n) (i32.const ${DICTIONARY_LAYOUT.inline}))))
  (block $end8 (loop $word (br_if $end8 (i32.gt_u (i32.add (local.get $k) (i32.const 8)) (local.get $n)))
   (if (i64.ne (i64.load (i32.add (local.get $off) (local.get $k))) (i64.load (i32.add (local.get $p) (local.get $k))))
    (then (return (i32.const 0))))
   (local.set $k (i32.add (local.get $k) (i32.const 8))) (br $word)))
  ;; the tail of a key of 8 bytes or more: its last 8 bytes (overlapping those compared), not a byte loop
  (if (i32.and (i32.ge_u (local.get $n) (i32.const 8)) (i32.lt_u (local.get $k) (local.get $n))) (then
   (local.set $k (i32.sub (local.get $n) (i32.const 8)))
   (return (i64.eq (i64.load (i32.add (local.get $off) (local.get $k))) (i64.load (i32.add (local.get $p) (local.get $k)))))))
  (block $end (loop $byte (br_if $end (i32.ge_u (local.get $k) (local.get $n)))
   (if (i32.ne (i32.load8_u (i32.add (local.get $off) (local.get $k))) (i32.load8_u (i32.add (local.get $p) (local.get $k))))
    (then (return (i32.const 0))))
   (local.set $k (i32.add (local.get $k) (i32.const 1))) (br $byte)))
  (i32.const 1))
 (func (export "lookup") (param $n i32) (param $slots i32) (param $cap i32) (param $meta i32) (param $arena i32) (result i32)
  (local $j i32) (local $h i32) (local $i i32) (local $id i32) (local $sink i32) (local $p i32) (local $len i32)
  ;; 1: hashes and home slots
  ${each(
    'hashes',
    `(local.set $h (call $hash (i32.load ${at(io.offsets)}) (i32.load ${at(io.lengths)})))
   (i32.store ${at(io.hashes)} (local.get $h))
   (i32.store ${at(io.homes)} (call $home (local.get $h) (local.get $cap)))`,
  )}
  ;; 2: the id in each home slot (the loads overlap)
  ${each(
    'slots',
    `(local.set $i (i32.load ${at(io.homes)}))
   (i32.store ${at(io.ids)} (i32.load ${slotAt}))`,
  )}
  ;; 3: along each probe chain to the first slot with the key's hash (or an empty one): the
  ;; hashes are in the slots, neighbours of the home slot (its cache line, mostly)
  ${each(
    'chains',
    `(local.set $id (i32.load ${at(io.ids)}))
   (local.set $h (i32.load ${at(io.hashes)}))
   (local.set $i (i32.load ${at(io.homes)}))
   (block $found (loop $probe
    (br_if $found (i32.lt_s (local.get $id) (i32.const 0)))
    (br_if $found (i32.eq (i32.load offset=4 ${slotAt}) (local.get $h)))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (if (i32.eq (local.get $i) (local.get $cap)) (then (local.set $i (i32.const 0))))
    (local.set $id (i32.load ${slotAt}))
    (br $probe)))
   (i32.store ${at(io.ids)} (local.get $id))
   (i32.store ${at(io.homes)} (local.get $i))`,
  )}
  ;; 4: the candidates' metadata (the loads overlap; 32 bytes on a 32-byte boundary: one line)
  ${each(
    'metas',
    `(local.set $id (i32.load ${at(io.ids)}))
   (if (i32.ge_s (local.get $id) (i32.const 0)) (then
    (local.set $sink (i32.xor (local.get $sink) (i32.load offset=8 ${metaOf('(local.get $id)')})))))`,
  )}
  ;; 5: the bytes of each candidate whose key is too long for its metadata, first and last (a
  ;; key may span two cache lines: the compare would otherwise wait for the second, one key after
  ;; another)
  ${each(
    'arena',
    `(local.set $id (i32.load ${at(io.ids)}))
   (if (i32.ge_s (local.get $id) (i32.const 0)) (then
    (local.set $p ${metaOf('(local.get $id)')})
    (local.set $len (i32.and (i32.load offset=8 (local.get $p)) (i32.const 0xffff)))
    (if (i32.gt_u (local.get $len) (i32.const ${DICTIONARY_LAYOUT.inline})) (then
     (local.set $p (i32.add (local.get $arena) (i32.load (local.get $p))))
     (local.set $sink (i32.xor (local.get $sink) (i32.xor (i32.load8_u (local.get $p))
      (i32.load8_u (i32.add (local.get $p) (i32.sub (local.get $len) (i32.const 1)))))))))))`,
  )}
  ;; 6: compare the bytes; past a candidate that differs, on to the next id with the same hash
  ${each(
    'verify',
    `(local.set $id (i32.load ${at(io.ids)}))
   (local.set $h (i32.load ${at(io.hashes)}))
   (local.set $i (i32.load ${at(io.homes)}))
   (block $out (loop $candidate
    (br_if $out (i32.lt_s (local.get $id) (i32.const 0)))
    (br_if $out (call $same ${metaOf('(local.get $id)')} (local.get $arena)
     (i32.load ${at(io.offsets)}) (i32.load ${at(io.lengths)})))
    (loop $next
     (local.set $i (i32.add (local.get $i) (i32.const 1)))
     (if (i32.eq (local.get $i) (local.get $cap)) (then (local.set $i (i32.const 0))))
     (local.set $id (i32.load ${slotAt}))
     (br_if $out (i32.lt_s (local.get $id) (i32.const 0)))
     (br_if $next (i32.ne (i32.load offset=4 ${slotAt}) (local.get $h))))
    (br $candidate)))
   (i32.store ${at(io.ids)} (local.get $id))`,
  )}
  (local.get $sink)))`;
}

export interface KeyLookupInstance {
  /** Looks up keys 0..n of the I/O area; returns a value folded from the loads. */
  lookup(n: number, slots: number, cap: number, meta: number, arena: number): number;
}

/** The compiled kernel: a memory of `pages` pages with its lookup. */
export interface KeyLookupKernel {
  /** A fresh zeroed memory of at least `bytes` bytes and the lookup over it. */
  instantiate(bytes: number): { memory: WasmMemory; lookup: KeyLookupInstance['lookup'] };
}

let compiled: KeyLookupKernel | null = null;
let loading: Promise<KeyLookupKernel> | null = null;
/**
 * Assembles and compiles the kernel (once per process; later calls return the same). Until it
 * has resolved, new dictionaries keep their arrays in JavaScript and look keys up there.
 */
export function loadKeyLookupKernel(): Promise<KeyLookupKernel> {
  loading ??= (async () => {
    await loadAssembler();
    const module = compileWat('key-lookup.wat', kernelWat())!;
    const kernel: KeyLookupKernel = {
      instantiate(size) {
        const { memory, exports } = instantiateWithMemory(module, size);
        return { memory, lookup: (exports as KeyLookupInstance).lookup };
      },
    };
    compiled = kernel;
    return kernel;
  })();
  return loading;
}

/** The kernel when {@link loadKeyLookupKernel} has resolved, else null. */
export function keyLookupKernel(): KeyLookupKernel | null {
  return compiled;
}
