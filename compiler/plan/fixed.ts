// The capacity plan of a fixed-IP policy (ipMode: fixed). Each node gets one ENI whose whole IP
// quota is reserved for it in one subnet, whatever its pods use; the ENI's own primary IP takes
// one more address. The subnet is the allocator's choice (runtime/fixed/node.ts
// subnetForNodeEni, spec rule 8): the one with the most room that holds the whole reservation,
// ties to the first listed; a node no subnet holds gets no ENI. The compiler may not import
// runtime/fixed (test/architecture/imports.test.ts), so the rule is restated here, pure.
import type { VpcCniPolicy } from "../../schema/index.ts";
import type { PlanInput, PolicyRow, SubnetRow } from "./capacity.ts";

/** A fixed-IP policy's row: one ENI per node, its quota the instance type's secondary IPs per ENI. */
export function fixedPolicyRow(policy: VpcCniPolicy, input: PlanInput): PolicyRow {
  const name = policy.metadata.name;
  const problems: string[] = [];
  // The controller reserves what the instance reports (DescribeNetworkInterfaceLimit minus the
  // primary IP): spec.limits does not lower a fixed node's quota.
  const quota = input.quota.ipsPerEni;
  if (quota === undefined)
    problems.push(
      "the ENI IP quota is unknown: pass --ips-per-eni (the instance type's secondary IPs per ENI, which a fixed-IP node reserves whole)",
    );
  const nodes = input.nodes.get(name);
  if (nodes === undefined) problems.push("no node count: pass --nodes N or --nodes " + `${name}=N`);
  const given = input.podsPerNode.get(name);
  const q = quota ?? 0;
  if (quota !== undefined && given !== undefined && given > quota)
    problems.push(
      `${given} pods per node need ${given} IPs, but a fixed-IP node has one ENI of ${quota} (fixed IP mode binds one ENI per node)`,
    );
  return {
    policy: name,
    ipMode: "fixed",
    nodes: nodes ?? 0,
    podsPerNode: given ?? q,
    fullNodes: given === undefined,
    prebind: { min: 0, max: 0 },
    enisPerNode: 1,
    ipsPerEni: q,
    maxBindable: q,
    // reserved whole, however many pods run
    ipsPerNode: q,
    enisUsedPerNode: 1,
    subnetIpsPerNode: q + 1,
    problems,
    warnings: [],
  };
}

/**
 * `nodes` nodes of a fixed-IP policy, one by one, each reserving quota + 1 in the subnet with the
 * most room left that holds it (ties: the first listed). Returns the problem when some node fits
 * in none: how many nodes, the quota, and each subnet's room at that point. A node that does not
 * fit is not placed (the controller binds no ENI for it, and reserves nothing).
 */
export function placeFixed(row: PolicyRow, nodes: number, subnets: SubnetRow[], zone?: string): string | undefined {
  const need = row.subnetIpsPerNode;
  for (let n = 0; n < nodes; n++) {
    const target = subnets.reduce<SubnetRow | undefined>(
      (best, s) => (s.left >= need && (best === undefined || s.left > best.left) ? s : best),
      undefined,
    );
    if (target === undefined) {
      const where = zone === undefined ? "" : ` in ${zone}`;
      const room = subnets.map((s) => `${s.subnetId} ${Math.max(0, s.left)}`).join(", ");
      return (
        `${nodes} node${nodes > 1 ? "s" : ""}${where} x ENI IP quota ${row.ipsPerEni} (+1 for the ENI's primary IP = ${need} addresses in one subnet each): ` +
        `only ${n} fit; no subnet holds node ${n + 1}'s ${need} (room left: ${room || "no subnet"}); the controller would bind no ENI for the other ${nodes - n}`
      );
    }
    target.needed += need;
    target.left -= need;
  }
  return undefined;
}
