// The switch-off's agent side against fakes: the driver drains through its executor, then the
// node is cleaned up once (kernel, sysctls, conflist), the Node condition and Events follow the
// phases, and a restarted agent finishes again without a second Drained Event.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { VpcCniPolicy } from "../../schema/index.ts";
import type { Eni, VpcApi } from "../cloud/types.ts";
import type { KubePort, NodeCondition } from "../kube/client.ts";
import type { DataPlane, SysctlChange } from "../net/types.ts";
import { createState, type OperationResult, podKey, setSettings } from "../pool/index.ts";
import { type Executor, type Intent, PoolDriver } from "./driver.ts";
import { silentLogger } from "./log.ts";
import { poolDrain } from "./pool-drain.ts";
import { NodeStore } from "./store.ts";
import { SWITCH_OFF_KEY, SwitchOff } from "./switch-off.ts";

const dirs: string[] = [];
const stops: (() => unknown)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const policy = (enabled: boolean) =>
  ({
    metadata: { name: "general" },
    spec: { enabled, mode: "default", subnets: ["subnet-a"], clusterId: "cls-1" },
  }) as unknown as VpcCniPolicy;

class Fakes {
  conditions: NodeCondition[] = [];
  events: string[] = [];
  kernelSweeps = 0;
  restored: SysctlChange[][] = [];
  readonly kube = {
    setNodeCondition: async (_node: string, c: NodeCondition) => {
      this.conditions.push(c);
    },
    nodeEvent: async (_node: string, _type: string, reason: string) => {
      this.events.push(reason);
    },
  } as unknown as KubePort;
  readonly dataPlane = {
    removeLeftovers: async () => {
      this.kernelSweeps++;
      return [];
    },
    restoreSysctls: async (changes: readonly SysctlChange[]) => {
      this.restored.push([...changes]);
      return [...changes];
    },
  } as unknown as DataPlane;
  readonly api = {
    listEnis: async (): Promise<Eni[]> => [],
    findEnis: async (): Promise<Eni[]> => [],
  } as unknown as VpcApi;
  readonly executor: Executor = {
    execute: async (_intent: Intent): Promise<OperationResult> => ({ ok: true }),
  };
}

function world(store: NodeStore, fakes: Fakes, enabled: { value: boolean }, confDir: string) {
  let state = createState({
    settings: {
      minPrebind: 0,
      maxPrebind: 0,
      releaseIntervalMs: 120_000,
      cooldownMs: 0,
      subnets: ["subnet-a"],
      floor: 0,
    },
    quota: { enis: 2, ipsPerEni: 10, ipsPerCall: 10 },
    subnets: { "subnet-a": 100 },
    enis: [{ id: "eni-00000001", subnet: "subnet-a", primary: false, ips: ["10.0.0.5", "10.0.0.6", "10.0.0.7"] }],
  });
  const saved = store.loadPool();
  if (saved) state = saved;
  let switchOff: SwitchOff | undefined;
  const driver = new PoolDriver(state, {
    store,
    executor: fakes.executor,
    log: silentLogger,
    onChange: () => switchOff?.changed(),
  });
  switchOff = new SwitchOff({
    node: "node1",
    policy: () => policy(enabled.value),
    drain: poolDrain({
      instanceId: "ins-1",
      policy: () => policy(enabled.value),
      driver,
      api: fakes.api,
      log: silentLogger,
      leakTags: {},
      createdAtTag: "t",
    }),
    store,
    dataPlane: fakes.dataPlane,
    kube: fakes.kube,
    log: silentLogger,
    cniConfDir: confDir,
  });
  const apply = () => {
    driver.update((s) => setSettings(s, { ...s.settings, draining: !enabled.value }));
    switchOff?.policyApplied();
  };
  stops.push(
    () => switchOff?.stop(),
    () => driver.stop(),
  );
  driver.start();
  return { driver, switchOff, apply };
}

const pod = podKey({ network: "vpccni", containerId: "c1", ifname: "eth0" });

describe("SwitchOff", () => {
  test("drain, clean-up once the last pod is gone, report; a restart finishes again without a second Drained", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vpccni-switch-off-"));
    dirs.push(dir);
    const confDir = join(dir, "net.d");
    mkdirSync(confDir);
    writeFileSync(join(confDir, "10-vpccni.conflist"), "{}");
    const store = new NodeStore(join(dir, "node.db"));
    store.rememberSysctls([{ key: "net.ipv4.ip_forward", before: "0", after: "1" }]);
    const fakes = new Fakes();
    const enabled = { value: true };
    const { driver, switchOff, apply } = world(store, fakes, enabled, confDir);
    expect((await driver.allocate(pod, 1000)).ok).toBe(true);
    await driver.settled();
    expect(switchOff.refusal()).toBeNull();

    enabled.value = false;
    apply();
    await driver.settled();
    expect(switchOff.refusal()).toContain("policy general sets spec.enabled: false, so node node1 gives no new pod");
    expect((await driver.allocate("vpccni/c2/eth0", 1000)).ok).toBe(false);
    // Only the pod's IP is left; nothing is cleaned up while the pod runs.
    expect(driver.state.enis[0]?.ips.map((s) => s.ip)).toEqual([driver.state.pods[pod]!.ip]);
    expect(fakes.kernelSweeps).toBe(0);
    expect(store.meta(SWITCH_OFF_KEY)).toBe("draining");
    expect(fakes.events).toEqual(["Draining"]);

    driver.release(pod);
    await driver.settled();
    const deadline = Date.now() + 5000;
    while (!switchOff.done && Date.now() < deadline) await Bun.sleep(10);
    await switchOff.flush();
    expect(switchOff.done).toBe(true);
    expect(driver.state.enis).toEqual([]);
    expect(fakes.kernelSweeps).toBe(1);
    expect(fakes.restored).toEqual([[{ key: "net.ipv4.ip_forward", before: "0", after: "1" }]]);
    expect(store.sysctlChanges()).toEqual([]);
    expect(existsSync(join(confDir, "10-vpccni.conflist"))).toBe(false);
    expect(fakes.events).toEqual(["Draining", "Drained"]);
    expect(fakes.conditions.map((c) => `${c.status}/${c.reason}`)).toEqual(["False/Draining", "True/Drained"]);
    await switchOff.stop();
    await driver.stop();

    // A restarted agent: the same store, still switched off. It cleans up once more (idempotent)
    // and sets the condition again, but records no second Draining or Drained Event.
    const again = world(store, fakes, enabled, confDir);
    again.apply();
    await again.driver.settled();
    const deadline2 = Date.now() + 5000;
    while (fakes.kernelSweeps < 2 && Date.now() < deadline2) await Bun.sleep(10);
    await again.switchOff.flush();
    expect(fakes.kernelSweeps).toBe(2);
    expect(fakes.events).toEqual(["Draining", "Drained"]);
    expect(fakes.conditions.at(-1)).toMatchObject({ status: "True", reason: "Drained" });

    // Switched on again: the condition says so, and the store forgets the switch-off.
    enabled.value = true;
    again.apply();
    await again.switchOff.flush();
    expect(again.switchOff.refusal()).toBeNull();
    expect(store.meta(SWITCH_OFF_KEY)).toBeNull();
    expect(fakes.conditions.at(-1)).toMatchObject({ status: "False", reason: "Enabled" });
    store.close();
  });
});
