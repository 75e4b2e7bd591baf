// Rules audited against the VPC API reference (document/api/215/...) and the per-action error
// lists of tencentcloud-sdk-go (tencentcloud/vpc/v20170312/client.go), each through the real SDK.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import type { ActionFault } from "./config.ts";
import { startEmulator, type Emulator, type EmulatorOptions } from "./server.ts";
import { errorCode, FAST, sdk, waitTask, type SdkClient } from "./sdk-kit.ts";

const VPC = "vpc-dddddddd";
const PODS = "subnet-pods0004"; // 10.4.16.0/24
const SG = "sg-dddddddd";
const INS = "ins-dddddddd";

const world = {
  seed: 5,
  vpcs: [{ vpcId: VPC, cidrBlock: "10.4.0.0/16" }],
  subnets: [
    { subnetId: "subnet-nodes004", vpcId: VPC, cidrBlock: "10.4.0.0/24", zone: "ap-guangzhou-3" },
    { subnetId: PODS, vpcId: VPC, cidrBlock: "10.4.16.0/24", zone: "ap-guangzhou-3" },
  ],
  securityGroups: [SG],
  instanceTypes: { "S5.LARGE8": { eniQuota: 4, ipsPerEni: 10 } },
  instances: [{ instanceId: INS, instanceType: "S5.LARGE8", zone: "ap-guangzhou-3", subnetId: "subnet-nodes004" }],
};

const started: Emulator[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.stop()));
});

/** An emulator of its own on a clock the test moves (starting at the wall clock, for signatures). */
async function emulatorAt(opts: Partial<EmulatorOptions> & { settings?: Record<string, unknown> } = {}) {
  const clock = { ms: Date.now() };
  const emu = await startEmulator({
    config: { ...world, settings: { ...FAST, ...opts.settings } },
    now: () => clock.ms,
    log: () => {},
    ...opts,
  });
  started.push(emu);
  return { emu, clock, client: sdk(emu) };
}

/** "OK" or the API error code, for calls the test expects either way. */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "OK";
  } catch (e) {
    return (e as { code?: string }).code ?? `no code: ${(e as Error).message}`;
  }
}

const eniRequest = (extra: Record<string, unknown> = {}) => ({
  VpcId: VPC,
  SubnetId: PODS,
  NetworkInterfaceName: "ref",
  SecurityGroupIds: [SG],
  ...extra,
});

// One emulator on the wall clock for the rules that need no clock of their own.
let shared: Emulator;
let client: SdkClient;
beforeAll(async () => {
  shared = await startEmulator({ config: { ...world, settings: FAST }, log: () => {} });
  client = sdk(shared);
});
afterAll(() => shared.stop());

async function createEni(extra: Record<string, unknown> = {}): Promise<string> {
  const r = await client.CreateNetworkInterface(eniRequest(extra));
  expect(await waitTask(client, r.RequestId!)).toBe("SUCCESS");
  return r.NetworkInterface!.NetworkInterfaceId!;
}

async function addresses(eniId: string): Promise<string[]> {
  const r = await client.DescribeNetworkInterfaces({ NetworkInterfaceIds: [eniId] });
  return r.NetworkInterfaceSet![0]!.PrivateIpAddressSet!.map((i) => i.PrivateIpAddress!);
}

const free = async () => (await client.DescribeSubnets({ SubnetIds: [PODS] })).SubnetSet![0]!.AvailableIpAddressCount!;

