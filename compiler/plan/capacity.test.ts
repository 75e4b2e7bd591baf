// The capacity plan: quotas, prebind, ENI primary IPs, subnet choice (rule 6), shortfalls.
import { describe, expect, test } from "bun:test";
import { VpcCniPolicy, type VpcCniPolicyInput } from "../../schema/index.ts";
import { planCapacity, type PlanInput } from "./capacity.ts";
import { renderPlan } from "./table.ts";

function policy(name: string, spec: Partial<VpcCniPolicyInput["spec"]> = {}): VpcCniPolicy {
  return VpcCniPolicy.parse({
    apiVersion: "vpccni.io/v1alpha1",
    kind: "VpcCniPolicy",
    metadata: { name },
    spec: {
      clusterId: "cls-plan0001",
      region: "ap-guangzhou",
      vpcId: "vpc-plan0001",
      subnets: ["subnet-aaaa0001"],
      nodeSelector: { pool: name },
      ...spec,
    },
  });
}

function input(over: Partial<PlanInput>): PlanInput {
  const policies = over.policies ?? [policy("p")];
  return {
    policies,
    nodes: new Map(policies.map((p) => [p.metadata.name, 10])),
    podsPerNode: new Map(),
    quota: { enisPerNode: 3, ipsPerEni: 10 },
    ...over,
  };
}

describe("per node", () => {
  test("pods + prebind.max IPs per node, and one primary IP per ENI used", () => {
    const plan = planCapacity(input({ podsPerNode: new Map([["p", 12]]) }));
    expect(plan.policies[0]).toMatchObject({
      maxBindable: 30,
      ipsPerNode: 17,
      enisUsedPerNode: 2,
      subnetIpsPerNode: 19,
      problems: [],
    });
    expect(plan.ok).toBe(true);
  });

  test("without --pods-per-node nodes are assumed full: every IP the quota allows", () => {
    const plan = planCapacity(input({}));
    expect(plan.policies[0]).toMatchObject({
      podsPerNode: 30,
      fullNodes: true,
      ipsPerNode: 30,
      enisUsedPerNode: 3,
      subnetIpsPerNode: 33,
    });
  });

  test("spec.limits lowers the instance quota, never raises it", () => {
    const plan = planCapacity(input({ policies: [policy("p", { limits: { maxEnisPerNode: 2, ipsPerEni: 20 } })] }));
    expect(plan.policies[0]).toMatchObject({ enisPerNode: 2, ipsPerEni: 10, maxBindable: 20 });
  });

  test("more pods than a node can bind cannot be met; a warm pool that does not fit is a warning", () => {
    const over = planCapacity(input({ podsPerNode: new Map([["p", 31]]) }));
    expect(over.ok).toBe(false);
    expect(over.problems).toEqual(["p: 31 pods per node need 31 IPs, but a node binds at most 30 (3 ENIs x 10 IPs)"]);
    const tight = planCapacity(input({ podsPerNode: new Map([["p", 28]]) }));
    expect(tight.ok).toBe(true);
    expect(tight.warnings).toEqual([
      "p: 28 pods + prebind.min 5 = 33 IPs per node, above the 30 a node can bind: new pods wait for IPs",
    ]);
  });

  test("an unknown quota is a problem that says which flag gives it", () => {
    const plan = planCapacity(input({ quota: {} }));
    expect(plan.ok).toBe(false);
    expect(plan.problems[0]).toContain("--enis-per-node");
    expect(renderPlan(plan)).toContain("p       10     ?          5/5              ?");
  });
});

describe("subnets", () => {
  const two = [policy("p", { subnets: ["subnet-aaaa0001", "subnet-bbbb0002"] })];

  test("ENIs go to the subnet with the most free IPs, so two subnets fill evenly", () => {
    const plan = planCapacity(
      input({
        policies: two,
        podsPerNode: new Map([["p", 5]]),
        subnets: [
          { subnetId: "subnet-aaaa0001", availableIpAddressCount: 100, cidr: "10.0.1.0/24" },
          { subnetId: "subnet-bbbb0002", availableIpAddressCount: 100 },
        ],
      }),
    );
    // 10 nodes x 1 ENI x (10 IPs + 1 primary): 5 ENIs in each subnet.
    expect(plan.subnets.map((s) => [s.subnetId, s.needed, s.left])).toEqual([
      ["subnet-aaaa0001", 55, 45],
      ["subnet-bbbb0002", 55, 45],
    ]);
    expect(plan.ok).toBe(true);
  });

  test("a subnet that runs short fails the plan and says by how much", () => {
    const plan = planCapacity(input({ subnets: [{ subnetId: "subnet-aaaa0001", availableIpAddressCount: 300 }] }));
    expect(plan.ok).toBe(false);
    expect(plan.problems).toEqual(["subnet-aaaa0001: needs 330 IPs, has 300 free (short by 30)"]);
    expect(renderPlan(plan)).toContain("SHORT by 30");
  });

  test("subnets shared by two policies count both; a subnet missing from the file is a problem", () => {
    const shared = planCapacity(
      input({
        policies: [policy("a"), policy("b")],
        podsPerNode: new Map([
          ["a", 5],
          ["b", 5],
        ]),
        subnets: [{ subnetId: "subnet-aaaa0001", availableIpAddressCount: 220 }],
      }),
    );
    expect(shared.subnets).toEqual([
      { subnetId: "subnet-aaaa0001", cidr: "", free: 220, needed: 220, left: 0, policies: ["a", "b"] },
    ]);
    expect(shared.ok).toBe(true);
    const missing = planCapacity(
      input({ policies: two, subnets: [{ subnetId: "subnet-aaaa0001", availableIpAddressCount: 1000 }] }),
    );
    expect(missing.problems).toEqual([
      "p: subnet subnet-bbbb0002 not in the subnets file; allowed: every subnet of spec.subnets listed there",
    ]);
  });
});

