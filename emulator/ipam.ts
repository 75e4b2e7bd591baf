// Address bookkeeping of subnets: an address is used when any ENI (in any state) holds it.
import { firstFree, parseCidr, usableCount } from "./cidr.ts";
import type { State, SubnetRec } from "./state.ts";

export function usedIps(state: State, subnetId: string): Set<string> {
  const used = new Set<string>();
  for (const eni of Object.values(state.enis)) {
    if (eni.subnetId === subnetId) for (const ip of eni.ips) used.add(ip.ip);
  }
  return used;
}

/** Takes `count` free addresses, or returns undefined (and takes none) if the subnet has fewer. */
export function allocate(
  state: State,
  subnet: SubnetRec,
  count: number,
  reserved: readonly string[] = [],
): string[] | undefined {
  const cidr = parseCidr(subnet.cidrBlock);
  const used = usedIps(state, subnet.subnetId);
  for (const ip of reserved) used.add(ip);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const ip = firstFree(cidr, used);
    if (ip === undefined) return undefined;
    used.add(ip);
    out.push(ip);
  }
  return out;
}

export function availableCount(state: State, subnet: SubnetRec): number {
  return usableCount(parseCidr(subnet.cidrBlock)) - usedIps(state, subnet.subnetId).size;
}
