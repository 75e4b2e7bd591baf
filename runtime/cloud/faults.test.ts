// The adapter against a misbehaving cloud: injected InternalErrors (before or after the action
// took effect) and an emulator restart in the middle of a task.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator } from "../../emulator/index.ts";
import {
  FakeClock,
  INSTANCE,
  newApi,
  POD_SUBNET,
  SG,
  testConfig,
  startEmulatedVpc,
  type EmulatedVpc,
} from "./emulated-vpc-kit.ts";

const worlds: EmulatedVpc[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test("with 20% InternalError on every action, operations converge without duplicate ENIs or IPs", async () => {
  // Task polls at once (firstPollMs 0): more calls, so more of them meet an injected error.
  const w = await startEmulatedVpc({
    config: testConfig({
      seed: 5,
      faults: { "*": { errorRate: 0.2, errorCode: "InternalError", errorPhase: "either" } },
    }),
    api: { retry: { attempts: 10 }, waits: { firstPollMs: { attach: 0, detach: 0, default: 0 } } },
  });
  worlds.push(w);
  const expected = new Map<string, Set<string>>();
  for (let i = 0; i < 3; i++) {
    const eni = await w.api.createEni({
      subnetId: POD_SUBNET,
      securityGroupIds: [SG],
      secondaryIps: 2,
      node: "n1",
      clientToken: `conv-create-${i}`,
      createdAt: 1_700_000_000_000,
    });
    await w.api.attachEni(eni.id, INSTANCE, { clientToken: `conv-attach-${i}` });
    const added = await w.api.assignIps(eni.id, { count: 5, clientToken: `conv-assign-${i}` });
    await w.api.unassignIps(eni.id, added.slice(0, 2));
    expected.set(eni.id, new Set([...eni.secondaryIps, ...added.slice(2)]));
  }
  const last = [...expected.keys()][2]!;
  await w.api.detachEni(last, INSTANCE, { clientToken: "conv-detach" });
  await w.api.deleteEni(last);
  expected.delete(last);

  const stats = w.emu.admin.stats();
  const injected = Object.values(stats).reduce((n, byCode) => n + (byCode.InternalError ?? 0), 0);
  const calls = Object.values(stats).reduce((n, byCode) => n + Object.values(byCode).reduce((a, b) => a + b, 0), 0);
  // Some fifth of the calls met an error: the run was a faulty one.
  expect(injected).toBeGreaterThanOrEqual(5);
  expect(injected / calls).toBeGreaterThan(0.1);

  w.emu.admin.setFaults({});
  const tagged = await w.api.findEnis({ tags: { "vpccni.io/cluster": "cls-test0001" } });
  expect(tagged.map((e) => e.id).sort()).toEqual([...expected.keys()].sort());
  for (const e of tagged) {
    expect(new Set(e.secondaryIps)).toEqual(expected.get(e.id)!);
    expect(e.attachment?.instanceId).toBe(INSTANCE);
  }
  const subnet = (await w.api.describeSubnets([POD_SUBNET]))[0]!;
  // Two ENIs of 1 primary + 5 secondary IPs each are all the pod subnet lends out.
  expect(subnet.totalIps - subnet.availableIps).toBe(12);
});

test("an emulator restart in the middle of an attach: the adapter's wait rides it out", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cloud-restart-"));
  dirs.push(dir);
  const statePath = join(dir, "state.json");
  // The emulator's clock moves only when the test says so: the attach cannot finish early.
  let emuNow = Date.now();
  const now = () => emuNow;
  const config = testConfig({
    settings: { asyncMs: { create: 0, attach: 5_000, detach: 0, delete: 0, assign: 0, unassign: 0 } },
  });
  const first = await startEmulator({ config, statePath, now, log: () => {} });
  // The adapter's own fake clock; each of its sleeps also pauses 10 ms of real time so that
  // its retries span the restart.
  const api = newApi(first, new FakeClock(10), undefined, {
    retry: { attempts: 50, maxMs: 200 },
    waits: { attachMs: 1e12 },
  });
  const eni = await api.createEni({ subnetId: POD_SUBNET, securityGroupIds: [SG] });
  const attaching = api.attachEni(eni.id, INSTANCE);
  for (let i = 0; i < 500 && (await first.admin.state()).enis[eni.id]?.state !== "ATTACHING"; i++) await Bun.sleep(2);
  expect((await first.admin.state()).enis[eni.id]?.state).toBe("ATTACHING");
  await first.stop();
  const second = await startEmulator({ config, statePath, now, log: () => {}, port: first.port });
  worlds.push({ emu: second, api, clock: new FakeClock(), stop: () => second.stop() });
  expect((await second.admin.state()).enis[eni.id]?.state).toBe("ATTACHING");
  emuNow += 5_000;
  const attached = await attaching;
  expect(attached.attachment?.instanceId).toBe(INSTANCE);
  expect((await second.admin.state()).enis[eni.id]?.state).toBe("AVAILABLE");
});
