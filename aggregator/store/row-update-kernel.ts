/**
 * A window table's row updates in WebAssembly: for a batch of records already given series ids,
 * each record's numbers are added to the row indexed by its id (count, sum, min, max, last), a row
 * created (its bit set, its numbers initialised) when the id has none yet. It computes what
 * {@link WindowTable.update} does, in the same order, on the same doubles, so the rows are the same
 * bit for bit whichever side updated them. Its reads of the batch's rows are overlapped first (the
 * rows of a million series miss the cache one each), as the key lookup does for its stages.
 *
 * One module per row layout (fields and their aggregates), assembled at run time
 * (`wasm-assembler.ts`). Rows with sketches (quantiles, distinct) are not for it: the table
 * updates those in TypeScript.
 */
import {
  align8,
  alignLine,
  compileWat,
  instantiateWithMemory,
  WASM_PAGE,
  type WasmMemory,
} from './wasm-assembler.js';

/** Records per kernel call: a table applies its deferred records when this many are waiting. */
export const ROW_BATCH = 128;

/** Where a field's numbers sit in a row, in doubles from its start (-1: not stored). */
export interface RowField {
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
}

/** Byte addresses of the I/O area at the head of a row memory; `values` holds ROW_BATCH per numeric field. */
export const ROW_IO = {
  ids: 0,
  newIds: ROW_BATCH * 4,
  times: ROW_BATCH * 8,
  offsets: ROW_BATCH * 16,
  sink: ROW_BATCH * 24,
  values: ROW_BATCH * 24 + 8,
} as const;

/** The views of a row memory's I/O area. */
export interface RowIo {
  ids: Int32Array;
  newIds: Int32Array;
  times: Float64Array;
  offsets: Float64Array;
  /** Per numeric field (in layout order), the batch's values; NaN: the record lacks the field. */
  values: Float64Array[];
}

/** A row memory: the I/O area, then the table's bitmap and numbers, and the kernel over them. */
export interface RowMemory {
  readonly memory: WasmMemory;
  readonly io: RowIo;
  readonly present: Uint8Array;
  readonly data: Float64Array;
  /** Applies records 0..n of {@link io}; returns how many rows it created (their ids in `io.newIds`). */
  apply(n: number): number;
  /**
   * The same memory grown in place to `presentBytes` of bitmap and `doubles` numbers, its bits and
   * numbers kept where they are and the new ones zero (this one's views are then detached), or
   * null, unchanged, when its bitmap has no room for that many bytes or the memory cannot grow.
   */
  resize(presentBytes: number, doubles: number): RowMemory | null;
}

/** The compiled kernel of one row layout. */
export interface RowKernel {
  /**
   * A fresh zeroed memory for `presentBytes` of bitmap and `doubles` numbers, with room for the
   * bitmap to grow to `presentRoom` bytes in place (see {@link RowMemory.resize}).
   */
  allocate(presentBytes: number, doubles: number, presentRoom?: number): RowMemory;
}

