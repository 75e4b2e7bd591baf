// The departed-node ENI sweep: which ENIs of the cluster go (pure), and a pass against the
// emulator through the real SDK, which must delete exactly those.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TAG_CLUSTER, TAG_CREATED_AT, TAG_NODE } from "../../schema/names.ts";
import { type EmulatedVpc, INSTANCE, POD_SUBNET, SG, startEmulatedVpc } from "../cloud/emulated-vpc-kit.ts";
import type { Eni } from "../cloud/types.ts";
import { planDepartedSweep, sweepDepartedEnis } from "./departed-enis.ts";

const NOW = Date.parse("2026-11-30T12:00:00Z");
const MIN = 60_000;

function eni(id: string, node: string | undefined, extra: Partial<Eni> = {}, ageMs = 60 * MIN): Eni {
  return {
    id,
    vpcId: "vpc-1",
    subnetId: "subnet-1",
    zone: "ap-guangzhou-3",
    mac: "20:90:6f:00:00:01",
    primary: false,
    state: "AVAILABLE",
    primaryIp: "10.0.0.2",
    secondaryIps: ["10.0.0.3"],
    ips: [],
    securityGroupIds: ["sg-1"],
    tags: {
      [TAG_CLUSTER]: "cls-1",
      ...(node === undefined ? {} : { [TAG_NODE]: node }),
      [TAG_CREATED_AT]: new Date(NOW - ageMs).toISOString(),
    },
    createdTime: "2026-11-30 11:00:00",
    ...extra,
  };
}

describe("planDepartedSweep", () => {
  test("only ENIs whose node is gone are decided; of those, the cleanup rules keep the young and the attached", () => {
    const plan = planDepartedSweep(
      [
        eni("eni-alive", "node-a"),
        eni("eni-gone", "node-x"),
        eni("eni-young", "node-x", {}, 2 * MIN),
        eni("eni-attached", "node-x", { attachment: { instanceId: "ins-1", deviceIndex: 1 } }),
        eni("eni-untagged", undefined),
      ],
      new Set(["node-a"]),
      { now: NOW, guardMs: 10 * MIN },
    );
    expect(plan.map((d) => [d.id, d.keep ?? d.steps.map((s) => s.action).join(",")])).toEqual([
      ["eni-attached", "attached to ins-1; a live agent may own it (--force-attached)"],
      ["eni-gone", "unassign,delete"],
      ["eni-young", "younger than the age guard"],
    ]);
  });
});

describe("a sweep pass against the emulator (real SDK)", () => {
  let vpc: EmulatedVpc;
  beforeAll(async () => {
    vpc = await startEmulatedVpc();
  });
  afterAll(async () => {
    await vpc?.stop();
  });

  test("deletes the old ENIs of a node that left, and nothing else", async () => {
    const { api, clock } = vpc;
    const old = clock.now() - 60 * MIN;
    const make = (node: string, createdAt: number) =>
      api.createEni({ subnetId: POD_SUBNET, securityGroupIds: [SG], secondaryIps: 2, node, createdAt });
    const gone = await make("node-gone", old);
    const young = await make("node-gone", clock.now() - 1 * MIN);
    const alive = await make("node-alive", old);
    const attached = await make("node-gone", old);
    await api.attachEni(attached.id, INSTANCE);
    const logs: string[] = [];
    const results = await sweepDepartedEnis({
      api,
      clusterId: "cls-test0001",
      nodeNames: async () => ["node-alive"],
      log: { info: (m, f) => logs.push(`${m} ${f?.eni}`), warn: (m, f) => logs.push(`${m} ${f?.eni} ${f?.detail}`) },
      opts: { now: clock.now(), guardMs: 10 * MIN },
    });
    expect(results.filter((r) => r.action === "delete").map((r) => [r.eniId, r.ok])).toEqual([[gone.id, true]]);
    expect(await api.getEni(gone.id)).toBeUndefined();
    for (const kept of [young, alive, attached]) expect(await api.getEni(kept.id)).toBeDefined();
    expect(logs).toEqual([`deleted an ENI of a node that left the cluster ${gone.id}`]);
  });
});
