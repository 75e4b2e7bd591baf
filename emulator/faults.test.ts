import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "./config.ts";
import { initialState, startEmulator, inventoryOf, type Emulator, type EmulatorOptions } from "./server.ts";
import { errorCode, FAST, sdk, waitTask } from "./sdk-kit.ts";

const started: Emulator[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function emulator(opts: EmulatorOptions): Promise<Emulator> {
  const emu = await startEmulator({ log: () => {}, ...opts });
  started.push(emu);
  return emu;
}

function podsRequest(emu: Emulator, extra: Record<string, unknown> = {}) {
  const w = emu.inventory();
  return {
    VpcId: w.vpcs[0]!.vpcId,
    SubnetId: w.subnets[1]!.subnetId,
    NetworkInterfaceName: "f",
    SecurityGroupIds: w.securityGroups,
    ...extra,
  };
}

test("a qps fault throttles with RequestLimitExceeded and refills with the clock", async () => {
  let clock = Date.now();
  const emu = await emulator({ now: () => clock, config: { settings: FAST, faults: { DescribeSubnets: { qps: 2 } } } });
  const c = sdk(emu);
  await c.DescribeSubnets({});
  await c.DescribeSubnets({});
  expect(await errorCode(c.DescribeSubnets({}))).toBe("RequestLimitExceeded");
  expect(
    (await c.DescribeNetworkInterfaceLimit({ InstanceId: emu.inventory().instances[0]!.instanceId })).EniQuantity,
  ).toBe(4);
  clock += 500;
  expect((await c.DescribeSubnets({})).TotalCount).toBe(5);
  expect(await errorCode(c.DescribeSubnets({}))).toBe("RequestLimitExceeded");
});

test("an 'after' error fault applies the action and still answers the error; 'before' applies nothing", async () => {
  const emu = await emulator({
    config: {
      settings: FAST,
      faults: { CreateNetworkInterface: { errorRate: 1, errorCode: "InternalError", errorPhase: "after" } },
    },
  });
  const c = sdk(emu);
  const count = async () =>
    (await c.DescribeNetworkInterfaces({ Filters: [{ Name: "network-interface-name", Values: ["f"] }] })).TotalCount;
  expect(await errorCode(c.CreateNetworkInterface(podsRequest(emu)))).toBe("InternalError");
  expect(await count()).toBe(1);
  emu.admin.setFaults({ CreateNetworkInterface: { errorRate: 1, errorCode: "InternalError", errorPhase: "before" } });
  expect(await errorCode(c.CreateNetworkInterface(podsRequest(emu)))).toBe("InternalError");
  expect(await count()).toBe(1);
});

test("a stale Describe answers from the state staleMs ago", async () => {
  let clock = Date.now();
  const emu = await emulator({
    now: () => clock,
    config: { settings: FAST, faults: { DescribeNetworkInterfaces: { staleMs: 1000 } } },
  });
  const c = sdk(emu);
  clock += 2000;
  const created = await c.CreateNetworkInterface(podsRequest(emu));
  const id = created.NetworkInterface!.NetworkInterfaceId!;
  expect((await c.DescribeNetworkInterfaces({ NetworkInterfaceIds: [id] })).TotalCount).toBe(0);
  clock += 1001;
  const seen = await c.DescribeNetworkInterfaces({ NetworkInterfaceIds: [id] });
  expect(seen.NetworkInterfaceSet![0]!.NetworkInterfaceId).toBe(id);
});

test("tamper replaces answer fields of that name at any depth, and leaves the state alone", async () => {
  const emu = await emulator({
    config: { settings: FAST, faults: { DescribeSubnets: { tamper: { CidrBlock: "10.0.0.0/24\nnetns exec x sh" } } } },
  });
  const c = sdk(emu);
  const subnets = (await c.DescribeSubnets({})).SubnetSet!;
  expect(subnets.length).toBeGreaterThan(0);
  expect(new Set(subnets.map((s) => s.CidrBlock))).toEqual(new Set(["10.0.0.0/24\nnetns exec x sh"]));
  expect((await emu.admin.state()).subnets.every((s) => !s.cidrBlock.includes("\n"))).toBe(true);
  emu.admin.setFaults({});
  expect((await c.DescribeSubnets({})).SubnetSet!.every((s) => !s.CidrBlock!.includes("\n"))).toBe(true);
});

test("latency and hung requests are applied", async () => {
  const emu = await emulator({
    config: {
      settings: FAST,
      faults: { DescribeSubnets: { latency: { fixedMs: 60 } }, DescribeNetworkInterfaceLimit: { hangRate: 1 } },
    },
  });
  const c = sdk(emu);
  const t0 = performance.now();
  await c.DescribeSubnets({});
  expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
  const outcome = await Promise.race([
    c.DescribeNetworkInterfaceLimit({ InstanceId: emu.inventory().instances[0]!.instanceId }).then(
      () => "answered",
      () => "failed",
    ),
    Bun.sleep(300).then(() => "hung"),
  ]);
  expect(outcome).toBe("hung");
});

test("a restart with --state continues running tasks and keeps IDs, credentials and ENIs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "emu-state-"));
  dirs.push(dir);
  const statePath = join(dir, "state.json");
  let clock = Date.now();
  const config = { settings: { ...FAST, asyncMs: { ...FAST.asyncMs, attach: 60_000 } } };
  const first = await emulator({ now: () => clock, config, statePath });
  const c1 = sdk(first);
  const created = await c1.CreateNetworkInterface(podsRequest(first));
  const id = created.NetworkInterface!.NetworkInterfaceId!;
  clock += 10;
  await waitTask(c1, created.RequestId!);
  const instanceId = first.inventory().instances[0]!.instanceId;
  const attach = await c1.AttachNetworkInterface({ NetworkInterfaceId: id, InstanceId: instanceId });
  await first.stop();
  started.splice(started.indexOf(first), 1);

  const second = await emulator({ now: () => clock, config, statePath, port: first.port });
  expect(second.credentials).toEqual(first.credentials);
  const c2 = sdk(second);
  expect((await c2.DescribeVpcTaskResult({ TaskId: attach.RequestId! })).Status).toBe("RUNNING");
  expect((await c2.DescribeNetworkInterfaces({ NetworkInterfaceIds: [id] })).NetworkInterfaceSet![0]!.State).toBe(
    "ATTACHING",
  );
  clock += 60_000;
  expect(await waitTask(c2, attach.RequestId!)).toBe("SUCCESS");
  const eni = (await c2.DescribeNetworkInterfaces({ NetworkInterfaceIds: [id] })).NetworkInterfaceSet![0]!;
  expect([eni.State, eni.Attachment?.InstanceId]).toEqual(["AVAILABLE", instanceId]);
  const again = await c2.CreateNetworkInterface(podsRequest(second));
  expect(again.NetworkInterface!.NetworkInterfaceId).not.toBe(id);
  expect(again.NetworkInterface!.PrivateIpAddressSet![0]!.PrivateIpAddress).not.toBe(
    created.NetworkInterface!.PrivateIpAddressSet![0]!.PrivateIpAddress!,
  );
});

