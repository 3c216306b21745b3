/**
 * A first-in, first-out queue on an array with a moving head. Array#shift moves every element
 * left, which is quadratic over a long queue; here taking from the front is O(1), and the
 * taken front is cut off once it is more than half the array, so memory follows what is still
 * queued. The recorder keeps two such queues (its runs of uncommitted rows, and its spill
 * backlog), each of which can hold one entry per journal segment through a long outage.
 */
export class FifoQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, left in place. */
  first(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** The newest item, left in place. */
  last(): T | undefined {
    return this.head < this.items.length ? this.items[this.items.length - 1] : undefined;
  }

  /** Remove and return the oldest item. */
  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined; // let it be collected now
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return item;
  }
}
