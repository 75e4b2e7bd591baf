import { afterAll, beforeAll, expect, test } from "bun:test";
import type { FabricEni } from "./fabric.ts";
import { startEmulator, type Emulator } from "./server.ts";
import { errorCode, FAST, sdk, waitTask, type SdkClient } from "./sdk-kit.ts";

const VPC = "vpc-aaaaaaaa";
const NODES = "subnet-nodes001";
const PODS = "subnet-pods0001";
const TINY = "subnet-tiny0001"; // a /29: 5 usable addresses
const OTHER_ZONE = "subnet-zone4001";
const SG = "sg-aaaaaaaa";
const INS = "ins-aaaaaaaa";
const SMALL = "ins-bbbbbbbb";

let emu: Emulator;
let client: SdkClient;
const hooks: string[] = [];
beforeAll(async () => {
  emu = await startEmulator({
    config: {
      seed: 3,
      vpcs: [{ vpcId: VPC, cidrBlock: "10.1.0.0/16" }],
      subnets: [
        { subnetId: NODES, vpcId: VPC, cidrBlock: "10.1.0.0/24", zone: "ap-guangzhou-3" },
        { subnetId: PODS, vpcId: VPC, cidrBlock: "10.1.16.0/24", zone: "ap-guangzhou-3" },
        { subnetId: TINY, vpcId: VPC, cidrBlock: "10.1.32.0/29", zone: "ap-guangzhou-3" },
        { subnetId: OTHER_ZONE, vpcId: VPC, cidrBlock: "10.1.48.0/24", zone: "ap-guangzhou-4" },
      ],
      securityGroups: [SG],
      instanceTypes: { "S5.LARGE8": { eniQuota: 4, ipsPerEni: 10 }, "S5.SMALL1": { eniQuota: 2, ipsPerEni: 3 } },
      instances: [
        { instanceId: INS, instanceType: "S5.LARGE8", zone: "ap-guangzhou-3", subnetId: NODES },
        { instanceId: SMALL, instanceType: "S5.SMALL1", zone: "ap-guangzhou-3", subnetId: NODES },
      ],
      settings: FAST,
    },
    fabric: {
      onAttach: async (eni: FabricEni, inst) =>
        void hooks.push(`attach ${eni.eniId} ${inst.instanceId} dev${eni.deviceIndex}`),
      onDetach: async (eni: FabricEni, inst) => void hooks.push(`detach ${eni.eniId} ${inst.instanceId}`),
      onAssign: async (eni: FabricEni, ips) => void hooks.push(`assign ${eni.eniId} ${ips.join(",")}`),
      onUnassign: async (eni: FabricEni, ips) => void hooks.push(`unassign ${eni.eniId} ${ips.join(",")}`),
    },
    log: () => {},
  });
  client = sdk(emu);
});
afterAll(() => emu.stop());

async function createEni(subnetId = PODS, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await client.CreateNetworkInterface({
    VpcId: VPC,
    SubnetId: subnetId,
    NetworkInterfaceName: "t",
    SecurityGroupIds: [SG],
    ...extra,
  });
  expect(await waitTask(client, r.RequestId!)).toBe("SUCCESS");
  return r.NetworkInterface!.NetworkInterfaceId!;
}

async function attach(eniId: string, instanceId = INS): Promise<void> {
  const r = await client.AttachNetworkInterface({ NetworkInterfaceId: eniId, InstanceId: instanceId });
  expect(await waitTask(client, r.RequestId!)).toBe("SUCCESS");
}

async function describe(eniId: string) {
  const r = await client.DescribeNetworkInterfaces({ NetworkInterfaceIds: [eniId] });
  return r.NetworkInterfaceSet![0];
}

