import { afterEach, expect, test } from "bun:test";
import { vpcApiContract } from "./vpc-api-contract-kit.ts";
import { bypassProxy } from "./sdk.ts";
import { answeredEni } from "./tencent.ts";
import {
  FakeClock,
  FAR_SUBNET,
  INSTANCE,
  POD_SUBNET,
  SG,
  testConfig,
  startEmulatedVpc,
  TINY_SUBNET,
  type EmulatedVpc,
} from "./emulated-vpc-kit.ts";

const contractWorld =
  (config = testConfig()) =>
  async () => {
    const { api, stop } = await startEmulatedVpc({ config });
    return {
      api,
      clusterId: "cls-test0001",
      instanceId: INSTANCE,
      subnetId: POD_SUBNET,
      tinySubnetId: TINY_SUBNET,
      tinyFree: 5,
      otherZoneSubnetId: FAR_SUBNET,
      securityGroupIds: [SG],
      cleanup: stop,
    };
  };

vpcApiContract("TencentVpcApi over the emulator", contractWorld());
// The docs leave open whether Describe of a deleted ENI is an empty set or ResourceNotFound.
vpcApiContract(
  "TencentVpcApi, cloud answering ResourceNotFound for unknown IDs",
  contractWorld(testConfig({ settings: { unknownIdInDescribe: "ResourceNotFound" } })),
);

const worlds: EmulatedVpc[] = [];
const EAGER = { attach: 0, detach: 0, default: 0 };
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.stop()));
});

async function world(...args: Parameters<typeof startEmulatedVpc>): Promise<EmulatedVpc> {
  const w = await startEmulatedVpc(...args);
  worlds.push(w);
  return w;
}

test("under throttling (2 qps per action) the adapter retries and every call succeeds", async () => {
  const retries: string[] = [];
  const seen: string[] = [];
  // Task polls at once (firstPollMs 0), so that 2 qps is sure to throttle them.
  const w = await world({
    config: testConfig({ faults: { "*": { qps: 2 } } }),
    api: {
      waits: { firstPollMs: EAGER },
      log: (event, f) => retries.push(`${event} ${f.action} ${f.code}`),
      observe: (o) => seen.push(`${o.action} ${o.code ?? "OK"}`),
    },
  });
  const eni = await w.api.createEni({ subnetId: POD_SUBNET, securityGroupIds: [SG], secondaryIps: 1 });
  await w.api.attachEni(eni.id, INSTANCE);
  const ips = await w.api.assignIps(eni.id, { count: 3 });
  expect(ips).toHaveLength(3);
  expect((await w.api.getEni(eni.id))!.secondaryIps).toHaveLength(4);
  expect(retries.some((r) => r.endsWith("RequestLimitExceeded"))).toBe(true);
  expect(w.emu.admin.stats().DescribeVpcTaskResult?.RequestLimitExceeded ?? 0).toBeGreaterThan(0);
  // Every HTTP attempt is observed, throttled ones included, as the emulator counted them.
  const count = (line: string) => seen.filter((s) => s === line).length;
  expect(count("DescribeVpcTaskResult RequestLimitExceeded")).toBe(
    w.emu.admin.stats().DescribeVpcTaskResult!.RequestLimitExceeded!,
  );
  expect(count("CreateNetworkInterface OK")).toBe(1);
});

test("the SDK's http_proxy is not used for the emulator", async () => {
  const names = ["http_proxy", "NO_PROXY", "no_proxy"] as const;
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  for (const n of names) delete process.env[n];
  try {
    const w = await world();
    process.env.http_proxy = "http://127.0.0.1:9"; // discard port: any proxied call fails
    expect((await w.api.instanceLimits(INSTANCE)).enis).toBe(4);
    expect(process.env.NO_PROXY).toBe("127.0.0.1");
  } finally {
    for (const n of names) {
      if (saved[n] === undefined) delete process.env[n];
      else process.env[n] = saved[n];
    }
  }
});

