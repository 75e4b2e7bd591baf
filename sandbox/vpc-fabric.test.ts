// The netns fabric driven by the real emulator through the real SDK: ENI attach creates
// ethN (with the ENI's MAC) in the node namespace, IP assignment routes it in `vpc`, and
// unassign / detach undo it, so a pod's packets flow only while cloud and node agree.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startEmulator, type Emulator } from "../emulator/index.ts";
import { FAST, sdk, waitTask, type SdkClient } from "../emulator/sdk-kit.ts";
import { IprouteDataPlane } from "../runtime/net/index.ts";
import { createTestBed, type NodeNs, type TestBed } from "./test-bed.ts";
import { NetnsFabric } from "./vpc-fabric.ts";

const VPC = "vpc-aaaaaaaa";
const NODES = "subnet-nodes001";
const PODS = "subnet-pods0001";
const SG = "sg-aaaaaaaa";
const INS = "ins-aaaaaaaa";

let bed: TestBed;
let node: NodeNs;
let fabric: NetnsFabric;
let emu: Emulator;
let client: SdkClient;

beforeAll(async () => {
  bed = await createTestBed();
  node = await bed.addNode();
  fabric = new NetnsFabric(bed, (i) => (i.instanceId === INS ? node : undefined));
  emu = await startEmulator({
    config: {
      seed: 5,
      vpcs: [{ vpcId: VPC, cidrBlock: "10.1.0.0/16" }],
      subnets: [
        { subnetId: NODES, vpcId: VPC, cidrBlock: "10.1.0.0/24", zone: "ap-guangzhou-3" },
        { subnetId: PODS, vpcId: VPC, cidrBlock: "10.1.16.0/24", zone: "ap-guangzhou-3" },
      ],
      securityGroups: [SG],
      instanceTypes: { "S5.LARGE8": { eniQuota: 4, ipsPerEni: 10 } },
      instances: [{ instanceId: INS, instanceType: "S5.LARGE8", zone: "ap-guangzhou-3", subnetId: NODES }],
      settings: FAST,
    },
    fabric,
    log: () => {},
  });
  client = sdk(emu);
}, 30_000);

afterAll(async () => {
  await emu?.stop();
  await bed?.destroy();
});

async function done(requestId: string | undefined): Promise<void> {
  expect(await waitTask(client, requestId!)).toBe("SUCCESS");
}

test("attach -> ethN with the ENI's MAC; assign -> /32 in vpc; unassign and detach undo it (emulator + SDK)", async () => {
  const c = await client.CreateNetworkInterface({
    VpcId: VPC,
    SubnetId: PODS,
    NetworkInterfaceName: "pods",
    SecurityGroupIds: [SG],
    SecondaryPrivateIpAddressCount: 1,
  });
  await done(c.RequestId);
  const eni = c.NetworkInterface!;
  const mac = eni.MacAddress!.toLowerCase();
  const [primary, podIp] = eni.PrivateIpAddressSet!.map((i) => i.PrivateIpAddress!);
  await done(
    (await client.AttachNetworkInterface({ NetworkInterfaceId: eni.NetworkInterfaceId!, InstanceId: INS })).RequestId,
  );

  const link = fabric.eni(eni.NetworkInterfaceId!)!;
  expect(link.link).toBe("eth1");
  expect(await bed.ip(node.ns, "link", "show", "dev", "eth1")).toContain(`link/ether ${mac}`);
  const vpcRoutes = await bed.ip(bed.vpc, "route", "show", "dev", link.vpcPeer);
  expect(vpcRoutes).toContain(primary!);
  expect(vpcRoutes).toContain(podIp!);

  // the node wires a pod on the secondary IP; it reaches the VPC router through the ENI
  const dp = new IprouteDataPlane({ netns: node.ns });
  const eniLink = await dp.setupEni({ mac, subnetCidr: "10.1.16.0/24", gateway: "10.1.16.1", primaryIp: primary });
  await dp.ensureSysctls("eth0", [eniLink.name]);
  const pod = await bed.addPod({ name: "p" });
  await dp.wirePod({
    network: "vpc",
    containerId: "c1",
    ifname: "eth0",
    netns: pod.path,
    ip: podIp!,
    table: eniLink.table,
  });
  const ping = () => bed.exec(pod.ns, ["ping", "-n", "-q", "-c", "1", "-W", "2", "10.1.16.1"]);
  expect((await ping()).code).toBe(0);

  await done(
    (
      await client.UnassignPrivateIpAddresses({
        NetworkInterfaceId: eni.NetworkInterfaceId!,
        PrivateIpAddresses: [{ PrivateIpAddress: podIp! }],
      })
    ).RequestId,
  );
  expect(await bed.ip(bed.vpc, "route", "show", "dev", link.vpcPeer)).not.toContain(podIp!);
  expect((await ping()).code).not.toBe(0);

  const a = await client.AssignPrivateIpAddresses({
    NetworkInterfaceId: eni.NetworkInterfaceId!,
    SecondaryPrivateIpAddressCount: 1,
  });
  await done(a.RequestId);
  const newIp = a.PrivateIpAddressSet![0]!.PrivateIpAddress!;
  expect(await bed.ip(bed.vpc, "route", "show", "dev", link.vpcPeer)).toContain(newIp);
  expect(await bed.ip(bed.vpc, "neigh", "show", newIp)).toContain(`lladdr ${mac} PERMANENT`);

  await done(
    (await client.DetachNetworkInterface({ NetworkInterfaceId: eni.NetworkInterfaceId!, InstanceId: INS })).RequestId,
  );
  expect(await bed.ip(node.ns, "-o", "link", "show")).not.toContain(mac);
  expect(await bed.ip(bed.vpc, "-o", "link", "show")).not.toContain(link.vpcPeer);
  expect(fabric.calls).toEqual([
    `attach ${eni.NetworkInterfaceId} ${INS}`,
    `unassign ${eni.NetworkInterfaceId} ${podIp}`,
    `assign ${eni.NetworkInterfaceId} ${newIp}`,
    `detach ${eni.NetworkInterfaceId} ${INS}`,
  ]);
}, 30_000);
