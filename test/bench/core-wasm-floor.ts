/**
 * The floor of `bench core` (see core-floor.ts) with the key handed over as bytes instead of a
 * fresh string, in JavaScript and in WebAssembly, at 1M keys: what a string-free key path and a
 * core in WebAssembly would each buy. Both keep the core's layout (hash slots of [hash, id],
 * per-id [offset, length], key bytes in an arena, a count/sum/min/max row by id) and overlap the
 * reads of 64 records at a time (hashes, then home slots, then key bytes and rows, then apply).
 * The input writes each record's key bytes (`dev-<n>` as bench core's), length and value where
 * the core reads them: a buffer for JavaScript, the module's memory for WebAssembly.
 *
 * Usage: `node --max-semi-space-size=128 --import tsx test/bench/core-wasm-floor.ts [js-bytes|wasm …]`;
 * prints one JSON line per variant: records per CPU second (input included, and its own cost),
 * and a check that every record was counted once.
 */
import { pathToFileURL } from 'node:url';
import wabt from 'wabt';
import { KEY_HASH_WAT } from '../../aggregator/store/key-lookup-kernel.js';
import { mixHash } from '../../aggregator/store/series-dictionary.js';
import { writeKey } from './core-input.js';

const BATCH = 256;
const CHUNK = 64;
/** Room per key in the input (`dev-` and up to 10 digits). */
const KEY_ROOM = 16;

/** Distinct keys, and records timed after a warm-up of 3 × keys. */
export interface FloorSizes {
  keys: number;
  records: number;
}

/** Table capacity (a power of two, at most half full) and the module's byte addresses for `keys`. */
function geometry(keys: number) {
  let cap = 1024;
  while (cap < keys * 2) cap *= 2;
  const IN_KEYS = 0;
  const IN_LENGTHS = IN_KEYS + BATCH * KEY_ROOM;
  const IN_VALUES = IN_LENGTHS + BATCH * 4;
  const HASHES = IN_VALUES + BATCH * 8;
  const IDS = HASHES + CHUNK * 4;
  const SLOTS = 1 << 16;
  const META = SLOTS + cap * 8;
  const ARENA = META + keys * 8;
  const ROWS = ARENA + keys * KEY_ROOM;
  const END = ROWS + keys * 32;
  return {
    keys,
    cap,
    mask: cap - 1,
    IN_KEYS,
    IN_LENGTHS,
    IN_VALUES,
    HASHES,
    IDS,
    SLOTS,
    META,
    ARENA,
    ROWS,
    END,
  };
}
type Geometry = ReturnType<typeof geometry>;

interface Floor {
  /** Where the input goes: key bytes at j × KEY_ROOM, lengths and values at j. */
  keys: Uint8Array;
  lengths: Int32Array;
  values: Float64Array;
  /** Applies input records 0..n. */
  process(n: number): void;
  /** Distinct keys, the sum of all counts, and a value folded from the read-ahead loads (kept so they are not optimized away). */
  totals(): { keys: number; counted: number; sink: number };
}