test("each action answers RequestLimitExceeded past its documented default rate, refilled by the emulator clock", async () => {
  const { emu, clock, client: c } = await emulatorAt();
  // Parameters that fail inside the action: the limit applies before it, so nothing changes.
  const calls: [string, number, Record<string, unknown>][] = [
    ["AssignPrivateIpAddresses", 100, { NetworkInterfaceId: "eni-00000000", SecondaryPrivateIpAddressCount: 1 }],
    ["UnassignPrivateIpAddresses", 100, { NetworkInterfaceId: "eni-00000000", PrivateIpAddresses: [] }],
    ["CreateNetworkInterface", 100, { VpcId: "vpc-00000000", SubnetId: PODS, NetworkInterfaceName: "x" }],
    ["DeleteNetworkInterface", 100, { NetworkInterfaceId: "eni-00000000" }],
    ["AttachNetworkInterface", 50, { NetworkInterfaceId: "eni-00000000", InstanceId: INS }],
    ["DetachNetworkInterface", 50, { NetworkInterfaceId: "eni-00000000", InstanceId: INS }],
    ["DescribeVpcTaskResult", 20, { TaskId: "00000000-0000-4000-8000-000000000000" }],
    ["DescribeNetworkInterfaceLimit", 20, { InstanceId: INS }],
  ];
  for (const [action, rate, params] of calls) {
    const seen: string[] = [];
    for (let i = 0; i < rate; i++) seen.push(await outcome(c.request(action, params)));
    expect({ action, throttled: seen.filter((s) => s === "RequestLimitExceeded").length }).toEqual({
      action,
      throttled: 0,
    });
    expect({ action, next: await outcome(c.request(action, params)) }).toEqual({
      action,
      next: "RequestLimitExceeded",
    });
    clock.ms += Math.ceil(1000 / rate);
    expect({ action, refilled: await outcome(c.request(action, params)) }).not.toEqual({
      action,
      refilled: "RequestLimitExceeded",
    });
  }
  // No default for the Describe reads the reference gives no checked limit for.
  for (let i = 0; i < 120; i++) expect(await outcome(c.DescribeSubnets({}))).toBe("OK");
  expect(emu.admin.stats().DescribeNetworkInterfaceLimit!.RequestLimitExceeded).toBe(1);
});

test("settings.rateLimits overrides a default (0 lifts it), and a qps fault wins over both", async () => {
  const { emu, client: c } = await emulatorAt({
    settings: { rateLimits: { DescribeNetworkInterfaceLimit: 2, DescribeVpcTaskResult: 0 } },
  });
  const limit = () => outcome(c.DescribeNetworkInterfaceLimit({ InstanceId: INS }));
  expect([await limit(), await limit(), await limit()]).toEqual(["OK", "OK", "RequestLimitExceeded"]);
  const task = () => outcome(c.DescribeVpcTaskResult({ TaskId: "00000000-0000-4000-8000-000000000000" }));
  for (let i = 0; i < 30; i++) expect(await task()).toBe("ResourceNotFound");
  emu.admin.setFaults({ DescribeVpcTaskResult: { qps: 1 } satisfies Partial<ActionFault> });
  expect([await task(), await task()]).toEqual(["ResourceNotFound", "RequestLimitExceeded"]);
});

test("a repeated address in one Assign or Unassign is InvalidParameterValue.DuplicatePara and changes nothing", async () => {
  const id = await createEni({ SecondaryPrivateIpAddressCount: 1 });
  const before = await addresses(id);
  const left = await free();
  const twice = [{ PrivateIpAddress: "10.4.16.200" }, { PrivateIpAddress: "10.4.16.200" }];
  expect(await errorCode(client.AssignPrivateIpAddresses({ NetworkInterfaceId: id, PrivateIpAddresses: twice }))).toBe(
    "InvalidParameterValue.DuplicatePara",
  );
  expect(await addresses(id)).toEqual(before);
  expect(await free()).toBe(left);
  const secondary = before[1]!;
  expect(
    await errorCode(
      client.UnassignPrivateIpAddresses({
        NetworkInterfaceId: id,
        PrivateIpAddresses: [{ PrivateIpAddress: secondary }, { PrivateIpAddress: secondary }],
      }),
    ),
  ).toBe("InvalidParameterValue.DuplicatePara");
  expect(await addresses(id)).toEqual(before);
});

test("a repeated address in one Create is InvalidParameterValue (Create lists no DuplicatePara) and creates nothing", async () => {
  const left = await free();
  const r = eniRequest({
    NetworkInterfaceName: "dup",
    PrivateIpAddresses: [{ PrivateIpAddress: "10.4.16.201", Primary: true }, { PrivateIpAddress: "10.4.16.201" }],
  });
  expect(await errorCode(client.CreateNetworkInterface(r))).toBe("InvalidParameterValue");
  expect(await free()).toBe(left);
  const named = await client.DescribeNetworkInterfaces({
    Filters: [{ Name: "network-interface-name", Values: ["dup"] }],
  });
  expect(named.TotalCount).toBe(0);
});

