/**
 * An indexed binary min-heap of slots, for timeout scheduling: the table keeps one entry per key
 * that has a pending timeout, and moves it when the key's due time changes (O(log n)), so firing
 * timeouts never scans all keys. Storage is two Int32Arrays (heap order and each slot's position).
 */
export class TimeoutHeap {
  private heap: Int32Array;
  private pos: Int32Array;
  private n = 0;

  /**
   * @param less strict order on slots (the table orders by due time, then series key)
   * @param capacity initial number of slots
   */
  constructor(
    private readonly less: (a: number, b: number) => boolean,
    capacity: number,
  ) {
    this.heap = new Int32Array(capacity);
    this.pos = new Int32Array(capacity).fill(-1);
  }

  /** Number of scheduled slots. */
  get size(): number {
    return this.n;
  }

  /** Slots the heap has room for. */
  get capacity(): number {
    return this.pos.length;
  }

  /** Bytes held by the heap's arrays. */
  get byteLength(): number {
    return this.heap.byteLength + this.pos.byteLength;
  }

  /** Makes room for slots < capacity. */
  grow(capacity: number): void {
    if (capacity <= this.pos.length) return;
    const heap = new Int32Array(capacity);
    heap.set(this.heap.subarray(0, this.n));
    const pos = new Int32Array(capacity).fill(-1);
    pos.set(this.pos);
    this.heap = heap;
    this.pos = pos;
  }

  /** Gives back room above `capacity`; every scheduled slot must be below it. */
  shrink(capacity: number): void {
    if (capacity >= this.pos.length) return;
    for (let i = 0; i < this.n; i++) {
      if ((this.heap[i] as number) >= capacity) throw new RangeError(`slot ${this.heap[i]} is scheduled`);
    }
    this.heap = this.heap.slice(0, capacity);
    this.pos = this.pos.slice(0, capacity);
  }

  /** True when `slot` is scheduled. */
  has(slot: number): boolean {
    return (this.pos[slot] as number) >= 0;
  }

  /** The slot due first, or -1 when empty. */
  peek(): number {
    return this.n === 0 ? -1 : (this.heap[0] as number);
  }

  /** Inserts `slot`, or restores heap order after its due time changed. */
  update(slot: number): void {
    const i = this.pos[slot] as number;
    if (i < 0) {
      const at = this.n++;
      this.heap[at] = slot;
      this.pos[slot] = at;
      this.siftUp(at);
      return;
    }
    if (!this.siftUp(i)) this.siftDown(i);
  }

  /** Appends `slot` without ordering (bulk load); call {@link heapify} before any other operation. */
  pushUnordered(slot: number): void {
    const at = this.n++;
    this.heap[at] = slot;
    this.pos[slot] = at;
  }

  /** Restores heap order after bulk loading, in O(n). */
  heapify(): void {
    for (let i = (this.n >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** Removes `slot` if scheduled. */
  remove(slot: number): void {
    const i = this.pos[slot] as number;
    if (i < 0) return;
    this.pos[slot] = -1;
    const last = this.heap[--this.n] as number;
    if (i === this.n) return;
    this.heap[i] = last;
    this.pos[last] = i;
    if (!this.siftUp(i)) this.siftDown(i);
  }

  private siftUp(start: number): boolean {
    const heap = this.heap;
    const slot = heap[start] as number;
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as number;
      if (!this.less(slot, p)) break;
      heap[i] = p;
      this.pos[p] = i;
      i = parent;
    }
    heap[i] = slot;
    this.pos[slot] = i;
    return i !== start;
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    const n = this.n;
    const slot = heap[start] as number;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.less(heap[r] as number, heap[l] as number)) c = r;
      const cs = heap[c] as number;
      if (!this.less(cs, slot)) break;
      heap[i] = cs;
      this.pos[cs] = i;
      i = c;
    }
    heap[i] = slot;
    this.pos[slot] = i;
  }
}