test("the same seed builds the same world", () => {
  const a = inventoryOf(initialState({ config: { seed: 42 }, instances: 3, env: {} }));
  const b = inventoryOf(initialState({ config: { seed: 42 }, instances: 3, env: {} }));
  expect(a).toEqual(b);
  expect(a.instances).toHaveLength(3);
  expect(a.subnets.map((s) => s.cidrBlock)).toEqual([
    "10.0.0.0/24",
    "10.0.16.0/20",
    "10.0.32.0/26",
    "10.0.1.0/24",
    "10.0.48.0/20",
  ]);
  // Two zones: instances alternate between the zones' node subnets.
  expect(a.instances.map((i) => i.zone)).toEqual(["ap-guangzhou-3", "ap-guangzhou-4", "ap-guangzhou-3"]);
  expect(inventoryOf(initialState({ config: { seed: 43 }, env: {} })).vpcs[0]!.vpcId).not.toBe(a.vpcs[0]!.vpcId);
});

test("a configuration error names the field, the value and what is allowed", () => {
  expect(() => parseConfig({ faults: { Nope: {} } })).toThrow("faults.Nope: fault for unknown action 'Nope'");
  expect(() =>
    initialState({
      env: {},
      config: {
        subnets: [{ subnetId: "subnet-aaaaaaaa", vpcId: "vpc-bbbbbbbb", cidrBlock: "10.0.0.0/24", zone: "z" }],
        vpcs: [{ vpcId: "vpc-aaaaaaaa", cidrBlock: "10.0.0.0/16" }],
      },
    }),
  ).toThrow("subnets[0].vpcId 'vpc-bbbbbbbb' is not a configured VPC; allowed: vpc-aaaaaaaa");
});