test("Attach, Detach and Delete on an ENI a task runs on answer UnsupportedOperation.InvalidState; Assign and Unassign MutexOperationTaskRunning", async () => {
  const slow = { create: 10_000, attach: 10_000, detach: 10_000, delete: 10_000, assign: 10_000, unassign: 10_000 };
  const { emu, clock, client: c } = await emulatorAt({ settings: { asyncMs: slow } });
  const created = await c.CreateNetworkInterface(eniRequest({ SecondaryPrivateIpAddressCount: 1 }));
  const id = created.NetworkInterface!.NetworkInterfaceId!;
  const secondary = created.NetworkInterface!.PrivateIpAddressSet!.find((i) => !i.Primary)!.PrivateIpAddress!;
  const mutations = (): Promise<string[]> =>
    Promise.all([
      outcome(c.AttachNetworkInterface({ NetworkInterfaceId: id, InstanceId: INS })),
      outcome(c.DetachNetworkInterface({ NetworkInterfaceId: id, InstanceId: INS })),
      outcome(c.DeleteNetworkInterface({ NetworkInterfaceId: id })),
      outcome(c.AssignPrivateIpAddresses({ NetworkInterfaceId: id, SecondaryPrivateIpAddressCount: 1 })),
      outcome(
        c.UnassignPrivateIpAddresses({ NetworkInterfaceId: id, PrivateIpAddresses: [{ PrivateIpAddress: secondary }] }),
      ),
    ]);
  const busy = [
    "UnsupportedOperation.InvalidState",
    "UnsupportedOperation.InvalidState",
    "UnsupportedOperation.InvalidState",
    "UnsupportedOperation.MutexOperationTaskRunning",
    "UnsupportedOperation.MutexOperationTaskRunning",
  ];
  expect(await mutations()).toEqual(busy); // creating
  clock.ms += 10_000;
  await emu.admin.tick();
  await c.AttachNetworkInterface({ NetworkInterfaceId: id, InstanceId: INS });
  expect(await mutations()).toEqual(busy); // attaching
  clock.ms += 10_000;
  await emu.admin.tick();
  await c.DetachNetworkInterface({ NetworkInterfaceId: id, InstanceId: INS });
  expect(await mutations()).toEqual(busy); // detaching
  clock.ms += 10_000;
  await emu.admin.tick();
  expect(await outcome(c.DeleteNetworkInterface({ NetworkInterfaceId: id }))).toBe("OK");
});

test("an unknown instance, VPC or security group is ResourceNotFound (InvalidInstanceId.NotFound where the action lists it)", async () => {
  const id = await createEni();
  expect(await errorCode(client.AttachNetworkInterface({ NetworkInterfaceId: id, InstanceId: "ins-00000000" }))).toBe(
    "ResourceNotFound",
  );
  expect(await errorCode(client.DetachNetworkInterface({ NetworkInterfaceId: id, InstanceId: "ins-00000000" }))).toBe(
    "ResourceNotFound",
  );
  expect(await errorCode(client.CreateNetworkInterface(eniRequest({ VpcId: "vpc-00000000" })))).toBe(
    "ResourceNotFound",
  );
  expect(await errorCode(client.CreateNetworkInterface(eniRequest({ SecurityGroupIds: ["sg-00000000"] })))).toBe(
    "ResourceNotFound",
  );
  expect(await errorCode(client.DescribeNetworkInterfaceLimit({ InstanceId: "ins-00000000" }))).toBe(
    "InvalidInstanceId.NotFound",
  );
});

test("an address another ENI holds is ResourceInUse on Create and Assign; a malformed, reserved or foreign one is refused by kind", async () => {
  const holder = await createEni({ SecondaryPrivateIpAddressCount: 1 });
  const taken = (await addresses(holder))[1]!;
  const other = await createEni();
  const assign = (ip: string) =>
    errorCode(
      client.AssignPrivateIpAddresses({ NetworkInterfaceId: other, PrivateIpAddresses: [{ PrivateIpAddress: ip }] }),
    );
  expect(await assign(taken)).toBe("ResourceInUse");
  expect(
    await errorCode(client.CreateNetworkInterface(eniRequest({ PrivateIpAddresses: [{ PrivateIpAddress: taken }] }))),
  ).toBe("ResourceInUse");
  expect(await assign("10.4.16.1")).toBe("InvalidParameterValue.Reserved"); // the subnet's gateway
  expect(await assign("10.4.17.5")).toBe("InvalidParameterValue.Range");
  expect(await assign("10.4.16.05")).toBe("InvalidParameterValue.Malformed");
  expect(
    await errorCode(
      client.AssignPrivateIpAddresses({
        NetworkInterfaceId: other,
        PrivateIpAddresses: [{ PrivateIpAddress: "10.4.16.202", Primary: true }],
      }),
    ),
  ).toBe("UnsupportedOperation");
});

