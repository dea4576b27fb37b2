/** Thrown when bytes that should be a snapshot or a partial are not one. */
export class CorruptStateError extends Error {
  readonly code = 'CORRUPT_STATE';
  readonly retryable = false;
  constructor(what: string, detail: string) {
    super(`${what} is corrupt: ${detail}; skip it (a checkpoint falls back to the previous one)`);
    this.name = 'CorruptStateError';
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Little-endian binary writer over a growable buffer. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialBytes = 1024) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
    return this;
  }

  i32(v: number): this {
    this.ensure(4);
    this.view.setInt32(this.pos, v, true);
    this.pos += 4;
    return this;
  }

  f64(v: number): this {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
    return this;
  }

  /** Length-prefixed bytes. */
  bytes(b: Uint8Array): this {
    this.u32(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Raw bytes of a typed array's first `count` elements (no length prefix). */
  raw(a: ArrayBufferView, byteLength: number): this {
    this.ensure(byteLength);
    this.buf.set(new Uint8Array(a.buffer, a.byteOffset, byteLength), this.pos);
    this.pos += byteLength;
    return this;
  }

  /** Raw bytes `src[start, start + n)` (no length prefix). */
  copyFrom(src: Uint8Array, start: number, n: number): this {
    this.ensure(n);
    const buf = this.buf;
    if (n < 64) {
      let p = this.pos;
      for (let i = start; i < start + n; i++) buf[p++] = src[i]!;
    } else {
      buf.set(src.subarray(start, start + n), this.pos);
    }
    this.pos += n;
    return this;
  }

  /**
   * Length-prefixed UTF-8 string. ASCII (series keys, names) is written char by char: no
   * intermediate array per string; anything else is encoded in place.
   */
  str(s: string): this {
    const n = s.length;
    this.ensure(4 + n);
    const buf = this.buf;
    const at = this.pos;
    let p = at + 4;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return this.strUtf8(s);
      buf[p++] = c;
    }
    this.view.setUint32(at, n, true);
    this.pos = p;
    return this;
  }

  private strUtf8(s: string): this {
    this.ensure(4 + s.length * 3);
    const { written } = encoder.encodeInto(s, this.buf.subarray(this.pos + 4));
    this.view.setUint32(this.pos, written, true);
    this.pos += 4 + written;
    return this;
  }

  /** Forgets what was written (the buffer is kept): a writer reused for many small values. */
  reset(): this {
    this.pos = 0;
    return this;
  }

  /** The bytes written; a view (no copy) when the buffer is nearly full, else a right-sized copy. */
  finish(): Uint8Array {
    return this.pos * 8 >= this.buf.length * 7 ? this.buf.subarray(0, this.pos) : this.buf.slice(0, this.pos);
  }

  /** A right-sized copy of the bytes written (the writer may be reset and reused). */
  copy(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/**
 * Where readers assemble a number that straddles two parts: one for all of them (a reader per
 * partial decoded made an ArrayBuffer and a DataView each, for a case that is rare).
 */
const STRADDLE = new Uint8Array(8);
const STRADDLE_VIEW = new DataView(STRADDLE.buffer);

/** What a handed-over part is replaced with once read past (see ByteReader `release`). */
const RELEASED = new Uint8Array(0);

/** A byte sequence, whole or as consecutive parts (a checkpoint's decompressed blocks, read without joining them). */
export type Bytes = Uint8Array | readonly Uint8Array[];

/** The parts of `bytes` as one Uint8Array (a view when there is one part). */
export function joinBytes(bytes: Bytes): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes.length === 1) return bytes[0]!;
  let n = 0;
  for (const p of bytes) n += p.byteLength;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of bytes) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

/**
 * Bounds-checked reader for {@link ByteWriter} output; throws {@link CorruptStateError}. Reads one
 * buffer or consecutive parts of one (as if joined: a value may straddle two parts), so a
 * checkpoint restores from its decompressed blocks without first copying them into one buffer.
 */
export class ByteReader {
  private readonly parts: readonly Uint8Array[];
  /** The caller's parts when handed over (`release`): each is dropped from it once read past. */
  private readonly handedOver: Uint8Array[] | null;
  /** The current part, its index, the read position inside it and its start in the whole. */
  private buf: Uint8Array;
  private view: DataView;
  private part = 0;
  private pos = 0;
  private base = 0;
  /** Bytes in all parts. */
  readonly length: number;
  /** Assembles a number that straddles two parts (shared: used within one read call only). */
  private readonly scratch = STRADDLE;
  private readonly scratchView = STRADDLE_VIEW;