test("an ENI goes PENDING -> AVAILABLE, ATTACHING -> attached, DETACHING -> detached, and the fabric hears attach/detach", async () => {
  const r = await client.CreateNetworkInterface({
    VpcId: VPC,
    SubnetId: PODS,
    NetworkInterfaceName: "life",
    SecurityGroupIds: [SG],
    SecondaryPrivateIpAddressCount: 2,
  });
  const id = r.NetworkInterface!.NetworkInterfaceId!;
  expect(id).toMatch(/^eni-[a-z0-9]{8}$/);
  expect(r.NetworkInterface!.State).toBe("PENDING");
  expect(r.NetworkInterface!.PrivateIpAddressSet!.map((i) => i.Primary)).toEqual([true, false, false]);
  await waitTask(client, r.RequestId!);
  expect((await describe(id))!.State).toBe("AVAILABLE");
  const a = await client.AttachNetworkInterface({ NetworkInterfaceId: id, InstanceId: INS });
  const during = await describe(id);
  expect(during!.State).toBe("ATTACHING");
  await waitTask(client, a.RequestId!);
  const after = await describe(id);
  expect(after!.State).toBe("AVAILABLE");
  expect(after!.Attachment!.InstanceId).toBe(INS);
  expect(hooks).toContain(`attach ${id} ${INS} dev1`);
  const d = await client.DetachNetworkInterface({ NetworkInterfaceId: id, InstanceId: INS });
  expect((await describe(id))!.State).toBe("DETACHING");
  await waitTask(client, d.RequestId!);
  expect((await describe(id))!.Attachment).toBeUndefined();
  expect(hooks).toContain(`detach ${id} ${INS}`);
  const del = await client.DeleteNetworkInterface({ NetworkInterfaceId: id });
  await waitTask(client, del.RequestId!);
  expect(await describe(id)).toBeUndefined();
});

test("double attach, delete while attached, detach of a detached ENI and a mutation during a task are refused", async () => {
  const id = await createEni();
  await attach(id);
  expect(await errorCode(client.AttachNetworkInterface({ NetworkInterfaceId: id, InstanceId: INS }))).toBe(
    "UnsupportedOperation.AttachmentAlreadyExists",
  );
  expect(await errorCode(client.AttachNetworkInterface({ NetworkInterfaceId: id, InstanceId: SMALL }))).toBe(
    "UnsupportedOperation.AttachmentAlreadyExists",
  );
  expect(await errorCode(client.DeleteNetworkInterface({ NetworkInterfaceId: id }))).toBe("ResourceInUse");
  const d = await client.DetachNetworkInterface({ NetworkInterfaceId: id, InstanceId: INS });
  expect(
    await errorCode(client.AssignPrivateIpAddresses({ NetworkInterfaceId: id, SecondaryPrivateIpAddressCount: 1 })),
  ).toBe("UnsupportedOperation.MutexOperationTaskRunning");
  await waitTask(client, d.RequestId!);
  expect(await errorCode(client.DetachNetworkInterface({ NetworkInterfaceId: id, InstanceId: INS }))).toBe(
    "UnsupportedOperation.InvalidState",
  );
  expect(await errorCode(client.DeleteNetworkInterface({ NetworkInterfaceId: "eni-00000000" }))).toBe(
    "ResourceNotFound",
  );
});

test("an ENI in another zone cannot be attached (ZoneMismatch), nor one without a security group", async () => {
  const far = await createEni(OTHER_ZONE);
  expect(await errorCode(client.AttachNetworkInterface({ NetworkInterfaceId: far, InstanceId: INS }))).toBe(
    "UnsupportedOperation.ZoneMismatch",
  );
  const bare = await createEni(PODS, { SecurityGroupIds: [] });
  expect(await errorCode(client.AttachNetworkInterface({ NetworkInterfaceId: bare, InstanceId: INS }))).toBe(
    "UnsupportedOperation",
  );
});

