const INITIAL_BYTES = 4096;

/**
 * The partials a level-2 window holds, one after another in one growing buffer, each behind a
 * u32 length: a partial costs its bytes and 4, where a Uint8Array of its own costs ~230 bytes of
 * object, ArrayBuffer and backing-store bookkeeping on top. Addressed by offset (the caller keeps
 * identity → offset). A replayed partial replaces its copy in place (same bytes, same length);
 * a different length is appended and the old copy counted as garbage until {@link compact}.
 */
export class PartialArena {
  private buf = new Uint8Array(INITIAL_BYTES);
  private view = new DataView(this.buf.buffer);
  private used = 0;
  /** Bytes of copies replaced by a longer or shorter one (dead until compaction). */
  garbage = 0;

  /** Bytes held (the buffer's capacity). */
  get capacity(): number {
    return this.buf.byteLength;
  }

  /** Appends a copy of `bytes`; returns its offset. */
  add(bytes: Uint8Array): number {
    const at = this.used;
    const end = at + 4 + bytes.length;
    if (end > this.buf.length) this.resize(Math.max(end, this.buf.length * 2));
    this.view.setUint32(at, bytes.length, true);
    this.buf.set(bytes, at + 4);
    this.used = end;
    return at;
  }

  /** Replaces the partial at `at` with `bytes`; returns where it now is. */
  replace(at: number, bytes: Uint8Array): number {
    const n = this.view.getUint32(at, true);
    if (n === bytes.length) {
      this.buf.set(bytes, at + 4);
      return at;
    }
    this.garbage += 4 + n;
    return this.add(bytes);
  }

  /** The partial at `at`: a view, valid until the next add, replace or compaction. */
  get(at: number): Uint8Array {
    const n = this.view.getUint32(at, true);
    return this.buf.subarray(at + 4, at + 4 + n);
  }

  /**
   * Rewrites the live partials into a buffer of their size: `offsets` lists every live offset,
   * and `moved(i, to)` is told where the i-th now is.
   */
  compact(offsets: readonly number[], moved: (i: number, to: number) => void): void {
    const old = this.buf;
    const oldView = this.view;
    let live = 0;
    for (const at of offsets) live += 4 + oldView.getUint32(at, true);
    this.buf = new Uint8Array(Math.max(INITIAL_BYTES, live));
    this.view = new DataView(this.buf.buffer);
    this.used = 0;
    this.garbage = 0;
    offsets.forEach((at, i) => {
      moved(i, this.add(old.subarray(at + 4, at + 4 + oldView.getUint32(at, true))));
    });
  }

  private resize(capacity: number): void {
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(0, this.used));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}
