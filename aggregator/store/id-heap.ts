const MIN_CAPACITY = 16;

/**
 * A binary min-heap of distinct non-negative ids in an Int32Array (4 bytes per id): the free ids
 * of the series dictionary, handed out lowest first so that the ids in use gather at the bottom
 * and the top of the id space can be given back after a peak. Which id {@link popMin} returns
 * depends only on the set of ids held, not on the order they came in.
 */
export class IdHeap {
  private a = new Int32Array(MIN_CAPACITY);
  private n = 0;

  /** A heap of `ids` (distinct). */
  static of(ids: ArrayLike<number>): IdHeap {
    const h = new IdHeap();
    h.a = new Int32Array(Math.max(MIN_CAPACITY, ids.length));
    for (let i = 0; i < ids.length; i++) h.a[i] = ids[i]!;
    h.n = ids.length;
    h.heapify();
    return h;
  }

  size(): number {
    return this.n;
  }

  /** Bytes of typed storage held. */
  bytes(): number {
    return this.a.byteLength;
  }

  /** The lowest id (the heap must not be empty). */
  peek(): number {
    return this.a[0]!;
  }

  push(id: number): void {
    if (this.n === this.a.length) {
      const next = new Int32Array(this.a.length * 2);
      next.set(this.a);
      this.a = next;
    }
    const a = this.a;
    let i = this.n++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= id) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = id;
  }

  /** Removes and returns the lowest id (the heap must not be empty). */
  popMin(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a[--this.n]!;
    if (this.n > 0) this.siftDown(0, last);
    return top;
  }

  /** Keeps only the ids below `limit` (and gives back the room of the others). */
  keepBelow(limit: number): void {
    let k = 0;
    for (let i = 0; i < this.n; i++) if (this.a[i]! < limit) this.a[k++] = this.a[i]!;
    this.n = k;
    if (this.a.length > Math.max(MIN_CAPACITY, k * 4))
      this.a = this.a.slice(0, Math.max(MIN_CAPACITY, k * 2));
    this.heapify();
  }

  /** The ids held, in no particular order. */
  toArray(): number[] {
    return Array.from(this.a.subarray(0, this.n));
  }

  private heapify(): void {
    for (let i = (this.n >> 1) - 1; i >= 0; i--) this.siftDown(i, this.a[i]!);
  }

  /** Places `id` at `i` or below, moving smaller children up. */
  private siftDown(start: number, id: number): void {
    const a = this.a;
    const n = this.n;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && a[child + 1]! < a[child]!) child++;
      if (a[child]! >= id) break;
      a[i] = a[child]!;
      i = child;
    }
    a[i] = id;
  }
}