/** The floor in JavaScript over the input's bytes (no strings). */
function jsBytesFloor(g: Geometry): Floor {
  const { cap: CAP, mask: MASK, keys: KEYS } = g;
  const keys = new Uint8Array(BATCH * KEY_ROOM);
  const lengths = new Int32Array(BATCH);
  const values = new Float64Array(BATCH);
  const slots = new Int32Array(CAP * 2);
  for (let i = 0; i < CAP; i++) slots[i * 2 + 1] = -1;
  const meta = new Int32Array(KEYS * 2);
  const arena = new Uint8Array(KEYS * KEY_ROOM);
  const rows = new Float64Array(KEYS * 4);
  const hashes = new Int32Array(CHUNK);
  const ids = new Int32Array(CHUNK);
  let next = 0;
  let used = 0;
  let sink = 0;
  const hash = (p: number, n: number): number => {
    let h = 0x811c9dc5;
    for (let k = 0; k < n; k++) h = Math.imul(h ^ keys[p + k]!, 0x01000193);
    return mixHash(h);
  };
  const same = (id: number, p: number, n: number): boolean => {
    if (meta[id * 2 + 1] !== n) return false;
    const off = meta[id * 2]!;
    for (let k = 0; k < n; k++) if (arena[off + k] !== keys[p + k]) return false;
    return true;
  };
  const intern = (p: number, n: number, h: number): number => {
    for (let i = (h >>> 11) & MASK; ; i = (i + 1) & MASK) {
      const id = slots[i * 2 + 1]!;
      if (id < 0) {
        const fresh = next++;
        slots[i * 2] = h;
        slots[i * 2 + 1] = fresh;
        meta[fresh * 2] = used;
        meta[fresh * 2 + 1] = n;
        arena.set(keys.subarray(p, p + n), used);
        used += n;
        rows[fresh * 4 + 2] = Number.POSITIVE_INFINITY;
        rows[fresh * 4 + 3] = Number.NEGATIVE_INFINITY;
        return fresh;
      }
      if (slots[i * 2] === h && same(id, p, n)) return id;
    }
  };
  return {
    keys,
    lengths,
    values,
    process(n) {
      for (let from = 0; from < n; from += CHUNK) {
        const m = Math.min(CHUNK, n - from);
        for (let q = 0; q < m; q++) hashes[q] = hash((from + q) * KEY_ROOM, lengths[from + q]!);
        for (let q = 0; q < m; q++) ids[q] = slots[((hashes[q]! >>> 11) & MASK) * 2 + 1]!;
        for (let q = 0; q < m; q++) {
          const id = ids[q]!;
          if (id >= 0) sink ^= arena[meta[id * 2]!]! ^ rows[id * 4]!;
        }
        for (let q = 0; q < m; q++) {
          const j = from + q;
          const b = intern(j * KEY_ROOM, lengths[j]!, hashes[q]!) * 4;
          const v = values[j]!;
          rows[b]! += 1;
          rows[b + 1]! += v;
          if (v < rows[b + 2]!) rows[b + 2] = v;
          if (v > rows[b + 3]!) rows[b + 3] = v;
        }
      }
    },
    totals() {
      let counted = 0;
      for (let id = 0; id < next; id++) counted += rows[id * 4]!;
      return { keys: next, counted, sink };
    },
  };
}

