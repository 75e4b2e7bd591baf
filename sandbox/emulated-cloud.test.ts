import { expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { emulatorConfig, layoutOf, policyYaml } from "./emulated-cloud.ts";
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