describe("zones", () => {
  const Z3 = "ap-guangzhou-3";
  const Z4 = "ap-guangzhou-4";
  const two = [policy("p", { subnets: ["subnet-aaaa0001", "subnet-bbbb0002"] })];
  const zoned = [
    { subnetId: "subnet-aaaa0001", availableIpAddressCount: 100, zone: Z3 },
    { subnetId: "subnet-bbbb0002", availableIpAddressCount: 30, zone: Z4 },
  ];
  // 1 ENI of 10 IPs per node: 11 subnet IPs per node.
  const five = new Map([["p", 5]]);

  test("each zone's nodes are met by that zone's subnets alone; by default nodes spread evenly, and the plan says so", () => {
    // Without zones the 130 free IPs carry the 110 needed; by zone, zone 4 holds 5 nodes (55) in 30.
    const blind = planCapacity(
      input({ policies: two, podsPerNode: five, subnets: zoned.map(({ zone: _, ...s }) => s) }),
    );
    expect(blind.ok).toBe(true);
    expect(blind.zones).toEqual([]);
    const plan = planCapacity(input({ policies: two, podsPerNode: five, subnets: zoned }));
    expect(plan.ok).toBe(false);
    expect(plan.zones).toEqual([
      {
        zone: Z3,
        nodes: 5,
        policies: ["p=5"],
        subnets: ["subnet-aaaa0001"],
        free: 100,
        needed: 55,
        left: 45,
        ok: true,
      },
      {
        zone: Z4,
        nodes: 5,
        policies: ["p=5"],
        subnets: ["subnet-bbbb0002"],
        free: 30,
        needed: 55,
        left: -25,
        ok: false,
      },
    ]);
    expect(plan.problems).toEqual(["subnet-bbbb0002: needs 55 IPs, has 30 free (short by 25)"]);
    expect(plan.notes).toEqual([
      "p: 10 nodes assumed spread evenly over the zones of its subnets: ap-guangzhou-3 5, ap-guangzhou-4 5 (--nodes-per-zone says where they are)",
    ]);
    expect(renderPlan(plan)).toBe(
      [
        "policy  nodes  pods/node  prebind min/max  ENIs x IPs = max  IPs/node  ENIs/node  subnet IPs/node  subnet IPs  status",
        "p       10     5          5/5              3 x 10 = 30       10        1          11               110         ok",
        "",
        "zone            nodes  policies  subnets          free  needed  left  status",
        "ap-guangzhou-3  5      p=5       subnet-aaaa0001  100   55      45    ok",
        "ap-guangzhou-4  5      p=5       subnet-bbbb0002  30    55      -25   CANNOT",
        "",
        "subnet           cidr  zone            free  needed  left  policies  status",
        "subnet-aaaa0001  -     ap-guangzhou-3  100   55      45    p         ok",
        "subnet-bbbb0002  -     ap-guangzhou-4  30    55      -25   p         SHORT by 25",
        "",
        "note: p: 10 nodes assumed spread evenly over the zones of its subnets: ap-guangzhou-3 5, ap-guangzhou-4 5 (--nodes-per-zone says where they are)",
        "",
        "cannot be met: subnet-bbbb0002: needs 55 IPs, has 30 free (short by 25)",
        "",
      ].join("\n"),
    );
  });

  test("nodes placed by zone: met where the zone's subnets suffice", () => {
    const plan = planCapacity(
      input({
        policies: two,
        podsPerNode: five,
        subnets: zoned,
        nodesPerZone: new Map([
          [
            "p",
            new Map([
              [Z4, 2],
              [Z3, 8],
            ]),
          ],
        ]),
      }),
    );
    expect(plan.zones.map((z) => [z.zone, z.nodes, z.needed, z.ok])).toEqual([
      [Z3, 8, 88, true],
      [Z4, 2, 22, true],
    ]);
    expect(plan.notes).toEqual([]);
    expect(plan.ok).toBe(true);
  });

  test("nodes in a zone where the policy has no subnet cannot be met, and the problem names the policy's subnets and zones", () => {
    const plan = planCapacity(
      input({
        policies: two,
        podsPerNode: five,
        subnets: zoned,
        nodesPerZone: new Map([
          [
            "p",
            new Map([
              [Z3, 3],
              ["ap-guangzhou-6", 2],
            ]),
          ],
        ]),
      }),
    );
    expect(plan.ok).toBe(false);
    expect(plan.problems).toEqual([
      "p: 2 nodes in ap-guangzhou-6, where spec.subnets has no subnet (subnet-aaaa0001 in ap-guangzhou-3, subnet-bbbb0002 in ap-guangzhou-4); an ENI attaches only to an instance of its own zone, so these nodes get no pod IP",
    ]);
    expect(plan.zones.find((z) => z.zone === "ap-guangzhou-6")).toEqual({
      zone: "ap-guangzhou-6",
      nodes: 2,
      policies: ["p=2"],
      subnets: [],
      free: 0,
      needed: 0,
      left: 0,
      ok: false,
    });
    // A zone with a subnet but no node is listed too: its IPs are there, unused.
    expect(plan.zones.find((z) => z.zone === Z4)).toMatchObject({ nodes: 0, policies: [], ok: true });
  });
});
