// Just enough IPv4 arithmetic for laying out test subnets.
export function ipToInt(ip: string): number {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: '${ip}'`);
  }
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

export interface Cidr {
  base: string;
  prefix: number;
}

export function parseCidr(cidr: string): Cidr {
  const [ip, len] = cidr.split("/");
  const prefix = Number(len);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 8 || prefix > 30) {
    throw new Error(`subnet '${cidr}' must be a.b.c.d/N with 8 <= N <= 30`);
  }
  const size = 2 ** (32 - prefix);
  const base = Math.floor(ipToInt(ip) / size) * size;
  return { base: intToIp(base), prefix };
}

/** The n-th address of a subnet (0 is the network address). */
export function nthAddress(cidr: Cidr, n: number): string {
  if (n <= 0 || n >= 2 ** (32 - cidr.prefix) - 1) {
    throw new Error(`address #${n} is outside ${cidr.base}/${cidr.prefix}`);
  }
  return intToIp(ipToInt(cidr.base) + n);
}