/** The same floor as WebAssembly text: `process(n)` over the input in memory, `keys()` distinct keys. */
function floorWat(g: Geometry): string {
  const { mask: MASK, IN_KEYS, IN_LENGTHS, IN_VALUES, HASHES, IDS, SLOTS, META, ARENA, ROWS, END } = g;
  const at = (base: number, index: string, shift: number): string =>
    `(i32.add (i32.const ${base}) (i32.shl ${index} (i32.const ${shift})))`;
  return `(module
 (memory (export "memory") ${Math.ceil(END / 65536) + 1})
 (global $next (mut i32) (i32.const 0))
 (global $used (mut i32) (i32.const 0))
 ${KEY_HASH_WAT}
 (func $same (param $id i32) (param $p i32) (param $n i32) (result i32) (local $off i32) (local $k i32)
  (if (i32.ne (i32.load offset=4 ${at(META, '(local.get $id)', 3)}) (local.get $n)) (then (return (i32.const 0))))
  (local.set $off (i32.add (i32.const ${ARENA}) (i32.load ${at(META, '(local.get $id)', 3)})))
  (block $end (loop $byte (br_if $end (i32.ge_u (local.get $k) (local.get $n)))
   (if (i32.ne (i32.load8_u (i32.add (local.get $off) (local.get $k))) (i32.load8_u (i32.add (local.get $p) (local.get $k))))
    (then (return (i32.const 0))))
   (local.set $k (i32.add (local.get $k) (i32.const 1))) (br $byte)))
  (i32.const 1))
 (func $intern (param $p i32) (param $n i32) (param $h i32) (result i32) (local $i i32) (local $s i32) (local $id i32) (local $r i32)
  (local.set $i (i32.and (i32.shr_u (local.get $h) (i32.const 11)) (i32.const ${MASK})))
  (loop $probe
   (local.set $s ${at(SLOTS, '(local.get $i)', 3)})
   (local.set $id (i32.load offset=4 (local.get $s)))
   (if (i32.lt_s (local.get $id) (i32.const 0)) (then
    (local.set $id (global.get $next))
    (global.set $next (i32.add (local.get $id) (i32.const 1)))
    (i32.store (local.get $s) (local.get $h))
    (i32.store offset=4 (local.get $s) (local.get $id))
    (i32.store ${at(META, '(local.get $id)', 3)} (global.get $used))
    (i32.store offset=4 ${at(META, '(local.get $id)', 3)} (local.get $n))
    (memory.copy (i32.add (i32.const ${ARENA}) (global.get $used)) (local.get $p) (local.get $n))
    (global.set $used (i32.add (global.get $used) (local.get $n)))
    (local.set $r ${at(ROWS, '(local.get $id)', 5)})
    (f64.store offset=16 (local.get $r) (f64.const inf))
    (f64.store offset=24 (local.get $r) (f64.const -inf))
    (return (local.get $id))))
   (if (i32.eq (i32.load (local.get $s)) (local.get $h))
    (then (if (call $same (local.get $id) (local.get $p) (local.get $n)) (then (return (local.get $id))))))
   (local.set $i (i32.and (i32.add (local.get $i) (i32.const 1)) (i32.const ${MASK})))
   (br $probe))
  (unreachable))
 (func (export "process") (param $n i32) (result i32)
  (local $from i32) (local $m i32) (local $q i32) (local $j i32) (local $id i32) (local $r i32) (local $v f64) (local $sink i32)
  (block $done (loop $chunk (br_if $done (i32.ge_u (local.get $from) (local.get $n)))
   (local.set $m (i32.sub (local.get $n) (local.get $from)))
   (if (i32.gt_u (local.get $m) (i32.const ${CHUNK})) (then (local.set $m (i32.const ${CHUNK}))))
   (local.set $q (i32.const 0))
   (block $e1 (loop $hashes (br_if $e1 (i32.ge_u (local.get $q) (local.get $m)))
    (local.set $j (i32.add (local.get $from) (local.get $q)))
    (i32.store ${at(HASHES, '(local.get $q)', 2)}
     (call $hash ${at(IN_KEYS, '(local.get $j)', 4)} (i32.load ${at(IN_LENGTHS, '(local.get $j)', 2)})))
    (local.set $q (i32.add (local.get $q) (i32.const 1))) (br $hashes)))
   (local.set $q (i32.const 0))
   (block $e2 (loop $homes (br_if $e2 (i32.ge_u (local.get $q) (local.get $m)))
    (i32.store ${at(IDS, '(local.get $q)', 2)}
     (i32.load offset=4 ${at(SLOTS, `(i32.and (i32.shr_u (i32.load ${at(HASHES, '(local.get $q)', 2)}) (i32.const 11)) (i32.const ${MASK}))`, 3)}))
    (local.set $q (i32.add (local.get $q) (i32.const 1))) (br $homes)))
   (local.set $q (i32.const 0))
   (block $e3 (loop $ahead (br_if $e3 (i32.ge_u (local.get $q) (local.get $m)))
    (local.set $id (i32.load ${at(IDS, '(local.get $q)', 2)}))
    (if (i32.ge_s (local.get $id) (i32.const 0)) (then
     (local.set $sink (i32.xor (local.get $sink) (i32.load8_u (i32.add (i32.const ${ARENA}) (i32.load ${at(META, '(local.get $id)', 3)})))))
     (local.set $sink (i32.xor (local.get $sink) (i32.load ${at(ROWS, '(local.get $id)', 5)})))))
    (local.set $q (i32.add (local.get $q) (i32.const 1))) (br $ahead)))
   (local.set $q (i32.const 0))
   (block $e4 (loop $apply (br_if $e4 (i32.ge_u (local.get $q) (local.get $m)))
    (local.set $j (i32.add (local.get $from) (local.get $q)))
    (local.set $id (call $intern ${at(IN_KEYS, '(local.get $j)', 4)} (i32.load ${at(IN_LENGTHS, '(local.get $j)', 2)})
     (i32.load ${at(HASHES, '(local.get $q)', 2)})))
    (local.set $r ${at(ROWS, '(local.get $id)', 5)})
    (local.set $v (f64.load ${at(IN_VALUES, '(local.get $j)', 3)}))
    (f64.store (local.get $r) (f64.add (f64.load (local.get $r)) (f64.const 1)))
    (f64.store offset=8 (local.get $r) (f64.add (f64.load offset=8 (local.get $r)) (local.get $v)))
    (f64.store offset=16 (local.get $r) (f64.min (f64.load offset=16 (local.get $r)) (local.get $v)))
    (f64.store offset=24 (local.get $r) (f64.max (f64.load offset=24 (local.get $r)) (local.get $v)))
    (local.set $q (i32.add (local.get $q) (i32.const 1))) (br $apply)))
   (local.set $from (i32.add (local.get $from) (i32.const ${CHUNK}))) (br $chunk)))
  (local.get $sink))
 (func (export "keys") (result i32) (global.get $next)))`;
}

