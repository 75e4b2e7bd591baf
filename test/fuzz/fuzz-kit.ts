// Seeded generators for hostile input: the same seed gives the same cases, so a failure names
// its seed and case number and replays exactly.
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  /** xorshift32, uniform in [0, 1). */
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const NASTY = [
  "",
  " ",
  "\u0000",
  "../../etc/passwd",
  "a".repeat(5000),
  "\u202e\u0301",
  "${HOME}",
  "$(reboot)",
  "`id`",
  "'\"",
  "%00",
  "\n\r",
  "-1",
  "1e309",
  "NaN",
  "null",
  "{}",
  "[]",
  "\uD800",
];

/** A string that is sometimes plausible and often hostile. */
export function nastyString(r: Rng, plausible: readonly string[] = []): string {
  const roll = r.int(4);
  if (roll === 0 && plausible.length > 0) return r.pick(plausible);
  if (roll === 1) return r.pick(NASTY);
  const n = r.pick([1, 3, 15, 16, 64, 200]);
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(r.chance(0.9) ? 32 + r.int(95) : r.int(0x3000));
  return s;
}

/** A JSON-ish value of any type. */
export function anyValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 2 ? 5 : 7)) {
    case 0:
      return nastyString(r);
    case 1:
      return r.pick([0, -1, 1.5, 2 ** 53, -(2 ** 31), Number.MAX_VALUE]);
    case 2:
      return r.chance(0.5);
    case 3:
      return null;
    case 4:
      return undefined;
    case 5:
      return Array.from({ length: r.int(4) }, () => anyValue(r, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: r.int(4) }, () => [nastyString(r), anyValue(r, depth + 1)]));
  }
}

/**
 * Mutates a valid document: fields dropped, retyped, renamed or added, at any depth. Returns a
 * new object; `base` is left alone.
 */
export function mutate(r: Rng, base: unknown, rounds = 1 + r.int(3)): unknown {
  let doc = structuredClone(base);
  for (let i = 0; i < rounds; i++) doc = mutateOnce(r, doc, 0);
  return doc;
}

function mutateOnce(r: Rng, v: unknown, depth: number): unknown {
  if (v === null || typeof v !== "object" || depth > 4 || r.chance(0.15)) return r.chance(0.5) ? anyValue(r) : v;
  if (Array.isArray(v)) {
    if (v.length === 0 || r.chance(0.2)) return [...v, anyValue(r)];
    const i = r.int(v.length);
    const copy = [...v];
    copy[i] = mutateOnce(r, copy[i], depth + 1);
    return copy;
  }
  const o = { ...(v as Record<string, unknown>) };
  const keys = Object.keys(o);
  const action = r.int(4);
  if (action === 0 && keys.length > 0) delete o[r.pick(keys)];
  else if (action === 1) o[nastyString(r, keys)] = anyValue(r);
  else if (keys.length > 0) {
    const k = r.pick(keys);
    o[k] = mutateOnce(r, o[k], depth + 1);
  }
  return o;
}
