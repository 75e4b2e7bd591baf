// The fixed parts of the end-to-end world: the emulated VPC, the policy text the agents get,
// and polling with a deadline.
import { stringify } from "yaml";
import type { EmulatorConfigInput } from "../../emulator/index.ts";

export const NETWORK = "vpccni";
export const VPC = "vpc-demo0001";
export const SUBNETS = { nodes: "subnet-node0001", large: "subnet-pods0001", small: "subnet-pods0002" } as const;

/** Default: 3 pod ENIs of 10 secondary IPs per node (quota 4 x 11, primary ENI and IPs excluded). */
export function emulatorConfig(nodes: number, quota = { eniQuota: 4, ipsPerEni: 11 }): EmulatorConfigInput {
  return {
    region: "ap-guangzhou",
    vpcs: [{ vpcId: VPC, cidrBlock: "10.231.0.0/16" }],
    subnets: [
      { subnetId: SUBNETS.nodes, vpcId: VPC, cidrBlock: "10.231.0.0/24", zone: "ap-guangzhou-3" },
      { subnetId: SUBNETS.large, vpcId: VPC, cidrBlock: "10.231.8.0/23", zone: "ap-guangzhou-3" },
      { subnetId: SUBNETS.small, vpcId: VPC, cidrBlock: "10.231.12.0/26", zone: "ap-guangzhou-3" },
    ],
    securityGroups: ["sg-demo0001"],
    instanceTypes: { "S5.LARGE8": quota },
    instances: Array.from({ length: nodes }, (_, i) => ({ instanceId: `ins-node000${i + 1}`, instanceType: "S5.LARGE8", zone: "ap-guangzhou-3", subnetId: SUBNETS.nodes })),
    settings: { asyncMs: { create: 20, attach: 100, detach: 60, delete: 20, assign: 20, unassign: 20 } },
  };
}

export function policyYaml(name: string, spec: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: "vpccni.io/v1alpha1",
    kind: "VpcCniPolicy",
    metadata: { name },
    spec: { clusterId: "cls-demo0001", region: "ap-guangzhou", vpcId: VPC, subnets: [SUBNETS.large, SUBNETS.small], ...spec },
  });
}

/** Polls until `check` is true; the deadline only bounds a failure, success never waits on it. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
      if ((error as Error).message.includes("agent exited")) throw error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await Bun.sleep(50);
  }
}
