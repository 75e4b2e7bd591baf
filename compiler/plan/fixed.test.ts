// The capacity plan of a fixed-IP policy: one ENI per node, its whole quota plus its primary IP
// reserved in the subnet with the most room that holds it (the allocator's rule 8), and a plan
// refused, naming node count, quota and each subnet's room, when a node fits in no subnet.
import { describe, expect, test } from "bun:test";
import { VpcCniPolicy, type VpcCniPolicyInput } from "../../schema/index.ts";
import { planCapacity, type PlanInput, type SubnetFigures } from "./capacity.ts";
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
      subnets: ["subnet-aaaa0001", "subnet-bbbb0001"],
      nodeSelector: { pool: name },
      ipMode: "fixed",
      ...spec,
    },
  });
}

const subnets = (a: number, b: number, zones?: [string, string]): SubnetFigures[] => [
  {
    subnetId: "subnet-aaaa0001",
    cidr: "10.0.0.0/24",
    availableIpAddressCount: a,
    ...(zones ? { zone: zones[0] } : {}),
  },
  {
    subnetId: "subnet-bbbb0001",
    cidr: "10.0.1.0/24",
    availableIpAddressCount: b,
    ...(zones ? { zone: zones[1] } : {}),
  },
];

function input(over: Partial<PlanInput>): PlanInput {
  const policies = over.policies ?? [policy("db")];
  return {
    policies,
    nodes: new Map(policies.map((p) => [p.metadata.name, 4])),
    podsPerNode: new Map(),
    quota: { enisPerNode: 3, ipsPerEni: 19 },
    ...over,
  };
}

describe("ipMode: fixed", () => {
  test("a node reserves one ENI's whole quota plus its primary IP; prebind and spec.limits do not apply", () => {
    const plan = planCapacity(
      input({
        policies: [policy("db", { limits: { ipsPerEni: 5, maxEnisPerNode: 1 } })],
        podsPerNode: new Map([["db", 3]]),
      }),
    );
    expect(plan.policies[0]).toMatchObject({
      ipMode: "fixed",
      podsPerNode: 3,
      enisPerNode: 1,
      ipsPerEni: 19,
      maxBindable: 19,
      ipsPerNode: 19,
      enisUsedPerNode: 1,
      subnetIpsPerNode: 20,
      problems: [],
    });
  });

  test("each node's ENI goes to the subnet with the most room that holds its 20 addresses (ties: the first listed)", () => {
    const plan = planCapacity(input({ subnets: subnets(50, 45) }));
    // 50/45 -> a (30 left), b (25), a (10), b (5): two nodes each
    expect(plan.subnets.map((s) => [s.subnetId, s.needed, s.left])).toEqual([
      ["subnet-aaaa0001", 40, 10],
      ["subnet-bbbb0001", 40, 5],
    ]);
    expect(plan.ok).toBe(true);
    const tie = planCapacity(input({ nodes: new Map([["db", 1]]), subnets: subnets(40, 40) }));
    expect(tie.subnets.map((s) => s.needed)).toEqual([20, 0]);
  });

  test("a node that fits in no subnet refuses the plan, naming node count, quota and each subnet's room", () => {
    // 45 free in a, 30 in b: a takes two nodes (5 left), b one (10 left); node 4 needs 20
    const plan = planCapacity(input({ subnets: subnets(45, 30) }));
    expect(plan.ok).toBe(false);
    expect(plan.problems).toEqual([
      "db: 4 nodes x ENI IP quota 19 (+1 for the ENI's primary IP = 20 addresses in one subnet each): only 3 fit; no subnet holds node 4's 20 (room left: subnet-aaaa0001 5, subnet-bbbb0001 10); the controller would bind no ENI for the other 1",
    ]);
    // room in total (15) is not room for a node: the reservation is whole, in one subnet
    expect(plan.subnets.map((s) => s.left)).toEqual([5, 10]);
    expect(renderPlan(plan)).toBe(
      [
        "policy  nodes  pods/node  prebind min/max  ENIs x IPs = max  IPs/node  ENIs/node  subnet IPs/node  subnet IPs  status",
        "db      4      19 (full)  fixed IP         1 x 19 = 19       19        1          20               80          CANNOT",
        "",
        "subnet           cidr         free  needed  left  policies  status",
        "subnet-aaaa0001  10.0.0.0/24  45    40      5     db        ok",
        "subnet-bbbb0001  10.0.1.0/24  30    20      10    db        ok",
        "",
        `cannot be met: ${plan.problems[0]}`,
        "",
      ].join("\n"),
    );
  });

  test("by zone: a zone's nodes fit only in that zone's subnets", () => {
    const plan = planCapacity(
      input({
        subnets: subnets(100, 30, ["ap-guangzhou-3", "ap-guangzhou-4"]),
        nodesPerZone: new Map([
          [
            "db",
            new Map([
              ["ap-guangzhou-3", 2],
              ["ap-guangzhou-4", 2],
            ]),
          ],
        ]),
      }),
    );
    expect(plan.problems).toEqual([
      "db: 2 nodes in ap-guangzhou-4 x ENI IP quota 19 (+1 for the ENI's primary IP = 20 addresses in one subnet each): only 1 fit; no subnet holds node 2's 20 (room left: subnet-bbbb0001 10); the controller would bind no ENI for the other 1",
    ]);
  });

  test("an unknown quota, or more pods than one ENI holds, are problems of the policy", () => {
    const unknown = planCapacity(input({ quota: { enisPerNode: 3 } }));
    expect(unknown.problems).toEqual([
      "db: the ENI IP quota is unknown: pass --ips-per-eni (the instance type's secondary IPs per ENI, which a fixed-IP node reserves whole)",
    ]);
    const crowded = planCapacity(input({ podsPerNode: new Map([["db", 25]]) }));
    expect(crowded.problems).toEqual([
      "db: 25 pods per node need 25 IPs, but a fixed-IP node has one ENI of 19 (fixed IP mode binds one ENI per node)",
    ]);
  });

  test("a shared and a fixed policy share a subnet: both reservations count against it", () => {
    const shared = VpcCniPolicy.parse({
      ...policy("web"),
      spec: { ...policy("web").spec, ipMode: "shared", subnets: ["subnet-aaaa0001"] },
    });
    const plan = planCapacity(
      input({
        policies: [policy("db", { subnets: ["subnet-aaaa0001"] }), shared],
        nodes: new Map([
          ["db", 2],
          ["web", 1],
        ]),
        podsPerNode: new Map([["web", 8]]),
        subnets: subnets(60, 0).slice(0, 1),
      }),
    );
    // db: 2 x 20; web: 8 + prebind.max IPs on one ENI, plus its primary
    const web = plan.policies.find((p) => p.policy === "web")!;
    expect(plan.subnets[0]).toMatchObject({ needed: 40 + web.subnetIpsPerNode, policies: ["db", "web"] });
  });
});