test("Unassign of an address the ENI does not hold is ResourceNotFound, of its primary address UnsupportedOperation", async () => {
  const id = await createEni();
  const [primary] = await addresses(id);
  const unassign = (ip: string) =>
    errorCode(
      client.UnassignPrivateIpAddresses({ NetworkInterfaceId: id, PrivateIpAddresses: [{ PrivateIpAddress: ip }] }),
    );
  expect(await unassign("10.4.16.250")).toBe("ResourceNotFound");
  expect(await unassign(primary!)).toBe("UnsupportedOperation");
  expect(await unassign("not-an-ip")).toBe("InvalidParameterValue.Malformed");
});

test("Detach from an instance the ENI is not attached to is UnsupportedOperation.InvalidState (Detach lists no AttachmentNotFound)", async () => {
  const id = await createEni();
  expect(await errorCode(client.DetachNetworkInterface({ NetworkInterfaceId: id, InstanceId: INS }))).toBe(
    "UnsupportedOperation.InvalidState",
  );
});

test("NetworkInterfaceName is at most 60 bytes and the description at most 60 characters (InvalidParameterValue.TooLong)", async () => {
  expect(await outcome(client.CreateNetworkInterface(eniRequest({ NetworkInterfaceName: "n".repeat(60) })))).toBe("OK");
  expect(await errorCode(client.CreateNetworkInterface(eniRequest({ NetworkInterfaceName: "n".repeat(61) })))).toBe(
    "InvalidParameterValue.TooLong",
  );
  // 21 characters of 3 bytes each: 63 bytes.
  expect(await errorCode(client.CreateNetworkInterface(eniRequest({ NetworkInterfaceName: "网".repeat(21) })))).toBe(
    "InvalidParameterValue.TooLong",
  );
  expect(
    await errorCode(client.CreateNetworkInterface(eniRequest({ NetworkInterfaceDescription: "d".repeat(61) }))),
  ).toBe("InvalidParameterValue.TooLong");
  expect(
    await outcome(client.CreateNetworkInterface(eniRequest({ NetworkInterfaceDescription: "网".repeat(60) }))),
  ).toBe("OK");
});

test("metadata serves the documented per-address entries and nothing undocumented", async () => {
  const id = await createEni({ SecondaryPrivateIpAddressCount: 1 });
  const a = await client.AttachNetworkInterface({ NetworkInterfaceId: id, InstanceId: INS });
  expect(await waitTask(client, a.RequestId!)).toBe("SUCCESS");
  const eni = (await client.DescribeNetworkInterfaces({ NetworkInterfaceIds: [id] })).NetworkInterfaceSet![0]!;
  const mac = eni.MacAddress!.toLowerCase();
  const dir = `${shared.metadataUrl(INS)}network/interfaces/macs/${mac}/`;
  const get = async (p: string) => {
    const res = await fetch(dir + p);
    return res.ok ? res.text() : `HTTP ${res.status}`;
  };
  expect((await get("")).split("\n").sort()).toEqual([
    "local-ipv4s/",
    "mac",
    "primary-local-ipv4",
    "subnet-id",
    "vpc-id",
  ]);
  const ip = eni.PrivateIpAddressSet!.find((i) => !i.Primary)!.PrivateIpAddress!;
  expect((await get(`local-ipv4s/${ip}/`)).split("\n")).toEqual(["gateway", "local-ipv4", "subnet-mask"]);
  expect(await get(`local-ipv4s/${ip}/local-ipv4`)).toBe(ip);
  expect(await get(`local-ipv4s/${ip}/gateway`)).toBe("10.4.16.1");
  expect(await get(`local-ipv4s/${ip}/subnet-mask`)).toBe("255.255.255.0");
  for (const undocumented of ["vpc-cidr-block", "subnet-cidr-block", "constructor", `local-ipv4s/${ip}/constructor`])
    expect(await get(undocumented)).toBe("HTTP 404");
});