test("latency distributions draw from the seeded generator within their bounds", async () => {
  const { latencyMs } = await import("./faults.ts");
  const { Rng } = await import("./rng.ts");
  const { ActionFault } = await import("./config.ts");
  const rng = new Rng(9);
  const uniform = Array.from({ length: 200 }, () =>
    latencyMs(ActionFault.parse({ latency: { uniformMs: [10, 30] } }), rng),
  );
  expect(Math.min(...uniform)).toBeGreaterThanOrEqual(10);
  expect(Math.max(...uniform)).toBeLessThanOrEqual(30);
  const exp = Array.from({ length: 2000 }, () =>
    latencyMs(ActionFault.parse({ latency: { exponentialMeanMs: 50 } }), rng),
  );
  const mean = exp.reduce((a, b) => a + b, 0) / exp.length;
  expect(mean).toBeGreaterThan(40);
  expect(mean).toBeLessThan(60);
  expect(latencyMs(ActionFault.parse({ latency: { fixedMs: 7 } }), rng)).toBe(7);
  expect(latencyMs(undefined, rng)).toBe(0);
});

test("a fabric hook that throws is logged and the task still succeeds", async () => {
  const lines: string[] = [];
  const emu = await emulator({
    config: { settings: FAST },
    log: (l) => lines.push(l),
    fabric: {
      onAttach: async () => Promise.reject(new Error("no netns")),
      onDetach: async () => {},
      onAssign: async () => {},
      onUnassign: async () => {},
    },
  });
  const c = sdk(emu);
  const created = await c.CreateNetworkInterface(podsRequest(emu));
  await waitTask(c, created.RequestId!);
  const id = created.NetworkInterface!.NetworkInterfaceId!;
  const a = await c.AttachNetworkInterface({
    NetworkInterfaceId: id,
    InstanceId: emu.inventory().instances[0]!.instanceId,
  });
  expect(await waitTask(c, a.RequestId!)).toBe("SUCCESS");
  expect(lines).toContain(`fabric hook for AttachNetworkInterface on ${id} failed: no netns`);
});

test("a failed task undoes its call: IPs of a failed assign go back to the subnet", async () => {
  // The emulator's own clock, so the task cannot end (and undo) before the test looks.
  let clock = Date.now();
  const emu = await emulator({
    now: () => clock,
    config: { settings: FAST, faults: { AssignPrivateIpAddresses: { taskFailRate: 1 } } },
  });
  const c = sdk(emu);
  const created = await c.CreateNetworkInterface(podsRequest(emu));
  clock += 10;
  await waitTask(c, created.RequestId!);
  const id = created.NetworkInterface!.NetworkInterfaceId!;
  const subnetId = emu.inventory().subnets[1]!.subnetId;
  const free = async () => (await c.DescribeSubnets({ SubnetIds: [subnetId] })).SubnetSet![0]!.AvailableIpAddressCount!;
  const before = await free();
  const a = await c.AssignPrivateIpAddresses({ NetworkInterfaceId: id, SecondaryPrivateIpAddressCount: 3 });
  expect(await free()).toBe(before - 3);
  clock += 10;
  expect(await waitTask(c, a.RequestId!)).toBe("FAILED");
  expect(await free()).toBe(before);
  const eni = (await c.DescribeNetworkInterfaces({ NetworkInterfaceIds: [id] })).NetworkInterfaceSet![0]!;
  expect(eni.PrivateIpAddressSet).toHaveLength(1);
});
