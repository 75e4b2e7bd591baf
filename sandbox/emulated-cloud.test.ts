import { expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { emulatorConfig, LAYOUT, layoutOf, policyYaml, zonesOf } from "./emulated-cloud.ts";
import { makeTempDir } from "./janitor.ts";

test("the emulated cloud is laid out from the policy's region, VPC and pod subnets", () => {
  const dir = makeTempDir("layout");
  try {
    const file = join(dir, "p.yaml");
    const spec = {
      clusterId: "cls-other001",
      region: "ap-shanghai",
      vpcId: "vpc-other001",
      subnets: ["subnet-a0000001", "subnet-b0000001"],
    };
    writeFileSync(
      file,
      `apiVersion: vpccni.io/v1alpha1\nkind: VpcCniPolicy\nmetadata: { name: x }\nspec: ${JSON.stringify(spec)}\n`,
    );
    const layout = layoutOf(file);
    expect(layout).toEqual({
      region: "ap-shanghai",
      clusterId: "cls-other001",
      vpcId: "vpc-other001",
      podSubnets: spec.subnets,
    });
    const config = emulatorConfig(2, undefined, layout);
    expect(config.region).toBe("ap-shanghai");
    expect(config.vpcs?.map((v) => v.vpcId)).toEqual(["vpc-other001"]);
    expect(config.subnets?.map((s) => s.subnetId).slice(1)).toEqual(spec.subnets);
    expect(config.subnets?.every((s) => s.vpcId === "vpc-other001" && s.zone === "ap-shanghai-3")).toBe(true);
    expect(policyYaml("e2e", {}, layout)).toContain("vpcId: vpc-other001");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a file that is not a valid policy says how to find out why", () => {
  const dir = makeTempDir("layout");
  try {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "kind: Nope\n");
    expect(() => layoutOf(file)).toThrow(`${file} is not a valid policy: run \`vpccni validate ${file}\``);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("over two zones: a node subnet per zone, and nodes and the policy's pod subnets alternate between them", () => {
  const config = emulatorConfig(3, undefined, LAYOUT, 2);
  const zone = (id: string) => config.subnets?.find((s) => s.subnetId === id)?.zone;
  expect(zonesOf(2)).toEqual(["ap-guangzhou-3", "ap-guangzhou-4"]);
  const [first, second] = LAYOUT.podSubnets as [string, string];
  expect(config.subnets?.map((s) => [s.subnetId, s.zone])).toEqual([
    ["subnet-node0001", "ap-guangzhou-3"],
    ["subnet-node0002", "ap-guangzhou-4"],
    [first, "ap-guangzhou-3"],
    [second, "ap-guangzhou-4"],
  ]);
  expect(config.instances?.map((i) => [i.instanceId, i.zone, zone(i.subnetId)])).toEqual([
    ["ins-node0001", "ap-guangzhou-3", "ap-guangzhou-3"],
    ["ins-node0002", "ap-guangzhou-4", "ap-guangzhou-4"],
    ["ins-node0003", "ap-guangzhou-3", "ap-guangzhou-3"],
  ]);
  // The default stays one zone: every subnet and instance in <region>-3.
  const one = emulatorConfig(2);
  expect(new Set([...(one.subnets ?? []), ...(one.instances ?? [])].map((x) => x.zone))).toEqual(
    new Set(["ap-guangzhou-3"]),
  );
  expect(() => zonesOf(0)).toThrow("zones (0) must be an integer from 1 to 4");
});
