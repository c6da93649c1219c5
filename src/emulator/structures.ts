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

/** A binary min-heap of (time, item) pairs kept in parallel arrays to avoid an object per entry. */
export class TimeHeap<T> {
  private times: number[] = [];
  private items: T[] = [];

  get size(): number {
    return this.times.length;
  }

  /** The smallest time, or Infinity when empty. */
  peekTime(): number {
    return this.times.length > 0 ? (this.times[0] as number) : Infinity;
  }

  push(time: number, item: T): void {
    const times = this.times;
    const items = this.items;
    let i = times.length;
    times.push(time);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent] as number;
      if (pt <= time) break;
      times[i] = pt;
      items[i] = items[parent] as T;
      i = parent;
    }
    times[i] = time;
    items[i] = item;
  }

  /** Removes the smallest entry; the caller reads it with peekTime/peekItem first. */
  pop(): T | undefined {
    const times = this.times;
    const items = this.items;
    const n = times.length;
    if (n === 0) return undefined;
    const top = items[0];
    const lastTime = times.pop() as number;
    const lastItem = items.pop() as T;
    const size = n - 1;
    if (size > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= size) break;
        const right = left + 1;
        const child = right < size && (times[right] as number) < (times[left] as number) ? right : left;
        if ((times[child] as number) >= lastTime) break;
        times[i] = times[child] as number;
        items[i] = items[child] as T;
        i = child;
      }
      times[i] = lastTime;
      items[i] = lastItem;
    }
    return top;
  }

  clear(): void {
    this.times = [];
    this.items = [];
  }
}
