/** A FIFO with O(1) push and shift; the consumed prefix is compacted away in bulk. */
export class Deque<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined as T;
    this.head += 1;
    // Compact once the dead prefix dominates, so memory follows the live length.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Visits live items from the front until `visit` returns false. */
  forEach(visit: (item: T) => boolean): void {
    for (let i = this.head; i < this.items.length; i += 1) {
      if (!visit(this.items[i] as T)) return;
    }
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

/** An item a TimeHeap can hold: it carries its own key and remembers where it sits (-1: not in the heap). */
export interface HeapItem {
  /** The key, in epoch ms; change it only through TimeHeap.update while the item is in the heap. */
  visibleAtMs: number;
  heapIndex: number;
}

/**
 * A binary min-heap keyed by `visibleAtMs` that tracks each item's position, so an item can be
 * removed or re-keyed in O(log n). Nothing stale stays behind after a delete or a visibility change,
 * which keeps memory proportional to the messages actually delayed or in flight.
 */
export class TimeHeap<T extends HeapItem> {
  private items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The smallest key, or Infinity when empty. */
  peekTime(): number {
    const top = this.items[0];
    return top ? top.visibleAtMs : Infinity;
  }

  push(item: T): void {
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.siftUp(item.heapIndex);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top) this.remove(top);
    return top;
  }

  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0 || this.items[i] !== item) return;
    const last = this.items.pop() as T;
    item.heapIndex = -1;
    if (last === item) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.siftUp(i);
    this.siftDown(last.heapIndex);
  }

  /** Restores heap order after the caller changed `item.visibleAtMs`; inserts it when absent. */
  update(item: T): void {
    if (item.heapIndex < 0 || this.items[item.heapIndex] !== item) {
      this.push(item);
      return;
    }
    this.siftUp(item.heapIndex);
    this.siftDown(item.heapIndex);
  }

  clear(): void {
    for (const item of this.items) item.heapIndex = -1;
    this.items = [];
  }

  private siftUp(start: number): void {
    const items = this.items;
    const item = items[start] as T;
    const key = item.visibleAtMs;
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as T;
      if (p.visibleAtMs <= key) break;
      items[i] = p;
      p.heapIndex = i;
      i = parent;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  private siftDown(start: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[start] as T;
    const key = item.visibleAtMs;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && (items[right] as T).visibleAtMs < (items[left] as T).visibleAtMs) child = right;
      const c = items[child] as T;
      if (c.visibleAtMs >= key) break;
      items[i] = c;
      c.heapIndex = i;
      i = child;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
