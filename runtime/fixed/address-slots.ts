// Addresses (unsigned 32-bit numbers) to slots of the claim table: open addressing with linear
// probing over two typed arrays, so that 300,000 addresses cost two numbers each and no object
// or string (a Map of 300,000 numbers alone took 24 MB of RSS in Bun). Deletion shifts the rest of a run back
// rather than leaving tombstones, so lookups never slow down with churn.

/** No slot. */
export const NONE = -1;

/** Addresses (unsigned 32-bit) to slots: open addressing over two typed arrays. */
export class AddressSlots {
  private keys = new Uint32Array(64);
  private slots = new Int32Array(64).fill(NONE);
  private shift = 32 - 6;
  private count = 0;

  /** The top bits of a multiplicative hash (its low bits follow the address's low bits only). */
  private home(ip: number): number {
    return Math.imul(ip, 0x9e3779b1) >>> this.shift;
  }

  get(ip: number): number {
    const mask = this.keys.length - 1;
    for (let i = this.home(ip); this.slots[i] !== NONE; i = (i + 1) & mask)
      if (this.keys[i] === ip) return this.slots[i]!;
    return NONE;
  }

  set(ip: number, slot: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    let i = this.home(ip);
    for (; this.slots[i] !== NONE; i = (i + 1) & mask) {
      if (this.keys[i] === ip) {
        this.slots[i] = slot;
        return;
      }
    }
    this.keys[i] = ip;
    this.slots[i] = slot;
    this.count++;
  }

  delete(ip: number): void {
    const mask = this.keys.length - 1;
    let i = this.home(ip);
    while (this.slots[i] !== NONE && this.keys[i] !== ip) i = (i + 1) & mask;
    if (this.slots[i] === NONE) return;
    this.slots[i] = NONE;
    this.count--;
    // backward shift: an entry further along the run whose home is not in (i, j] moves into
    // the hole, so that no lookup stops early at it
    for (let j = (i + 1) & mask; this.slots[j] !== NONE; j = (j + 1) & mask) {
      const h = this.home(this.keys[j]!);
      const stays = i <= j ? i < h && h <= j : i < h || h <= j;
      if (stays) continue;
      this.keys[i] = this.keys[j]!;
      this.slots[i] = this.slots[j]!;
      this.slots[j] = NONE;
      i = j;
    }
  }

  private grow(): void {
    const [keys, slots] = [this.keys, this.slots];
    this.keys = new Uint32Array(keys.length * 2);
    this.slots = new Int32Array(keys.length * 2).fill(NONE);
    this.shift--;
    this.count = 0;
    for (let i = 0; i < keys.length; i++) if (slots[i] !== NONE) this.set(keys[i]!, slots[i]!);
  }
}
