// Zones: an ENI attaches only to an instance in its subnet's zone (the cloud refuses the attach
// otherwise), so a node grows its pool only in the policy's subnets of its own zone. The pure
// pool engine knows nothing of zones: the agent gives it those subnets alone as the ones to
// grow into. ENIs the node already holds in any other subnet then drain as those of a subnet
// removed from the policy: no new IP, their pods keep running, and once empty they are deleted.
import type { Subnet } from "../cloud/types.ts";

export interface Placement {
  /** The node's zone (instance metadata placement/zone). */
  zone: string;
  /** The policy's subnets in the node's zone, in the policy's order: where new ENIs may go. */
  usable: string[];
  /** The policy's subnets in other zones. */
  elsewhere: { id: string; zone: string }[];
  /** The policy's subnets DescribeSubnets did not return (wrong ID, or another VPC). */
  unknown: string[];
}

export function placement(
  policySubnets: readonly string[],
  described: ReadonlyMap<string, Subnet>,
  zone: string,
): Placement {
  const out: Placement = { zone, usable: [], elsewhere: [], unknown: [] };
  for (const id of policySubnets) {
    const s = described.get(id);
    if (s === undefined) out.unknown.push(id);
    else if (s.zone === zone) out.usable.push(id);
    else out.elsewhere.push({ id, zone: s.zone });
  }
  return out;
}

/** Free IPs per subnet, as the pool engine takes them (it reads those of its own subnets only). */
export function freeIps(subnets: Iterable<Subnet>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of subnets) out[s.id] = s.availableIps;
  return out;
}

/**
 * When the node's zone has no subnet of the policy: one sentence for the Node's Event, the log
 * and the CNI error, naming the zone, every subnet of the policy with its zone, and the fix.
 * Null when the node has a subnet to grow into.
 */
export function noSubnetInZone(p: Placement, node: string, policy: string, vpcId: string): string | null {
  if (p.usable.length > 0) return null;
  const listed = [
    ...p.elsewhere.map((s) => `${s.id} (${s.zone})`),
    ...p.unknown.map((id) => `${id} (not found in ${vpcId})`),
  ];
  return (
    `node ${node} is in zone ${p.zone}, but no subnet of policy ${policy} is: ${listed.join(", ")}; ` +
    `an ENI attaches only to an instance of its own zone, so this node creates no ENI and new pods get no IP ` +
    `until spec.subnets lists a subnet of ${p.zone}`
  );
}