test("the instance type caps ENIs per instance and IPs per ENI (LimitExceeded)", async () => {
  const lim = await client.DescribeNetworkInterfaceLimit({ InstanceId: SMALL });
  expect([lim.EniQuantity, lim.EniPrivateIpAddressQuantity]).toEqual([2, 3]);
  const first = await createEni();
  await attach(first, SMALL);
  const second = await createEni();
  expect(await errorCode(client.AttachNetworkInterface({ NetworkInterfaceId: second, InstanceId: SMALL }))).toBe(
    "LimitExceeded",
  );
  const a = await client.AssignPrivateIpAddresses({ NetworkInterfaceId: first, SecondaryPrivateIpAddressCount: 2 });
  await waitTask(client, a.RequestId!);
  expect(
    await errorCode(client.AssignPrivateIpAddresses({ NetworkInterfaceId: first, SecondaryPrivateIpAddressCount: 1 })),
  ).toBe("LimitExceeded");
  expect(hooks.some((h) => h.startsWith(`assign ${first} `))).toBe(true);
});

test("a full subnet gives ResourceInsufficient.Subnet and AvailableIpAddressCount follows assign/unassign", async () => {
  const count = async () =>
    (await client.DescribeSubnets({ SubnetIds: [TINY] })).SubnetSet![0]!.AvailableIpAddressCount;
  expect(await count()).toBe(5);
  const id = await createEni(TINY, { SecondaryPrivateIpAddressCount: 3 });
  expect(await count()).toBe(1);
  expect(
    await errorCode(client.AssignPrivateIpAddresses({ NetworkInterfaceId: id, SecondaryPrivateIpAddressCount: 2 })),
  ).toBe("ResourceInsufficient.Subnet");
  expect(
    await errorCode(
      client.CreateNetworkInterface({
        VpcId: VPC,
        SubnetId: TINY,
        NetworkInterfaceName: "x",
        SecurityGroupIds: [SG],
        SecondaryPrivateIpAddressCount: 1,
      }),
    ),
  ).toBe("ResourceInsufficient.Subnet");
  const eni = await describe(id);
  const secondary = eni!.PrivateIpAddressSet!.filter((i) => !i.Primary).map((i) => i.PrivateIpAddress!);
  const primary = eni!.PrivateIpAddressSet!.find((i) => i.Primary)!.PrivateIpAddress!;
  expect(
    await errorCode(
      client.UnassignPrivateIpAddresses({
        NetworkInterfaceId: id,
        PrivateIpAddresses: [{ PrivateIpAddress: primary }],
      }),
    ),
  ).toBe("UnsupportedOperation");
  const u = await client.UnassignPrivateIpAddresses({
    NetworkInterfaceId: id,
    PrivateIpAddresses: secondary.map((PrivateIpAddress) => ({ PrivateIpAddress })),
  });
  await waitTask(client, u.RequestId!);
  expect(await count()).toBe(4);
  expect(hooks).toContain(`unassign ${id} ${secondary.join(",")}`);
  const del = await client.DeleteNetworkInterface({ NetworkInterfaceId: id });
  await waitTask(client, del.RequestId!);
  expect(await count()).toBe(5);
});

test("a repeated ClientToken returns the first answer; reused with other parameters it is refused", async () => {
  const req = {
    VpcId: VPC,
    SubnetId: PODS,
    NetworkInterfaceName: "idem",
    SecurityGroupIds: [SG],
    SecondaryPrivateIpAddressCount: 1,
    ClientToken: "tok-1",
  };
  const a = await client.CreateNetworkInterface(req);
  const b = await client.CreateNetworkInterface(req);
  expect(b.NetworkInterface!.NetworkInterfaceId).toBe(a.NetworkInterface!.NetworkInterfaceId!);
  expect(b.RequestId).toBe(a.RequestId!);
  const { SubnetId, VpcId, ...others } = req;
  const reordered = await client.CreateNetworkInterface({ ...others, SubnetId, VpcId });
  expect(reordered.NetworkInterface!.NetworkInterfaceId).toBe(a.NetworkInterface!.NetworkInterfaceId!);
  expect(await errorCode(client.CreateNetworkInterface({ ...req, NetworkInterfaceName: "other" }))).toBe(
    "UnsupportedOperation.IdempotentParameterMismatch",
  );
  const named = await client.DescribeNetworkInterfaces({
    Filters: [{ Name: "network-interface-name", Values: ["idem"] }],
  });
  expect(named.TotalCount).toBe(1);
});

