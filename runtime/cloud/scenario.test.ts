// A node's first minutes as the agent will live them, against the emulator: who am I (metadata),
// credentials from the CVM role, quotas, the pod subnet with the most room, a new ENI attached
// and filled, the instance's metadata showing it, and leaked ENIs found by their tags.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startEmulator, type Emulator } from "../../emulator/index.ts";
import { cvmRoleCredentials } from "./credentials.ts";
import { MetadataClient } from "./metadata.ts";
import { TencentVpcApi } from "./tencent.ts";
import { FakeClock, INSTANCE, POD_SUBNET, SG, testConfig, TINY_SUBNET, VPC } from "./emulated-vpc-kit.ts";

let emu: Emulator;
const clock = new FakeClock();
beforeAll(async () => {
  emu = await startEmulator({ config: testConfig(), now: clock.now, log: () => {} });
});
afterAll(() => emu.stop());

test("boot: identity from metadata, role credentials, an ENI in the roomiest subnet, visible in metadata", async () => {
  const metadata = new MetadataClient(emu.metadataUrl(INSTANCE));
  const instanceId = await metadata.instanceId();
  const api = new TencentVpcApi({
    region: await metadata.region(),
    endpoint: `http://${emu.endpoint}`,
    credentials: cvmRoleCredentials(metadata, clock),
    clusterId: "cls-scenario",
    vpcId: VPC,
    clock,
  });

  const limits = await api.instanceLimits(instanceId);
  const enis = await api.listEnis(instanceId);
  const primary = enis.find((e) => e.primary)!;
  expect(primary.mac).toBe((await metadata.get("mac")).toLowerCase());
  expect(limits.enis - enis.length).toBe(3);

  const subnets = await api.describeSubnets([POD_SUBNET, TINY_SUBNET]);
  const roomiest = subnets.reduce((a, b) => (b.availableIps > a.availableIps ? b : a));
  expect(roomiest.id).toBe(POD_SUBNET);

  const eni = await api.createEni({
    subnetId: roomiest.id,
    securityGroupIds: primary.securityGroupIds,
    secondaryIps: limits.ipsPerEni - 1,
    node: "node-1",
    clientToken: "intent-1",
  });
  expect(eni.secondaryIps).toHaveLength(limits.ipsPerEni - 1);
  const attached = await api.attachEni(eni.id, instanceId, { clientToken: "intent-1.attach" });
  expect(attached.attachment?.deviceIndex).toBe(1);

  expect(await metadata.macs()).toContain(eni.mac);
  const seen = await metadata.eni(eni.mac);
  expect(seen.subnetId).toBe(POD_SUBNET);
  expect(seen.ips.sort()).toEqual([eni.primaryIp, ...eni.secondaryIps].sort());

  // A crash after CreateNetworkInterface, before the agent learnt the ENI: the GC sweep finds it by tag.
  const before = clock.now();
  const leaked = await api.createEni({
    subnetId: POD_SUBNET,
    securityGroupIds: primary.securityGroupIds,
    node: "node-1",
  });
  const tagged = await api.findEnis({ tags: { "vpccni.io/cluster": "cls-scenario", "vpccni.io/node": "node-1" } });
  const known = new Set((await api.listEnis(instanceId)).map((e) => e.id));
  expect(tagged.filter((e) => !known.has(e.id)).map((e) => e.id)).toEqual([leaked.id]);
  // The creation time tag lets GC spare ENIs younger than a few minutes (still being set up).
  const createdAt = Date.parse(leaked.tags["vpccni.io/created-at"]!);
  expect(createdAt).toBeGreaterThanOrEqual(before);
  expect(createdAt).toBeLessThanOrEqual(clock.now());
  await api.deleteEni(leaked.id);
});
