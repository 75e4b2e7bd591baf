// IPv4 addresses as numbers, for picking the lowest free address of a subnet.

export function toNumber(ip: string): number {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`address ${JSON.stringify(ip)} is not an IPv4 address such as "10.0.1.5"`);
  }
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function toAddress(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/**
 * The addresses a pod may get, lowest first. Tencent reserves the network address, the
 * gateway (.1) and the broadcast address of every subnet.
 */
export function* usableAddresses(cidr: string): Generator<string> {
  const [base, bits] = cidr.split("/");
  const prefix = Number(bits);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 30) {
    throw new Error(`subnet CIDR ${JSON.stringify(cidr)} is not such as "10.0.1.0/24" (prefix 0..30)`);
  }
  const size = 2 ** (32 - prefix);
  const network = toNumber(base) - (toNumber(base) % size);
  for (let n = network + 2; n < network + size - 1; n++) yield toAddress(n);
}