test("DescribeNetworkInterfaces filters AND across names, OR within values, and pages with Offset/Limit", async () => {
  const tagged = [
    await createEni(PODS, { Tags: [{ Key: "cluster", Value: "c1" }] }),
    await createEni(PODS, { Tags: [{ Key: "cluster", Value: "c2" }] }),
  ];
  const byTag = await client.DescribeNetworkInterfaces({
    Filters: [
      { Name: "tag:cluster", Values: ["c1", "c2"] },
      { Name: "subnet-id", Values: [PODS] },
    ],
  });
  expect(byTag.NetworkInterfaceSet!.map((e) => e.NetworkInterfaceId).sort()).toEqual([...tagged].sort());
  const none = await client.DescribeNetworkInterfaces({
    Filters: [
      { Name: "tag:cluster", Values: ["c1"] },
      { Name: "subnet-id", Values: [TINY] },
    ],
  });
  expect(none.TotalCount).toBe(0);
  const all = await client.DescribeNetworkInterfaces({ Filters: [{ Name: "vpc-id", Values: [VPC] }], Limit: 100 });
  const pages: string[] = [];
  for (let offset = 0; offset < all.TotalCount!; offset += 3) {
    const p = await client.DescribeNetworkInterfaces({
      Filters: [{ Name: "vpc-id", Values: [VPC] }],
      Offset: offset,
      Limit: 3,
    });
    expect(p.TotalCount).toBe(all.TotalCount!);
    pages.push(...p.NetworkInterfaceSet!.map((e) => e.NetworkInterfaceId!));
  }
  expect(pages).toEqual(all.NetworkInterfaceSet!.map((e) => e.NetworkInterfaceId!));
  expect(await errorCode(client.DescribeNetworkInterfaces({ Limit: 101 }))).toBe("InvalidParameterValue.Range");
  expect(await errorCode(client.DescribeNetworkInterfaces({ Filters: [{ Name: "colour", Values: ["x"] }] }))).toBe(
    "InvalidParameter.FilterInvalidKey",
  );
  expect(
    await errorCode(
      client.DescribeNetworkInterfaces({ NetworkInterfaceIds: tagged, Filters: [{ Name: "vpc-id", Values: [VPC] }] }),
    ),
  ).toBe("InvalidParameter.Coexist");
  const prim = await client.DescribeNetworkInterfaces({
    Filters: [
      { Name: "attachment.instance-id", Values: [INS] },
      { Name: "is-primary", Values: ["true"] },
    ],
  });
  expect(prim.TotalCount).toBe(1);
});

test("the metadata service lists the instance's ENIs, their addresses, gateway and mask", async () => {
  const id = await createEni(PODS, { SecondaryPrivateIpAddressCount: 1 });
  await attach(id);
  const eni = (await describe(id))!;
  const base = emu.metadataUrl(INS);
  const get = async (p: string) => (await fetch(base + p)).text();
  expect(await get("instance-id")).toBe(INS);
  expect(await get("placement/zone")).toBe("ap-guangzhou-3");
  const mac = eni.MacAddress!.toLowerCase();
  expect((await get("network/interfaces/macs/")).split("\n")).toContain(`${mac}/`);
  expect(await get(`network/interfaces/macs/${mac}/subnet-id`)).toBe(PODS);
  const ips = (await get(`network/interfaces/macs/${mac}/local-ipv4s/`)).split("\n").map((l) => l.replace(/\/$/, ""));
  expect(ips.sort()).toEqual(eni.PrivateIpAddressSet!.map((i) => i.PrivateIpAddress!).sort());
  expect(await get(`network/interfaces/macs/${mac}/local-ipv4s/${ips[0]}/gateway`)).toBe("10.1.16.1");
  expect(await get(`network/interfaces/macs/${mac}/local-ipv4s/${ips[0]}/subnet-mask`)).toBe("255.255.255.0");
  expect((await fetch(emu.metadataUrl("ins-nothere") + "instance-id")).status).toBe(404);
});

