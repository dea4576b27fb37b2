import type { ByteReader, ByteWriter } from '../codec/byte-io.js';

/** Values closer to zero than this are counted as zero (DDSketch's "zero bucket"). */
const MIN_INDEXABLE = 1e-9;
/** Bins kept per sign before the lowest ones are collapsed (bounds memory; only the extreme low tail loses accuracy). */
const DEFAULT_MAX_BINS = 2048;

/**
 * Counts per bin index over a contiguous range [offset, offset + counts.length), growing as needed.
 * When more than `maxBins` bins would be needed, the lowest bins are collapsed into one.
 */
class DenseStore {
  counts = new Float64Array(0);
  offset = 0;
  total = 0;

  constructor(private readonly maxBins: number) {}

  /** Adds `count` at bin `index`; returns the change in bytes held (non-zero only when grown). */
  add(index: number, count: number): number {
    let grown = 0;
    if (this.counts.length === 0) {
      this.counts = new Float64Array(16);
      this.offset = index - 8;
      grown = this.counts.byteLength;
    }
    if (index < this.offset || index >= this.offset + this.counts.length) {
      const before = this.counts.byteLength;
      this.extend(index);
      grown += this.counts.byteLength - before;
    }
    const i = Math.max(0, index - this.offset);
    this.counts[i] = this.counts[i]! + count;
    this.total += count;
    return grown;
  }

  private extend(index: number): void {
    const lo = Math.min(this.offset, index);
    const hi = Math.max(this.offset + this.counts.length - 1, index);
    let len = hi - lo + 1;
    let newOffset = lo;
    // Slack on the growing side keeps amortized growth cheap.
    const slack = Math.min(32, Math.max(0, this.maxBins - len));
    len += slack;
    if (index < this.offset) newOffset -= slack;
    if (len > this.maxBins) {
      // Collapse: keep the top maxBins bins; everything below goes to the lowest kept bin.
      newOffset = hi - this.maxBins + 1;
      len = this.maxBins;
    }
    const next = new Float64Array(len);
    for (let i = 0; i < this.counts.length; i++) {
      const c = this.counts[i]!;
      if (c === 0) continue;
      const j = Math.max(0, this.offset + i - newOffset);
      next[j] = next[j]! + c;
    }
    this.counts = next;
    this.offset = newOffset;
  }

  bytes(): number {
    return this.counts.byteLength + 32;
  }
}

/**
 * DDSketch (Masson, Rim, Lee, VLDB 2019): a quantile sketch with relative accuracy α — every
 * reported quantile q̂ of a value set satisfies |q̂ − x| ≤ α·|x| for the true order statistic x —
 * and exact, associative, commutative merges (bin counts add). Values map to bin
 * i = ⌈log_γ |v|⌉ with γ = (1 + α) / (1 − α); a bin reports 2γ^i / (γ + 1), which is within α of
 * every value in (γ^(i−1), γ^i].
 */
export class DDSketch {
  readonly relativeAccuracy: number;
  private readonly gamma: number;
  private readonly logGamma: number;
  private readonly positive: DenseStore;
  private readonly negative: DenseStore;
  private zeroCount = 0;

  constructor(relativeAccuracy = 0.01, maxBins = DEFAULT_MAX_BINS) {
    if (!(relativeAccuracy > 0 && relativeAccuracy < 1)) {
      throw new RangeError(`DDSketch relativeAccuracy ${relativeAccuracy} is not in (0, 1)`);
    }
    this.relativeAccuracy = relativeAccuracy;
    this.gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
    this.logGamma = Math.log(this.gamma);
    this.positive = new DenseStore(maxBins);
    this.negative = new DenseStore(maxBins);
  }

  get count(): number {
    return this.zeroCount + this.positive.total + this.negative.total;
  }

  private index(v: number): number {
    return Math.ceil(Math.log(v) / this.logGamma);
  }

  private value(index: number): number {
    return (2 * this.gamma ** index) / (this.gamma + 1);
  }

  /** Adds a value; returns the change in bytes held (for memory accounting; usually 0). */
  add(v: number, count = 1): number {
    if (v > MIN_INDEXABLE) return this.positive.add(this.index(v), count);
    if (v < -MIN_INDEXABLE) return this.negative.add(this.index(-v), count);
    this.zeroCount += count;
    return 0;
  }

  /** Adds `other`'s counts (same relative accuracy required). */
  merge(other: DDSketch): void {
    if (other.relativeAccuracy !== this.relativeAccuracy) {
      throw new RangeError(
        `cannot merge DDSketches of relative accuracy ${other.relativeAccuracy} and ${this.relativeAccuracy}`,
      );
    }
    this.zeroCount += other.zeroCount;
    for (const [mine, theirs] of [
      [this.positive, other.positive],
      [this.negative, other.negative],
    ] as const) {
      for (let i = 0; i < theirs.counts.length; i++) {
        const c = theirs.counts[i]!;
        if (c !== 0) mine.add(theirs.offset + i, c);
      }
    }
  }

  /** The q-quantile (q in [0, 1]) of the values added; NaN when empty. */
  quantile(q: number): number {
    const n = this.count;
    if (n === 0) return Number.NaN;
    const rank = q * (n - 1);
    let seen = 0;
    // Ascending order: most negative first (highest negative index), then zero, then positive.
    const neg = this.negative;
    for (let i = neg.counts.length - 1; i >= 0; i--) {
      seen += neg.counts[i]!;
      if (seen > rank) return -this.value(neg.offset + i);
    }
    seen += this.zeroCount;
    if (seen > rank) return 0;
    const pos = this.positive;
    for (let i = 0; i < pos.counts.length; i++) {
      seen += pos.counts[i]!;
      if (seen > rank) return this.value(pos.offset + i);
    }
    return this.value(pos.offset + pos.counts.length - 1);
  }

  /** Approximate heap bytes held. */
  bytes(): number {
    return 64 + this.positive.bytes() + this.negative.bytes();
  }

  write(w: ByteWriter): void {
    w.f64(this.relativeAccuracy).f64(this.zeroCount);
    for (const s of [this.positive, this.negative]) {
      // Trim empty bins at both ends: serialized size follows the data, not the slack.
      let lo = 0;
      let hi = s.counts.length - 1;
      while (lo <= hi && s.counts[lo] === 0) lo++;
      while (hi >= lo && s.counts[hi] === 0) hi--;
      const len = hi >= lo ? hi - lo + 1 : 0;
      w.i32(s.offset + lo).u32(len);
      for (let i = lo; i <= hi; i++) w.f64(s.counts[i]!);
    }
  }

  static read(r: ByteReader): DDSketch {
    const alpha = r.f64();
    r.expect(alpha > 0 && alpha < 1, `DDSketch relative accuracy ${alpha} is not in (0, 1)`);
    const sketch = new DDSketch(alpha);
    sketch.zeroCount = r.f64();
    r.expect(sketch.zeroCount >= 0, 'negative zero count');
    for (const s of [sketch.positive, sketch.negative]) {
      const offset = r.i32();
      const len = r.u32();
      r.expect(len <= 1 << 20, `DDSketch store of ${len} bins`);
      for (let i = 0; i < len; i++) {
        const c = r.f64();
        r.expect(c >= 0, 'negative bin count');
        if (c > 0) s.add(offset + i, c);
      }
    }
    return sketch;
  }
}