/** The module's text for rows of `stride` doubles whose fields are `fields` (numeric ones only). */
function rowKernelWat(fields: readonly RowField[], stride: number): string {
  const rowBytes = stride * 8;
  const valueAt = (k: number): string =>
    `(i32.add (i32.const ${ROW_IO.values + k * ROW_BATCH * 8}) (i32.shl (local.get $j) (i32.const 3)))`;
  const at = (slot: number): string => `(i32.add (local.get $row) (i32.const ${slot * 8}))`;
  const init: string[] = [];
  const update: string[] = [];
  fields.forEach((f, k) => {
    if (f.min >= 0) init.push(`(f64.store ${at(f.min)} (f64.const inf))`);
    if (f.max >= 0) init.push(`(f64.store ${at(f.max)} (f64.const -inf))`);
    if (f.last >= 0) {
      init.push(`(f64.store ${at(f.last)} (f64.const nan))`);
      init.push(`(f64.store ${at(f.last + 1)} (f64.const -inf))`);
      init.push(`(f64.store ${at(f.last + 2)} (f64.const -1))`);
    }
    const body: string[] = [`(f64.store ${at(f.count)} (f64.add (f64.load ${at(f.count)}) (f64.const 1)))`];
    if (f.sum >= 0) body.push(`(f64.store ${at(f.sum)} (f64.add (f64.load ${at(f.sum)}) (local.get $v)))`);
    if (f.min >= 0)
      body.push(
        `(if (f64.lt (local.get $v) (f64.load ${at(f.min)})) (then (f64.store ${at(f.min)} (local.get $v))))`,
      );
    if (f.max >= 0)
      body.push(
        `(if (f64.gt (local.get $v) (f64.load ${at(f.max)})) (then (f64.store ${at(f.max)} (local.get $v))))`,
      );
    if (f.last >= 0) {
      // Ties on event time go to the later offset (as WindowTable.update).
      body.push(`(local.set $t (f64.load (i32.add (i32.const ${ROW_IO.times}) (i32.shl (local.get $j) (i32.const 3)))))
     (local.set $o (f64.load (i32.add (i32.const ${ROW_IO.offsets}) (i32.shl (local.get $j) (i32.const 3)))))
     (if (i32.or (f64.gt (local.get $t) (f64.load ${at(f.last + 1)}))
                 (i32.and (f64.eq (local.get $t) (f64.load ${at(f.last + 1)})) (f64.ge (local.get $o) (f64.load ${at(f.last + 2)}))))
      (then (f64.store ${at(f.last)} (local.get $v)) (f64.store ${at(f.last + 1)} (local.get $t)) (f64.store ${at(f.last + 2)} (local.get $o))))`);
    }
    update.push(`(local.set $v (f64.load ${valueAt(k)}))
    (if (f64.eq (local.get $v) (local.get $v)) (then
     ${body.join('\n     ')}))`);
  });
  const idAt = `(i32.load (i32.add (i32.const ${ROW_IO.ids}) (i32.shl (local.get $j) (i32.const 2))))`;
  const rowOf = `(i32.add (local.get $data) (i32.mul (local.get $id) (i32.const ${rowBytes})))`;
  return `(module
 (import "env" "memory" (memory 1))
 (func (export "apply") (param $n i32) (param $present i32) (param $data i32) (result i32)
  (local $j i32) (local $id i32) (local $row i32) (local $made i32) (local $at i32) (local $bits i32) (local $bit i32)
  (local $v f64) (local $t f64) (local $o f64) (local $sink f64)
  ;; 1: the batch's rows, read ahead (independent loads: their misses overlap), first and last
  ;; double: a row that spans two cache lines would otherwise miss again in stage 2, one record
  ;; waiting for the other
  (block $touched (loop $touch
   (br_if $touched (i32.ge_u (local.get $j) (local.get $n)))
   (local.set $id ${idAt})
   (local.set $row ${rowOf})
   (local.set $sink (f64.add (local.get $sink) (f64.load (local.get $row))))
   ${rowBytes > 8 ? `(local.set $sink (f64.add (local.get $sink) (f64.load offset=${rowBytes - 8} (local.get $row))))` : ''}
   (local.set $j (i32.add (local.get $j) (i32.const 1)))
   (br $touch)))
  (f64.store (i32.const ${ROW_IO.sink}) (local.get $sink))
  ;; 2: each record in order: its row (created when absent), then its numbers
  (local.set $j (i32.const 0))
  (block $done (loop $record
   (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
   (local.set $id ${idAt})
   (local.set $row ${rowOf})
   (local.set $at (i32.add (local.get $present) (i32.shr_u (local.get $id) (i32.const 3))))
   (local.set $bits (i32.load8_u (local.get $at)))
   (local.set $bit (i32.shl (i32.const 1) (i32.and (local.get $id) (i32.const 7))))
   (if (i32.eqz (i32.and (local.get $bits) (local.get $bit))) (then
    (i32.store8 (local.get $at) (i32.or (local.get $bits) (local.get $bit)))
    ${init.join('\n    ')}
    (i32.store (i32.add (i32.const ${ROW_IO.newIds}) (i32.shl (local.get $made) (i32.const 2))) (local.get $id))
    (local.set $made (i32.add (local.get $made) (i32.const 1)))))
   ${update.join('\n   ')}
   (local.set $j (i32.add (local.get $j) (i32.const 1)))
   (br $record)))
  (local.get $made)))`;
}

interface RowKernelExports {
  apply(n: number, present: number, data: number): number;
}

const kernels = new Map<string, RowKernel>();

/**
 * The kernel for rows of `stride` doubles laid out as `fields` (those without a count are skipped),
 * or null: no field has numbers, or the assembler is not loaded. Compiled once per layout.
 */
export function rowKernel(fields: readonly RowField[], stride: number): RowKernel | null {
  const numeric = fields.filter((f) => f.count >= 0);
  if (numeric.length === 0) return null;
  const signature = `${stride}:${numeric.map((f) => `${f.count},${f.sum},${f.min},${f.max},${f.last}`).join(';')}`;
  const known = kernels.get(signature);
  if (known !== undefined) return known;
  const module = compileWat('row-update.wat', rowKernelWat(numeric, stride));
  if (module === null) return null;
  const kernel: RowKernel = {
    allocate(presentBytes, doubles, presentRoom = presentBytes) {
      const head = align8(ROW_IO.values + numeric.length * ROW_BATCH * 8);
      const room = Math.max(presentBytes, presentRoom);
      // Rows start on a cache line: rows of 32 bytes then never span two lines. The touch stage
      // reads a row's first and last double ahead, so a row of up to 64 bytes is read ahead whole.
      const dataAt = alignLine(head + room);
      const { memory, exports } = instantiateWithMemory(module, dataAt + doubles * 8);
      const run = (exports as RowKernelExports).apply;
      const apply = (n: number): number => run(n, head, dataAt);
      /** Views of the memory as it is now, for `bits` bytes of bitmap and `d` numbers. */
      const view = (bits: number, d: number): RowMemory => {
        const buf = memory.buffer;
        return {
          memory,
          io: {
            ids: new Int32Array(buf, ROW_IO.ids, ROW_BATCH),
            newIds: new Int32Array(buf, ROW_IO.newIds, ROW_BATCH),
            times: new Float64Array(buf, ROW_IO.times, ROW_BATCH),
            offsets: new Float64Array(buf, ROW_IO.offsets, ROW_BATCH),
            values: numeric.map(
              (_, k) => new Float64Array(buf, ROW_IO.values + k * ROW_BATCH * 8, ROW_BATCH),
            ),
          },
          present: new Uint8Array(buf, head, bits),
          data: new Float64Array(buf, dataAt, d),
          apply,
          resize(bitsNow, dNow) {
            if (bitsNow > room) return null;
            const short = dataAt + dNow * 8 - memory.buffer.byteLength;
            if (short > 0) {
              try {
                memory.grow(Math.ceil(short / WASM_PAGE));
              } catch (err) {
                if (err instanceof RangeError) return null;
                throw err;
              }
            }
            return view(bitsNow, dNow);
          },
        };
      };
      return view(presentBytes, doubles);
    },
  };
  kernels.set(signature, kernel);
  return kernel;
}
