// Which of the instance's ENIs the agent manages, and the inventory the pool engine gets.
import type { VpcCniPolicy } from "../../schema/index.ts";
import { TAG_CLUSTER } from "../cloud/tencent.ts";
import type { Eni } from "../cloud/types.ts";
import type { EniInventory } from "../pool/index.ts";

/**
 * The ENIs of the instance this agent manages: in a pod subnet of the policy, tagged as this
 * cluster's, or already in the pool. Anything else attached to the node is left alone.
 */
export function isManaged(policy: VpcCniPolicy, known: ReadonlySet<string>): (eni: Eni) => boolean {
  return (e) =>
    !e.primary &&
    (known.has(e.id) || policy.spec.subnets.includes(e.subnetId) || e.tags[TAG_CLUSTER] === policy.spec.clusterId);
}

/** The policy's subnets, then those of managed ENIs in subnets the policy no longer lists. */
export function subnetsToWatch(policy: VpcCniPolicy, managed: Eni[]): string[] {
  return [...new Set([...policy.spec.subnets, ...managed.map((e) => e.subnetId)])];
}

export function toInventory(enis: Eni[], managed: (eni: Eni) => boolean): EniInventory[] {
  return enis
    .filter((e) => e.primary || managed(e))
    .map((e) => ({ id: e.id, subnet: e.subnetId, primary: e.primary, ips: e.secondaryIps }));
}
