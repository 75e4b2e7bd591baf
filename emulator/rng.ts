// Seeded randomness for everything the emulator invents (IDs, MACs, request IDs, fault
// rolls), so that a test with a fixed seed sees the same world and the same faults each run.

/** A deterministic source of numbers in [0, 1): mulberry32, small and good enough for tests. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The generator's position, persisted with the state so a restarted emulator never repeats an ID. */
  get position(): number {
    return this.state;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  /** Tencent resource IDs use 8 lowercase letters or digits after the prefix (eni-4tg8xk2m). */
  id(prefix: string): string {
    const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    let s = "";
    for (let i = 0; i < 8; i++) s += alphabet[this.int(alphabet.length)];
    return `${prefix}-${s}`;
  }

  hex(bytes: number): string {
    let s = "";
    for (let i = 0; i < bytes; i++) s += this.int(256).toString(16).padStart(2, "0");
    return s;
  }

  /** A UUID-shaped string (version 4 layout) for RequestIds and task IDs. */
  uuid(): string {
    const h = this.hex(16);
    const variant = ((parseInt(h[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** Locally administered unicast MAC in the 20:90:6f:.. style Tencent ENIs show, upper case. */
  mac(): string {
    const tail = this.hex(3).match(/../g) ?? [];
    return ["20", "90", "6F", ...tail.map((b) => b.toUpperCase())].join(":");
  }

  /** Picks a value by exponential distribution with the given mean (latency faults). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }
}
