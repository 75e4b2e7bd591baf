// The emulated cloud the sandbox runs against, laid out from a policy: its region, VPC and
// pod subnets (examples/policies/general.yaml by default, the policy the demo deploys), plus
// a node subnet per zone and one instance per node, in one zone or spread over several. Also
// the policy text the agents get, and polling with a deadline.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse, stringify } from "yaml";
import type { EmulatorConfigInput } from "../emulator/index.ts";
import { VpcCniPolicy } from "../schema/index.ts";

export const NETWORK = "vpccni";
/** The policy the demo deploys; the sandbox's VPC and subnets are the ones it names. */
export const EXAMPLE_POLICY = join(resolve(import.meta.dir, ".."), "examples/policies/general.yaml");

export interface CloudLayout {
  region: string;
  clusterId: string;
  vpcId: string;
  /** The policy's pod subnets, in its order. */
  podSubnets: string[];
}

/** Region, cluster, VPC and pod subnets of a policy file (YAML). */
export function layoutOf(policyFile: string): CloudLayout {
  const parsed = VpcCniPolicy.safeParse(parse(readFileSync(policyFile, "utf8")));
  if (!parsed.success) throw new Error(`${policyFile} is not a valid policy: run \`vpccni validate ${policyFile}\``);
  const { region, clusterId, vpcId, subnets } = parsed.data.spec;
  return { region, clusterId, vpcId, podSubnets: [...subnets] };
}

export const LAYOUT = layoutOf(EXAMPLE_POLICY);
export const VPC = LAYOUT.vpcId;
/** The node subnet is the sandbox's own; the first pod subnet is large, the second small. */
export const SUBNETS = {
  nodes: "subnet-node0001",
  large: LAYOUT.podSubnets[0]!,
  small: LAYOUT.podSubnets[1]!,
} as const;
/** CIDRs of the pod subnets, in the policy's order: a /23 (510 IPs), then a /26 (62 IPs). */
const POD_CIDRS = ["10.231.8.0/23", "10.231.12.0/26", "10.231.16.0/24", "10.231.20.0/24"];

/**
 * The sandbox's zones: `<region>-3`, then `<region>-4`, ... With several, node i and pod subnet
 * i of the policy are in zone i mod zones, and each zone has its own node subnet
 * (subnet-node0001, subnet-node0002, ...): so the example policy's two pod subnets are one per
 * zone, and two nodes are one per zone.
 */
export function zonesOf(zones = 1, layout = LAYOUT): string[] {
  if (!Number.isInteger(zones) || zones < 1 || zones > 4)
    throw new Error(`zones (${zones}) must be an integer from 1 to 4`);
  return Array.from({ length: zones }, (_, z) => `${layout.region}-${3 + z}`);
}

/** Default: 3 pod ENIs of 10 secondary IPs per node (quota 4 x 11, primary ENI and IPs excluded), one zone. */
export function emulatorConfig(
  nodes: number,
  quota = { eniQuota: 4, ipsPerEni: 11 },
  layout = LAYOUT,
  zones = 1,
): EmulatorConfigInput {
  if (layout.podSubnets.length > POD_CIDRS.length)
    throw new Error(
      `the sandbox lays out at most ${POD_CIDRS.length} pod subnets; the policy lists ${layout.podSubnets.length}`,
    );
  const zone = zonesOf(zones, layout);
  const nodeSubnet = (z: number) => (z === 0 ? SUBNETS.nodes : `subnet-node000${z + 1}`);
  return {
    region: layout.region,
    vpcs: [{ vpcId: layout.vpcId, cidrBlock: "10.231.0.0/16" }],
    subnets: [
      ...zone.map((name, z) => ({
        subnetId: nodeSubnet(z),
        vpcId: layout.vpcId,
        cidrBlock: `10.231.${z}.0/24`,
        zone: name,
      })),
      ...layout.podSubnets.map((subnetId, i) => ({
        subnetId,
        vpcId: layout.vpcId,
        cidrBlock: POD_CIDRS[i]!,
        zone: zone[i % zones]!,
      })),
    ],
    securityGroups: ["sg-demo0001"],
    instanceTypes: { "S5.LARGE8": quota },
    instances: Array.from({ length: nodes }, (_, i) => ({
      instanceId: `ins-node000${i + 1}`,
      instanceType: "S5.LARGE8",
      zone: zone[i % zones]!,
      subnetId: nodeSubnet(i % zones),
    })),
    settings: { asyncMs: { create: 20, attach: 100, detach: 60, delete: 20, assign: 20, unassign: 20 } },
  };
}

/**
 * The sandbox's budget of mutating calls per node. A test bed of a few nodes owns the whole
 * emulated account (Assign at 100/s), and its suites churn far more than a real node (64
 * parallel ADDs, chaos kills): the default fair share of a 1,000-node cluster (0.1/s after a
 * burst of 20) would make them crawl. Real clusters keep the default.
 */
export const SANDBOX_RATE_LIMITS = { mutationsPerSecond: 50, burst: 100 };

/** A policy for the sandbox's cloud: the layout's IDs plus `spec` overrides (`cloud` merged). */
export function policyYaml(name: string, spec: Record<string, unknown> = {}, layout = LAYOUT): string {
  return stringify({
    apiVersion: "vpccni.io/v1alpha1",
    kind: "VpcCniPolicy",
    metadata: { name },
    spec: {
      clusterId: layout.clusterId,
      region: layout.region,
      vpcId: layout.vpcId,
      subnets: layout.podSubnets,
      ...spec,
      cloud: { rateLimits: SANDBOX_RATE_LIMITS, ...(spec.cloud as Record<string, unknown> | undefined) },
    },
  });
}

/** Polls until `check` is true; the deadline only bounds a failure, success never waits on it. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
      if ((error as Error).message.includes("agent exited")) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`,
      );
    await Bun.sleep(50);
  }
}