test("bypassProxy appends the host once to NO_PROXY and no_proxy", () => {
  const env: Record<string, string | undefined> = { NO_PROXY: "localhost, .corp" };
  bypassProxy("127.0.0.1:8080", env);
  bypassProxy("127.0.0.1:9090", env);
  expect(env).toEqual({ NO_PROXY: "localhost,.corp,127.0.0.1", no_proxy: "127.0.0.1" });
});

test("a call that keeps failing with InternalError gives up after the configured attempts as 'transient'", async () => {
  const w = await world({
    config: testConfig({ faults: { DescribeSubnets: { errorRate: 1, errorCode: "InternalError" } } }),
    api: { retry: { attempts: 3 } },
  });
  const err = await w.api.describeSubnets([POD_SUBNET]).catch((e: unknown) => e);
  expect(err).toMatchObject({ kind: "transient", code: "InternalError", action: "DescribeSubnets" });
  expect(w.emu.admin.stats().DescribeSubnets?.InternalError).toBe(3);
});

test("a hung request is cut at requestTimeoutMs and retried; a request that always hangs ends as 'transient'", async () => {
  const w = await world({
    config: testConfig({
      seed: 4,
      faults: { DescribeSubnets: { hangRate: 0.5 }, DescribeNetworkInterfaceLimit: { hangRate: 1 } },
    }),
    api: { requestTimeoutMs: 100, retry: { attempts: 8 } },
  });
  for (let i = 0; i < 3; i++) expect((await w.api.describeSubnets([POD_SUBNET]))[0]!.id).toBe(POD_SUBNET);
  const err = await w.api.instanceLimits(INSTANCE).catch((e: unknown) => e);
  expect(err).toMatchObject({ kind: "transient", action: "DescribeNetworkInterfaceLimit" });
});

test("a FAILED attach task is a transient error, the ENI stays detached, and a new attempt works", async () => {
  const w = await world({ config: testConfig({ faults: { AttachNetworkInterface: { taskFailRate: 1 } } }) });
  const eni = await w.api.createEni({ subnetId: POD_SUBNET, securityGroupIds: [SG] });
  const err = await w.api.attachEni(eni.id, INSTANCE, { clientToken: "attach-1" }).catch((e: unknown) => e);
  expect(err).toMatchObject({
    kind: "transient",
    code: "FailedOperation.TaskFailed",
    action: "AttachNetworkInterface",
  });
  const after = (await w.api.getEni(eni.id))!;
  expect([after.state, after.attachment]).toEqual(["AVAILABLE", undefined]);
  w.emu.admin.setFaults({});
  expect(
    await w.api
      .attachEni(eni.id, INSTANCE, { clientToken: "attach-1" })
      .catch((e: unknown) => (e as { code: string }).code),
  ).toBe("FailedOperation.TaskFailed");
  expect((await w.api.attachEni(eni.id, INSTANCE, { clientToken: "attach-2" })).attachment?.instanceId).toBe(INSTANCE);
});

test("a create goes by its task: read SUCCESS, no Describe before the attach; the attach tells its task's SUCCESS once", async () => {
  const w = await world();
  const describes = () => w.emu.admin.stats().DescribeNetworkInterfaces?.OK ?? 0;
  const before = describes();
  const eni = await w.api.createEni({ subnetId: POD_SUBNET, securityGroupIds: [SG], secondaryIps: 3 });
  expect(describes()).toBe(before);
  expect(eni).toMatchObject({ state: "AVAILABLE", subnetId: POD_SUBNET, primary: false });
  expect(eni.ips.filter((i) => !i.primary).map((i) => i.state)).toEqual(["AVAILABLE", "AVAILABLE", "AVAILABLE"]);
  expect(eni.secondaryIps.sort()).toEqual([...((await w.api.getEni(eni.id))?.secondaryIps ?? [])].sort());
  let told = 0;
  const attached = await w.api.attachEni(eni.id, INSTANCE, { clientToken: "told-1", attached: () => told++ });
  expect([told, attached.attachment?.instanceId]).toEqual([1, INSTANCE]);
  // An earlier attempt did it (a lost answer): no task of this call to read, nothing told.
  await w.api.attachEni(eni.id, INSTANCE, { clientToken: "told-2", attached: () => told++ });
  expect(told).toBe(1);
});

