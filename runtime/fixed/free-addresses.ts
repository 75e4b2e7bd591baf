// The lowest free address of one subnet without scanning the subnet: a cursor below which every
// free address sits in a min-heap. Part of the state's index (state-index.ts), not of the state.
//
// Invariant: every usable address below `cursor` that is free is in `heap`. The heap may also
// hold addresses taken again since (and duplicates): they are dropped lazily when they reach the
// top, so a pick is O(log n) amortised and a release O(log n).

export class FreeAddresses {
  private cursor: number;
  private readonly heap: number[] = [];

  /** A fresh cursor at `first` with an empty heap satisfies the invariant for any state. */
  constructor(
    first: number,
    private readonly end: number,
  ) {
    this.cursor = first;
  }

  /** The lowest address for which isFree holds, or null. Moves the cursor past held addresses only. */
  lowest(isFree: (n: number) => boolean): number | null {
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      if (isFree(top)) return top;
      this.pop();
    }
    while (this.cursor < this.end && !isFree(this.cursor)) this.cursor++;
    return this.cursor < this.end ? this.cursor : null;
  }

  /** An address was taken: at the cursor, step past it now rather than probe it on the next pick. */
  held(n: number): void {
    if (n === this.cursor) this.cursor++;
  }

  /** An address became free again; above the cursor the scan finds it anyway. */
  released(n: number): void {
    if (n >= this.cursor) return;
    const h = this.heap;
    h.push(n);
    for (let i = h.length - 1; i > 0; ) {
      const up = (i - 1) >> 1;
      if (h[up]! <= h[i]!) break;
      [h[up], h[i]] = [h[i]!, h[up]!];
      i = up;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]! < h[m]!) m = l;
      if (r < h.length && h[r]! < h[m]!) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}