test("an instance's own metadata listener serves its tree at the real service's paths, nothing else", async () => {
  const own = emu.instanceMetadataServer(INS);
  expect(own.url).toBe(`http://127.0.0.1:${own.port}/latest/meta-data/`);
  expect(await (await fetch(`${own.url}instance-id`)).text()).toBe(INS);
  expect(await (await fetch(`${own.url}placement/zone`)).text()).toBe("ap-guangzhou-3");
  expect(emu.instanceMetadataServer(INS).port).toBe(own.port);
  expect((await fetch(`http://127.0.0.1:${own.port}/meta/${INS}/latest/meta-data/instance-id`)).status).toBe(404);
  expect((await fetch(`http://127.0.0.1:${own.port}/`, { method: "POST" })).status).toBe(404);
});

test("the admin API needs its bearer token and sets faults", async () => {
  const unauth = await fetch(`${emu.url}/_emulator/stats`);
  expect(unauth.status).toBe(401);
  const auth = { authorization: `Bearer ${emu.adminToken}`, "content-type": "application/json" };
  const bad = await fetch(`${emu.url}/_emulator/faults`, {
    method: "PUT",
    headers: auth,
    body: JSON.stringify({ NoSuchAction: { errorRate: 1 } }),
  });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { error: string }).error).toContain("unknown action 'NoSuchAction'");
  const put = await fetch(`${emu.url}/_emulator/faults`, {
    method: "PUT",
    headers: auth,
    body: JSON.stringify({ DescribeSubnets: { errorRate: 1, errorCode: "InternalError" } }),
  });
  expect(put.status).toBe(200);
  expect(await errorCode(client.DescribeSubnets({}))).toBe("InternalError");
  await fetch(`${emu.url}/_emulator/faults`, { method: "PUT", headers: auth, body: "{}" });
  expect((await client.DescribeSubnets({})).TotalCount).toBe(4);
  const stats = (await (await fetch(`${emu.url}/_emulator/stats`, { headers: auth })).json()) as Record<
    string,
    Record<string, number>
  >;
  expect(stats.DescribeSubnets!.InternalError).toBe(1);
});

test("an instance added through the admin API gets a primary ENI, quotas and metadata", async () => {
  const auth = { authorization: `Bearer ${emu.adminToken}`, "content-type": "application/json" };
  const res = await fetch(`${emu.url}/_emulator/instances`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ instanceType: "S5.SMALL1" }),
  });
  expect(res.status).toBe(201);
  const inst = (await res.json()) as { instanceId: string; subnetId: string; zone: string };
  expect(inst).toMatchObject({ subnetId: NODES, zone: "ap-guangzhou-3" });
  expect((await client.DescribeNetworkInterfaceLimit({ InstanceId: inst.instanceId })).EniQuantity).toBe(2);
  const enis = await client.DescribeNetworkInterfaces({
    Filters: [{ Name: "attachment.instance-id", Values: [inst.instanceId] }],
  });
  expect(enis.NetworkInterfaceSet!.map((e) => e.Primary)).toEqual([true]);
  expect(await (await fetch(emu.metadataUrl(inst.instanceId) + "local-ipv4")).text()).toBe(
    enis.NetworkInterfaceSet![0]!.PrivateIpAddressSet![0]!.PrivateIpAddress!,
  );
  const dup = await fetch(`${emu.url}/_emulator/instances`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ instanceId: inst.instanceId }),
  });
  expect(dup.status).toBe(400);
  expect(((await dup.json()) as { error: string }).error).toBe(`instance ${inst.instanceId} exists already`);
});