/** The runtime's WebAssembly API, as far as this script uses it (the project's TypeScript libs do not declare it). */
const webAssembly = (
  globalThis as unknown as {
    WebAssembly: { instantiate(bytes: Uint8Array): Promise<{ instance: { exports: unknown } }> };
  }
).WebAssembly;

async function wasmFloor(g: Geometry): Promise<Floor> {
  const { cap: CAP, keys: KEYS, SLOTS, ROWS, IN_KEYS, IN_LENGTHS, IN_VALUES } = g;
  const tools = await wabt();
  const parsed = tools.parseWat('core-floor.wat', floorWat(g), { bulk_memory: true });
  const { buffer } = parsed.toBinary({});
  parsed.destroy();
  const { instance } = await webAssembly.instantiate(buffer);
  const exports = instance.exports as {
    memory: { buffer: ArrayBuffer };
    process: (n: number) => number;
    keys: () => number;
  };
  const mem = exports.memory.buffer;
  const slots = new Int32Array(mem, SLOTS, CAP * 2);
  for (let i = 0; i < CAP; i++) slots[i * 2 + 1] = -1;
  const rows = new Float64Array(mem, ROWS, KEYS * 4);
  let sink = 0;
  return {
    keys: new Uint8Array(mem, IN_KEYS, BATCH * KEY_ROOM),
    lengths: new Int32Array(mem, IN_LENGTHS, BATCH),
    values: new Float64Array(mem, IN_VALUES, BATCH),
    process: (n) => {
      sink ^= exports.process(n);
    },
    totals() {
      const keys = exports.keys();
      let counted = 0;
      for (let id = 0; id < keys; id++) counted += rows[id * 4]!;
      return { keys, counted, sink };
    },
  };
}

/** Bench core's input without strings: xorshift keys and values, key bytes written where the floor reads them. */
function inputFor(floor: Floor, keys: number): () => void {
  let s = 0x2545f491;
  const text = Buffer.from(floor.keys.buffer, floor.keys.byteOffset, floor.keys.byteLength);
  return () => {
    for (let j = 0; j < BATCH; j++) {
      let x = s;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      s = x;
      const r = x >>> 0;
      floor.lengths[j] = writeKey(text, j * KEY_ROOM, r % keys) - j * KEY_ROOM;
      floor.values[j] = ((r >>> 8) % 100_000) / 100;
    }
  };
}

function cpuSeconds(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

export async function measureFloor(
  variant: 'js-bytes' | 'wasm',
  sizes: FloorSizes = { keys: 1_000_000, records: 12_000_000 },
): Promise<{
  variant: string;
  keys: number;
  records: number;
  recordsPerSec: number;
  inputNsPerRecord: number;
  recordsPerSecExcludingInput: number;
  everyRecordCountedOnce: boolean;
  loads: number;
}> {
  const g = geometry(sizes.keys);
  const floor = variant === 'wasm' ? await wasmFloor(g) : jsBytesFloor(g);
  const fill = inputFor(floor, sizes.keys);
  // Whole batches: the records applied are these exactly.
  const RECORDS = Math.ceil(sizes.records / BATCH) * BATCH;
  const WARMUP = Math.ceil((3 * sizes.keys) / BATCH) * BATCH;
  for (let i = 0; i < WARMUP; i += BATCH) {
    fill();
    floor.process(BATCH);
  }
  let at = process.cpuUsage();
  for (let i = 0; i < RECORDS; i += BATCH) {
    fill();
    floor.process(BATCH);
  }
  const cpu = cpuSeconds(at);
  at = process.cpuUsage();
  for (let i = 0; i < RECORDS; i += BATCH) fill();
  const inputCpu = cpuSeconds(at);
  const { keys, counted, sink } = floor.totals();
  return {
    variant,
    keys,
    records: RECORDS,
    recordsPerSec: Math.round(RECORDS / cpu),
    inputNsPerRecord: Math.round((inputCpu / RECORDS) * 1e9),
    recordsPerSecExcludingInput: Math.round(RECORDS / (cpu - inputCpu)),
    everyRecordCountedOnce: counted === WARMUP + RECORDS,
    loads: sink & 1,
  };
}

// Run as a script (not when a test imports it).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const variants = process.argv
    .slice(2)
    .filter((a): a is 'js-bytes' | 'wasm' => a === 'js-bytes' || a === 'wasm');
  for (const v of variants.length > 0 ? variants : (['js-bytes', 'wasm'] as const))
    process.stdout.write(`${JSON.stringify(await measureFloor(v))}\n`);
}