  /**
   * @param opts.release the parts are handed over: once the reader has read past one, it replaces
   *   it in the caller's (mutable) array with an empty one, so a restore that builds its own
   *   structures from a checkpoint's blocks holds the state about once, not twice (the blocks
   *   are collectable as soon as they are read).
   */
  constructor(
    bytes: Bytes,
    private readonly what: string,
    opts: { release?: boolean } = {},
  ) {
    this.parts = bytes instanceof Uint8Array ? [bytes] : bytes.length > 0 ? bytes : [new Uint8Array(0)];
    this.handedOver = opts.release && !(bytes instanceof Uint8Array) ? (bytes as Uint8Array[]) : null;
    let n = 0;
    for (const p of this.parts) n += p.byteLength;
    this.length = n;
    this.buf = this.parts[0]!;
    this.view = viewOf(this.buf);
    this.settle();
  }

  /** Moves past exhausted parts, so `pos` is inside `buf` unless the end is reached. */
  private settle(): void {
    while (this.pos === this.buf.length && this.part + 1 < this.parts.length) {
      this.base += this.buf.length;
      if (this.handedOver) this.handedOver[this.part] = RELEASED;
      this.buf = this.parts[++this.part]!;
      this.view = viewOf(this.buf);
      this.pos = 0;
    }
  }

  private need(n: number): void {
    const at = this.base + this.pos;
    if (at + n > this.length) {
      throw new CorruptStateError(this.what, `truncated at byte ${at} (needs ${n} more of ${this.length})`);
    }
  }

  /** Copies the next `n` bytes (present: checked by the caller) into `out` at `at`, across parts. */
  private copyOut(out: Uint8Array, at: number, n: number): void {
    let done = 0;
    while (done < n) {
      const take = Math.min(n - done, this.buf.length - this.pos);
      out.set(this.buf.subarray(this.pos, this.pos + take), at + done);
      this.pos += take;
      done += take;
      this.settle();
    }
  }

  /** Where the next `n` bytes (present) can be read by a DataView: the part's view, or the scratch. */
  private numberAt(n: number): number {
    if (this.pos + n <= this.buf.length) {
      const at = this.pos;
      this.pos += n;
      this.settle();
      return at;
    }
    this.copyOut(this.scratch, 0, n);
    return -1;
  }

  u8(): number {
    this.need(1);
    const v = this.buf[this.pos++]!;
    this.settle();
    return v;
  }

  u32(): number {
    this.need(4);
    const view = this.view;
    const at = this.numberAt(4);
    return at >= 0 ? view.getUint32(at, true) : this.scratchView.getUint32(0, true);
  }

  i32(): number {
    this.need(4);
    const view = this.view;
    const at = this.numberAt(4);
    return at >= 0 ? view.getInt32(at, true) : this.scratchView.getInt32(0, true);
  }

  f64(): number {
    this.need(8);
    const view = this.view;
    const at = this.numberAt(8);
    return at >= 0 ? view.getFloat64(at, true) : this.scratchView.getFloat64(0, true);
  }

  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const out = new Uint8Array(n);
    this.copyOut(out, 0, n);
    return out;
  }

  /**
   * The next `n` bytes: a view (no copy, valid while the snapshot's buffer is) when they lie in
   * one part, else a copy.
   */
  span(n: number): Uint8Array {
    this.need(n);
    if (this.pos + n <= this.buf.length) {
      const out = this.buf.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.settle();
      return out;
    }
    const out = new Uint8Array(n);
    this.copyOut(out, 0, n);
    return out;
  }

  /** Skips a length-prefixed string or byte string without decoding it. */
  skipBytes(): void {
    let n = this.u32();
    this.need(n);
    while (n > 0) {
      const step = Math.min(n, this.buf.length - this.pos);
      this.pos += step;
      n -= step;
      this.settle();
    }
  }

  /** Copies `byteLength` raw bytes into `target` (a typed array's storage). */
  rawInto(target: ArrayBufferView, byteLength: number): void {
    this.need(byteLength);
    this.copyOut(new Uint8Array(target.buffer, target.byteOffset, byteLength), 0, byteLength);
  }

  str(): string {
    // A view when the string lies in one part (decoding copies anyway): no Uint8Array per string.
    const b = this.span(this.u32());
    try {
      return decoder.decode(b);
    } catch {
      throw new CorruptStateError(this.what, `invalid UTF-8 string before byte ${this.base + this.pos}`);
    }
  }

  /** Fails unless a known value was read (a magic number, a version, a count in range). */
  expect(ok: boolean, detail: string): void {
    if (!ok) throw new CorruptStateError(this.what, detail);
  }

  done(): boolean {
    return this.base + this.pos === this.length;
  }
}

function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
