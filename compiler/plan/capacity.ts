// Capacity plan: can the policies' subnets and ENI quotas carry the expected nodes and pods?
// Pure: policies, counts and subnet figures in; per-policy and per-subnet rows out.
//
// Per node a policy binds at most pods + prebind.max IPs (rule 2 releases the rest), never
// more than maxBindable = ENIs x IPs per ENI. Each secondary ENI also takes one subnet IP for
// its own primary address. ENIs go into the policy's subnet with the most free IPs (rule 6)
// among those of the node's zone: an ENI attaches only to an instance of its own zone. When
// the subnets' zones are known, each zone is planned on its own (zones.ts). A fixed-IP policy
// reserves each node's whole ENI IP quota in one subnet instead (fixed.ts).
import type { VpcCniPolicy } from "../../schema/index.ts";
import { fixedPolicyRow, placeFixed } from "./fixed.ts";
import { nodesByZone, type ZoneRow, zoneRows } from "./zones.ts";

export interface SubnetFigures {
  subnetId: string;
  availableIpAddressCount: number;
  cidr?: string;
  /** DescribeSubnets' Zone; given for every subnet or for none. */
  zone?: string;
}

export interface PlanInput {
  policies: readonly VpcCniPolicy[];
  /** Nodes per policy name. */
  nodes: ReadonlyMap<string, number>;
  /** Expected pods per node, per policy name; absent: full nodes (maxBindable pods). */
  podsPerNode: ReadonlyMap<string, number>;
  /** The instance type's quota of secondary ENIs and of secondary IPs per ENI, if known. */
  quota: { enisPerNode?: number; ipsPerEni?: number };
  /** Absent: subnets are not checked, only quotas. */
  subnets?: readonly SubnetFigures[];
  /**
   * Nodes per zone, per policy name (the subnets must carry zones). A policy left out has its
   * nodes spread evenly over the zones of its subnets.
   */
  nodesPerZone?: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

export interface PolicyRow {
  policy: string;
  /** fixed: one ENI per node, its whole IP quota reserved (prebind does not apply). */
  ipMode: "shared" | "fixed";
  nodes: number;
  podsPerNode: number;
  fullNodes: boolean;
  prebind: { min: number; max: number };
  enisPerNode: number;
  ipsPerEni: number;
  maxBindable: number;
  /** Secondary IPs bound per node at most (pods + prebind.max, capped by maxBindable). */
  ipsPerNode: number;
  enisUsedPerNode: number;
  /** Subnet addresses per node: bound IPs plus each ENI's primary IP. */
  subnetIpsPerNode: number;
  /** The plan cannot be met. */
  problems: string[];
  /** It can, but not as the policy wishes (e.g. the warm pool cannot be kept). */
  warnings: string[];
}

export interface SubnetRow {
  subnetId: string;
  cidr: string;
  /** Only when the subnets file gives zones. */
  zone?: string;
  free: number;
  needed: number;
  left: number;
  policies: string[];
}

export interface Plan {
  policies: PolicyRow[];
  /** Empty when the subnets' zones are unknown. */
  zones: ZoneRow[];
  /** Empty when no subnet figures were given. */
  subnets: SubnetRow[];
  problems: string[];
  warnings: string[];
  /** Assumptions the plan made (how nodes were spread over zones). */
  notes: string[];
  ok: boolean;
}

export function planCapacity(input: PlanInput): Plan {
  const problems: string[] = [];
  const warnings: string[] = [];
  const notes: string[] = [];
  const rows: PolicyRow[] = [];
  const zoned = (input.subnets ?? []).length > 0 && (input.subnets ?? []).every((s) => s.zone !== undefined);
  const subnets = new Map(
    (input.subnets ?? []).map((s) => [
      s.subnetId,
      {
        subnetId: s.subnetId,
        cidr: s.cidr ?? "",
        ...(s.zone !== undefined ? { zone: s.zone } : {}),
        free: s.availableIpAddressCount,
        needed: 0,
        left: s.availableIpAddressCount,
        policies: [] as string[],
      },
    ]),
  );
  /** Nodes per zone and policy, for the zone table. */
  const placed: { zone: string; policy: string; nodes: number; subnets: number }[] = [];
  for (const policy of [...input.policies].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))) {
    const fixed = policy.spec.ipMode === "fixed";
    const row = fixed ? fixedPolicyRow(policy, input) : policyRow(policy, input);
    const put = (nodes: number, subnets: SubnetRow[], zone?: string) => {
      if (!fixed) return place(row, nodes, subnets);
      const problem = placeFixed(row, nodes, subnets, zone);
      if (problem === undefined) return;
      // the policy's own row says CANNOT: its nodes, not a shortfall of the subnets' sums
      row.problems.push(problem);
      problems.push(`${row.policy}: ${problem}`);
    };
    rows.push(row);
    problems.push(...row.problems.map((p) => `${row.policy}: ${p}`));
    warnings.push(...row.warnings.map((w) => `${row.policy}: ${w}`));
    if (input.subnets === undefined || row.problems.length > 0) continue;
    const own = policy.spec.subnets.map((id) => subnets.get(id));
    const missing = policy.spec.subnets.filter((_, i) => own[i] === undefined);
    if (missing.length > 0) {
      problems.push(
        `${row.policy}: subnet${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not in the subnets file; allowed: every subnet of spec.subnets listed there`,
      );
      continue;
    }
    const mine = own as SubnetRow[];
    for (const s of mine) if (!s.policies.includes(row.policy)) s.policies.push(row.policy);
    if (!zoned) {
      put(row.nodes, mine);
      continue;
    }
    const spread = nodesByZone(row.policy, row.nodes, mine, input.nodesPerZone?.get(row.policy));
    if (spread.note) notes.push(spread.note);
    for (const [zone, nodes] of spread.nodes) {
      const here = mine.filter((s) => s.zone === zone);
      placed.push({ zone, policy: row.policy, nodes, subnets: here.length });
      if (here.length === 0 && nodes > 0)
        problems.push(
          `${row.policy}: ${nodes} node${nodes > 1 ? "s" : ""} in ${zone}, where spec.subnets has no subnet (${mine.map((s) => `${s.subnetId} in ${s.zone}`).join(", ")}); an ENI attaches only to an instance of its own zone, so these nodes get no pod IP`,
        );
      else put(nodes, here, zone);
    }
  }
  for (const s of subnets.values()) {
    if (s.left < 0) problems.push(`${s.subnetId}: needs ${s.needed} IPs, has ${s.free} free (short by ${-s.left})`);
  }
  const subnetRows = [...subnets.values()]
    .filter((s) => s.policies.length > 0)
    .sort((a, b) => (a.subnetId < b.subnetId ? -1 : 1));
  return {
    policies: rows,
    zones: zoned ? zoneRows(placed, subnetRows) : [],
    subnets: subnetRows,
    problems,
    warnings,
    notes,
    ok: problems.length === 0,
  };
}

