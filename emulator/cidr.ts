// IPv4 CIDR arithmetic for subnet allocation. Tencent Cloud keeps the network address, the
// first host (the subnet gateway) and the broadcast address of every subnet for itself, so a
// /24 offers 253 addresses (cloud docs: "available IPs" of a new /24 subnet is 253).

export interface Cidr {
  base: number;
  prefix: number;
}

export function ipToInt(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4) throw new Error(`IPv4 address '${ip}' must have four dot-separated octets`);
  let n = 0;
  for (const p of parts) {
    const o = Number(p);
    if (!/^\d{1,3}$/.test(p) || o > 255) throw new Error(`IPv4 address '${ip}' has octet '${p}'; allowed: 0-255`);
    n = n * 256 + o;
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function parseCidr(cidr: string): Cidr {
  const [ip, len] = cidr.split("/");
  const prefix = Number(len);
  if (ip === undefined || len === undefined || !Number.isInteger(prefix) || prefix < 8 || prefix > 29) {
    throw new Error(`CIDR '${cidr}' must be a.b.c.d/N with N in 8..29`);
  }
  const size = 2 ** (32 - prefix);
  const base = ipToInt(ip);
  if (base % size !== 0)
    throw new Error(`CIDR '${cidr}' has host bits set; the network address is ${intToIp(base - (base % size))}`);
  return { base, prefix };
}

export const cidrSize = (c: Cidr) => 2 ** (32 - c.prefix);

export function contains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + cidrSize(c);
}

/** Whether one CIDR lies inside another (a subnet inside its VPC). */
export function within(inner: Cidr, outer: Cidr): boolean {
  return contains(outer, inner.base) && inner.base + cidrSize(inner) <= outer.base + cidrSize(outer);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);
}

/** Addresses a client may be given: all but network, gateway (first host) and broadcast. */
export function usableCount(c: Cidr): number {
  return cidrSize(c) - 3;
}

export function isUsable(c: Cidr, ip: number): boolean {
  return contains(c, ip) && ip > c.base + 1 && ip < c.base + cidrSize(c) - 1;
}

export function gateway(c: Cidr): string {
  return intToIp(c.base + 1);
}

export function netmask(c: Cidr): string {
  return intToIp(c.prefix === 0 ? 0 : (0xffffffff << (32 - c.prefix)) >>> 0);
}

/** The lowest usable address not in `used`, or undefined when the subnet is full. */
export function firstFree(c: Cidr, used: ReadonlySet<string>): string | undefined {
  for (let n = c.base + 2; n < c.base + cidrSize(c) - 1; n++) {
    const ip = intToIp(n);
    if (!used.has(ip)) return ip;
  }
  return undefined;
}
