// Addresses a caller names in PrivateIpAddresses (Create, Assign), checked in the order the
// codes of those actions suggest: the value's form, the subnet's range, the addresses the
// cloud keeps for itself, repeats within the call, then addresses another ENI holds.
import { contains, intToIp, ipToInt, isUsable, parseCidr } from "../cidr.ts";
import { ApiError } from "../errors.ts";
import type { SubnetRec } from "../state.ts";
import { firstRepeat } from "./context.ts";

export interface IpSpec {
  PrivateIpAddress?: unknown;
  Primary?: unknown;
}

/** A dotted quad as the API prints it (no leading zeros), or undefined. */
export function canonicalIp(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  try {
    const ip = intToIp(ipToInt(value));
    return ip === value ? ip : undefined;
  } catch {
    return undefined;
  }
}

/** PrivateIpAddresses[i].PrivateIpAddress, valid for `subnet`: Malformed, Range or Reserved otherwise. */
export function wantedAddress(subnet: SubnetRec, spec: IpSpec | undefined, i: number): string {
  const field = `PrivateIpAddresses[${i}].PrivateIpAddress`;
  const ip = canonicalIp(spec?.PrivateIpAddress);
  if (ip === undefined)
    throw new ApiError(
      "InvalidParameterValue.Malformed",
      `${field} is ${JSON.stringify(spec?.PrivateIpAddress)}; allowed: an IPv4 address such as 10.0.0.5`,
    );
  const cidr = parseCidr(subnet.cidrBlock);
  if (!contains(cidr, ipToInt(ip)))
    throw new ApiError(
      "InvalidParameterValue.Range",
      `${field} ${ip} is outside subnet ${subnet.subnetId} (${subnet.cidrBlock}); allowed: an address of that subnet`,
    );
  if (!isUsable(cidr, ipToInt(ip)))
    throw new ApiError(
      "InvalidParameterValue.Reserved",
      `${field} ${ip} is the network, gateway or broadcast address of ${subnet.cidrBlock}; allowed: any other address of the subnet`,
    );
  return ip;
}

/** A repeated address in one call: `code` is what the action documents for it. */
export function refuseRepeats(ips: readonly string[], code: string): void {
  const dup = firstRepeat(ips, (ip) => ip);
  if (dup)
    throw new ApiError(
      code,
      `PrivateIpAddresses[${dup.index}].PrivateIpAddress ${String(dup.value)} repeats an earlier entry; allowed: each address once per call`,
    );
}

/** An address another ENI (or this one) holds: ResourceInUse, as Create and Assign document. */
export function refuseUsed(ips: readonly string[], used: ReadonlySet<string>): void {
  ips.forEach((ip, i) => {
    if (used.has(ip))
      throw new ApiError(
        "ResourceInUse",
        `PrivateIpAddresses[${i}].PrivateIpAddress ${ip} is already in use; allowed: a free address of the subnet`,
      );
  });
}
