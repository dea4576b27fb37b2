import type { ByteReader, ByteWriter } from '../codec/byte-io.js';

/** MurmurHash3 x86 32-bit over a string's UTF-16 code units (deterministic across runs and hosts). */
export function murmur3(s: string, seed: number): number {
  let h = seed | 0;
  const n = s.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let k = (s.charCodeAt(i) & 0xffff) | ((s.charCodeAt(i + 1) & 0xffff) << 16);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < n) {
    let k = s.charCodeAt(i) & 0xffff;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n * 2;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const MODE_SPARSE = 1;
const MODE_DENSE = 2;

/**
 * HyperLogLog (Flajolet et al. 2007) with 2^p one-byte registers, standard error ≈ 1.04/√(2^p),
 * linear counting for small cardinalities, and a sparse mode (sorted (register, rank) pairs)
 * while few registers are set, so a series that sees few distinct values costs bytes, not 2^p.
 * Merge takes the register-wise max: exact, associative, commutative, idempotent.
 * Hash: two MurmurHash3 seeds give 64 bits (p bits of register index, up to 64 − p of rank).
 */
export class HyperLogLog {
  readonly precision: number;
  private readonly m: number;
  private dense: Uint8Array | null = null;
  /** Sparse entries `register << 8 | rank`, sorted by register. */
  private sparse: number[] = [];

  constructor(precision = 12) {
    if (!(Number.isInteger(precision) && precision >= 4 && precision <= 16)) {
      throw new RangeError(`HyperLogLog precision ${precision} is not an integer in [4, 16]`);
    }
    this.precision = precision;
    this.m = 1 << precision;
  }

  /** Adds a value; returns the change in bytes held (for memory accounting). */
  add(value: string): number {
    const h1 = murmur3(value, 0x9747b28c);
    const p = this.precision;
    const register = h1 >>> (32 - p);
    const rest = (h1 << p) >>> 0;
    let rank: number;
    if (rest !== 0) rank = Math.clz32(rest) + 1;
    else rank = 32 - p + Math.clz32(murmur3(value, 0x5bd1e995)) + 1;
    return this.set(register, rank);
  }

  private set(register: number, rank: number): number {
    if (this.dense) {
      if (rank > this.dense[register]!) this.dense[register] = rank;
      return 0;
    }
    // Binary search the sorted sparse list.
    const s = this.sparse;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! >>> 8 < register) lo = mid + 1;
      else hi = mid;
    }
    if (lo < s.length && s[lo]! >>> 8 === register) {
      if (rank > (s[lo]! & 0xff)) s[lo] = (register << 8) | rank;
      return 0;
    }
    s.splice(lo, 0, (register << 8) | rank);
    // A sparse entry costs ~8 bytes; go dense once that exceeds the dense size.
    if (s.length * 8 > this.m) {
      const before = s.length * 8;
      this.toDense();
      return this.m - before + 8;
    }
    return 8;
  }

  private toDense(): void {
    const d = new Uint8Array(this.m);
    for (const e of this.sparse) d[e >>> 8] = e & 0xff;
    this.dense = d;
    this.sparse = [];
  }

  merge(other: HyperLogLog): void {
    if (other.precision !== this.precision) {
      throw new RangeError(`cannot merge HyperLogLogs of precision ${other.precision} and ${this.precision}`);
    }
    if (other.dense) {
      if (!this.dense) this.toDense();
      const mine = this.dense!;
      const theirs = other.dense;
      for (let i = 0; i < this.m; i++) if (theirs[i]! > mine[i]!) mine[i] = theirs[i]!;
    } else {
      for (const e of other.sparse) this.set(e >>> 8, e & 0xff);
    }
  }

  /** Estimated number of distinct values added. */
  estimate(): number {
    const m = this.m;
    let sum = 0;
    let zeros = 0;
    if (this.dense) {
      for (let i = 0; i < m; i++) {
        const r = this.dense[i]!;
        sum += 2 ** -r;
        if (r === 0) zeros++;
      }
    } else {
      zeros = m - this.sparse.length;
      sum = zeros;
      for (const e of this.sparse) sum += 2 ** -(e & 0xff);
    }
    const alpha = m === 16 ? 0.673 : m === 32 ? 0.697 : m === 64 ? 0.709 : 0.7213 / (1 + 1.079 / m);
    const raw = (alpha * m * m) / sum;
    // Small range: linear counting is more accurate while registers are still empty.
    if (raw <= 2.5 * m && zeros > 0) return m * Math.log(m / zeros);
    return raw;
  }

  bytes(): number {
    return 48 + (this.dense ? this.m : this.sparse.length * 8);
  }

  write(w: ByteWriter): void {
    w.u8(this.precision);
    if (this.dense) {
      w.u8(MODE_DENSE).raw(this.dense, this.m);
    } else {
      w.u8(MODE_SPARSE).u32(this.sparse.length);
      for (const e of this.sparse) w.u32(e);
    }
  }

  static read(r: ByteReader): HyperLogLog {
    const p = r.u8();
    r.expect(p >= 4 && p <= 16, `HyperLogLog precision ${p}`);
    const hll = new HyperLogLog(p);
    const mode = r.u8();
    if (mode === MODE_DENSE) {
      const d = new Uint8Array(hll.m);
      r.rawInto(d, hll.m);
      hll.dense = d;
    } else {
      r.expect(mode === MODE_SPARSE, `HyperLogLog mode ${mode}`);
      const n = r.u32();
      r.expect(n <= hll.m, `HyperLogLog with ${n} sparse entries`);
      for (let i = 0; i < n; i++) {
        const e = r.u32();
        r.expect(e >>> 8 < hll.m && (e & 0xff) <= 65, `HyperLogLog entry ${e}`);
        hll.set(e >>> 8, e & 0xff);
      }
    }
    return hll;
  }
}
