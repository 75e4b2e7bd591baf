// IPv4 addresses as numbers, for picking the lowest free address of a subnet.

/** By character codes, not split(): it runs on every release, and garbage costs RSS at scale. */
export function toNumber(ip: string): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46 && digits > 0 && dots < 3) {
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3 && part * 10 + c - 48 <= 255) {
      part = part * 10 + c - 48;
      digits++;
    } else return notAnAddress(ip);
  }
  return dots === 3 && digits > 0 ? n * 256 + part : notAnAddress(ip);
}

function notAnAddress(ip: string): never {
  throw new Error(`address ${JSON.stringify(ip)} is not an IPv4 address such as "10.0.1.5"`);
}

export function toAddress(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * The usable addresses of a subnet as numbers, [first, end). Tencent reserves the network
 * address, the gateway (.1) and the broadcast address of every subnet.
 */
export function usableRange(cidr: string): { first: number; end: number } {
  const [base, bits] = cidr.split("/");
  const prefix = Number(bits);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 30) {
    throw new Error(`subnet CIDR ${JSON.stringify(cidr)} is not such as "10.0.1.0/24" (prefix 0..30)`);
  }
  const size = 2 ** (32 - prefix);
  const network = toNumber(base) - (toNumber(base) % size);
  return { first: network + 2, end: network + size - 1 };
}

/** The addresses a pod may get, lowest first. */
export function* usableAddresses(cidr: string): Generator<string> {
  const { first, end } = usableRange(cidr);
  for (let n = first; n < end; n++) yield toAddress(n);
}