/** `nodes` nodes of a policy, each ENI into the subnet with the most free IPs left (rule 6; ties: the first listed). */
function place(row: PolicyRow, nodes: number, subnets: SubnetRow[]): void {
  for (let n = 0; n < nodes; n++) {
    let toBind = row.ipsPerNode;
    for (let e = 0; e < row.enisUsedPerNode; e++) {
      const onEni = Math.min(row.ipsPerEni, toBind);
      toBind -= onEni;
      const target = subnets.reduce((best, s) => (s.left > best.left ? s : best));
      target.needed += onEni + 1;
      target.left -= onEni + 1;
    }
  }
}

function policyRow(policy: VpcCniPolicy, input: PlanInput): PolicyRow {
  const name = policy.metadata.name;
  const problems: string[] = [];
  const warnings: string[] = [];
  const enis = lowest(policy.spec.limits?.maxEnisPerNode, input.quota.enisPerNode);
  const ips = lowest(policy.spec.limits?.ipsPerEni, input.quota.ipsPerEni);
  if (enis === undefined)
    problems.push(
      "the ENI quota is unknown: pass --enis-per-node (the instance type's secondary ENIs) or set spec.limits.maxEnisPerNode",
    );
  if (ips === undefined)
    problems.push(
      "the IP quota is unknown: pass --ips-per-eni (secondary IPs per ENI of the instance type) or set spec.limits.ipsPerEni",
    );
  const maxBindable = (enis ?? 0) * (ips ?? 0);
  const nodes = input.nodes.get(name);
  if (nodes === undefined) problems.push("no node count: pass --nodes N or --nodes " + `${name}=N`);
  const given = input.podsPerNode.get(name);
  const pods = given ?? maxBindable;
  const { min, max } = policy.spec.prebind;
  if (enis !== undefined && ips !== undefined) {
    if (pods > maxBindable)
      problems.push(
        `${pods} pods per node need ${pods} IPs, but a node binds at most ${maxBindable} (${enis} ENIs x ${ips} IPs)`,
      );
    else if (given !== undefined && pods + min > maxBindable)
      warnings.push(
        `${pods} pods + prebind.min ${min} = ${pods + min} IPs per node, above the ${maxBindable} a node can bind: new pods wait for IPs`,
      );
  }
  const ipsPerNode = Math.min(pods + max, maxBindable);
  const enisUsed = ips ? Math.ceil(ipsPerNode / ips) : 0;
  return {
    policy: name,
    ipMode: "shared",
    nodes: nodes ?? 0,
    podsPerNode: pods,
    fullNodes: given === undefined,
    prebind: { min, max },
    enisPerNode: enis ?? 0,
    ipsPerEni: ips ?? 0,
    maxBindable,
    ipsPerNode,
    enisUsedPerNode: enisUsed,
    subnetIpsPerNode: ipsPerNode + enisUsed,
    problems,
    warnings,
  };
}

function lowest(...values: (number | undefined)[]): number | undefined {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length === 0 ? undefined : Math.min(...known);
}
