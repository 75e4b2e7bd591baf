// The agent spends its policy's spec.cloud.rateLimits: connectNode builds the cloud client with
// that budget of mutating calls (unset: the fair share of a 1,000-node cluster), against the
// emulator. Real time, with a budget small enough that the pacing dominates the calls.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startEmulator, type Emulator } from "../../emulator/index.ts";
import { VpcCniPolicy } from "../../schema/policy.ts";
import { INSTANCE, testConfig, VPC } from "../cloud/emulated-vpc-kit.ts";
import type { DataPlane } from "../net/types.ts";
import type { AgentOptions } from "./agent.ts";
import { createLogger } from "./log.ts";
import { connectNode } from "./node-setup.ts";

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ config: testConfig(), log: () => {} });
});
afterAll(() => emu.stop());

function policy(cloud: Record<string, unknown>) {
  return VpcCniPolicy.parse({
    apiVersion: "vpccni.io/v1alpha1",
    kind: "VpcCniPolicy",
    metadata: { name: "budget" },
    spec: { clusterId: "cls-test0001", region: emu.region, vpcId: VPC, subnets: ["subnet-pods0002"], cloud },
  });
}

async function assignFour(cloud: Record<string, unknown>): Promise<number> {
  const opts = {
    metadataUrl: emu.metadataUrl(INSTANCE),
    endpoint: `http://${emu.endpoint}`,
    log: createLogger({ write: () => {} }),
    dataPlane: { listEnis: async () => [] } as unknown as DataPlane,
    primaryInterface: "eth0",
  } as unknown as AgentOptions; // credentials: the CVM role the emulator's metadata hands out
  const { api } = await connectNode(opts, policy(cloud));
  const [primary] = await api.listEnis(INSTANCE);
  const start = performance.now();
  for (let i = 0; i < 4; i++) await api.assignIps(primary!.id, { count: 1 });
  return performance.now() - start;
}

test("the policy's budget paces the node's mutating calls; unset, the default burst of 20 lets a few through", async () => {
  // 2 calls/s after a burst of 1: the 2nd, 3rd and 4th Assign wait 500 ms each
  expect(await assignFour({ rateLimits: { mutationsPerSecond: 2, burst: 1 } })).toBeGreaterThanOrEqual(1_450);
  expect(await assignFour({})).toBeLessThan(1_450);
});
