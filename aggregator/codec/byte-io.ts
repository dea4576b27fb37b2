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

  /** Length-prefixed UTF-8 string. */
  str(s: string): this {
    return this.bytes(encoder.encode(s));
  }

  /** The bytes written; a view (no copy) when the buffer is nearly full, else a right-sized copy. */
  finish(): Uint8Array {
    return this.pos * 8 >= this.buf.length * 7 ? this.buf.subarray(0, this.pos) : this.buf.slice(0, this.pos);
  }
}

/** Bounds-checked reader for {@link ByteWriter} output; throws {@link CorruptStateError}. */
export class ByteReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new CorruptStateError(
        this.what,
        `truncated at byte ${this.pos} (needs ${n} more of ${this.buf.length})`,
      );
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** The next `n` bytes as a view (no copy); valid while the snapshot's buffer is. */
  span(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Copies `byteLength` raw bytes into `target` (a typed array's storage). */
  rawInto(target: ArrayBufferView, byteLength: number): void {
    this.need(byteLength);
    new Uint8Array(target.buffer, target.byteOffset, byteLength).set(
      this.buf.subarray(this.pos, this.pos + byteLength),
    );
    this.pos += byteLength;
  }

  str(): string {
    const b = this.bytes();
    try {
      return decoder.decode(b);
    } catch {
      throw new CorruptStateError(this.what, `invalid UTF-8 string before byte ${this.pos}`);
    }
  }

  /** Fails unless a known value was read (a magic number, a version, a count in range). */
  expect(ok: boolean, detail: string): void {
    if (!ok) throw new CorruptStateError(this.what, detail);
  }

  done(): boolean {
    return this.pos === this.buf.length;
  }
}