test("a create's answer stands for the ENI only when it has every field an ENI needs", () => {
  const full = {
    NetworkInterfaceId: "eni-abcdef12",
    VpcId: "vpc-cccccccc",
    SubnetId: POD_SUBNET,
    Zone: "ap-guangzhou-3",
    MacAddress: "20:90:6F:AA:BB:CC",
    Primary: false,
    State: "PENDING",
    PrivateIpAddressSet: [
      { PrivateIpAddress: "10.2.16.5", Primary: true, State: "PENDING" },
      { PrivateIpAddress: "10.2.16.6", Primary: false, State: "PENDING" },
    ],
    GroupSet: [SG],
  };
  expect(answeredEni(full)).toMatchObject({
    id: "eni-abcdef12",
    state: "AVAILABLE",
    mac: "20:90:6f:aa:bb:cc",
    primaryIp: "10.2.16.5",
    secondaryIps: ["10.2.16.6"],
  });
  expect(answeredEni(full)?.ips.map((i) => i.state)).toEqual(["AVAILABLE", "AVAILABLE"]);
  // Short of a field (or no answer at all): read from Describe instead.
  const { MacAddress: _mac, ...noMac } = full;
  expect(answeredEni(noMac)).toBeUndefined();
  expect(answeredEni({ ...full, SubnetId: "not-a-subnet" })).toBeUndefined();
  expect(answeredEni(undefined)).toBeUndefined();
});

test("errors that retrying cannot fix are not retried", async () => {
  const w = await world();
  const err = await w.api.assignIps("eni-00000000", { count: 1 }).catch((e: unknown) => e);
  expect(err).toMatchObject({ kind: "not-found", code: "ResourceNotFound" });
  expect(w.emu.admin.stats().AssignPrivateIpAddresses?.ResourceNotFound).toBe(1);
});

test("an attach that never completes ends in a 'timeout' error at its deadline", async () => {
  const w = await world({
    config: testConfig({
      settings: { asyncMs: { create: 10, attach: 10_000_000, detach: 10, delete: 10, assign: 10, unassign: 10 } },
    }),
    api: { waits: { attachMs: 30_000 } },
  });
  const eni = await w.api.createEni({ subnetId: POD_SUBNET, securityGroupIds: [SG] });
  const started = w.clock.now();
  const err = await w.api.attachEni(eni.id, INSTANCE).catch((e: unknown) => e);
  expect(err).toMatchObject({ kind: "timeout", action: "AttachNetworkInterface" });
  expect(w.clock.now() - started).toBeLessThanOrEqual(30_000);
});

test("stale Describe results do not fool the waits", async () => {
  const w = await world({ config: testConfig({ faults: { DescribeNetworkInterfaces: { staleMs: 3_000 } } }) });
  const eni = await w.api.createEni({ subnetId: POD_SUBNET, securityGroupIds: [SG] });
  expect(eni.state).toBe("AVAILABLE");
  const attached = await w.api.attachEni(eni.id, INSTANCE);
  expect(attached.attachment?.instanceId).toBe(INSTANCE);
  await w.api.detachEni(eni.id, INSTANCE);
  await w.api.deleteEni(eni.id);
  const gone = await w.api.getEni(eni.id);
  expect(gone).toBeUndefined();
});

test("the fake clock makes waits cost no wall time", () => {
  const c = new FakeClock();
  const t = c.now();
  return c.sleep(60_000).then(() => expect(c.now() - t).toBe(60_000));
});
