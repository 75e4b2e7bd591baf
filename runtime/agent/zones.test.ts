// Zones: a node grows only into the policy's subnets of its own zone; ENIs it holds elsewhere
// drain like those of a removed subnet; with no subnet in its zone it makes no cloud call, ADD
// fails at once (not "try again later") and STATUS reports not ready.
import { afterEach, describe, expect, test } from "bun:test";
import { VpcCniPolicy } from "../../schema/index.ts";
import type { Eni, Subnet } from "../cloud/types.ts";
import { CniCode, CniError } from "../cni/protocol.ts";
import type { DataPlane } from "../net/types.ts";
import { FakeCloud, ips, makeState, withPods } from "../pool/pool-kit.ts";
import { plan, release, seededRng } from "../pool/index.ts";
import type { PoolState } from "../pool/index.ts";
import { cniApi } from "./cni-api.ts";
import { PoolDriver } from "./driver.ts";
import type { CloudExecutor } from "./executor.ts";
import { isManaged, toInventory } from "./inventory.ts";
import { silentLogger } from "./log.ts";
import { AgentMetrics } from "./metrics.ts";
import { NodeStore } from "./store.ts";
import { freeIps, noSubnetInZone, placement } from "./zones.ts";

const Z3 = "ap-guangzhou-3";
const Z4 = "ap-guangzhou-4";
const BIG = "subnet-big00003"; // zone 3, the most free IPs
const OWN = "subnet-own00004"; // zone 4
const subnet = (id: string, zone: string, availableIps: number): Subnet => ({
  id,
  vpcId: "vpc-zone0001",
  cidr: "10.0.0.0/16",
  zone,
  availableIps,
  totalIps: 65_000,
});
const DESCRIBED = [subnet(BIG, Z3, 5000), subnet(OWN, Z4, 100)];
const byId = new Map(DESCRIBED.map((s) => [s.id, s]));

function policy(subnets: string[]): VpcCniPolicy {
  return VpcCniPolicy.parse({
    apiVersion: "vpccni.io/v1alpha1",
    kind: "VpcCniPolicy",
    metadata: { name: "zones" },
    spec: { clusterId: "cls-zone0001", region: "ap-guangzhou", vpcId: "vpc-zone0001", subnets },
  });
}

describe("placement", () => {
  test("splits the policy's subnets into the node's zone, other zones and unknown ones", () => {
    expect(placement([BIG, OWN, "subnet-gone0001"], byId, Z4)).toEqual({
      zone: Z4,
      usable: [OWN],
      elsewhere: [{ id: BIG, zone: Z3 }],
      unknown: ["subnet-gone0001"],
    });
  });

  test("no subnet in the node's zone: one sentence naming the node, its zone, each subnet with its zone, and the fix", () => {
    const p = placement([BIG, "subnet-gone0001"], byId, Z4);
    expect(noSubnetInZone(p, "node2", "zones", "vpc-zone0001")).toBe(
      "node node2 is in zone ap-guangzhou-4, but no subnet of policy zones is: subnet-big00003 (ap-guangzhou-3), " +
        "subnet-gone0001 (not found in vpc-zone0001); an ENI attaches only to an instance of its own zone, " +
        "so this node creates no ENI and new pods get no IP until spec.subnets lists a subnet of ap-guangzhou-4",
    );
    expect(noSubnetInZone(placement([BIG, OWN], byId, Z4), "node2", "zones", "vpc-zone0001")).toBeNull();
  });
});

/**
 * A node of zone 4 under a policy listing `subnets`, with `enis` already attached: the engine's
 * state as the agent builds it, growing only into the policy's subnets of the node's zone.
 */
function zone4Node(subnets: string[], enis: { id: string; subnet: string; ips: string[] }[] = []): PoolState {
  return makeState({
    settings: {
      subnets: placement(subnets, byId, Z4).usable,
      minPrebind: 2,
      maxPrebind: 2,
      cooldownMs: 0,
      releaseIntervalMs: 1000,
    },
    subnets: freeIps(DESCRIBED),
    enis: enis.map((e) => ({ ...e, primary: false })),
  });
}

describe("the pool engine, fed by zone", () => {
  test("a new ENI goes into the node's zone, even when another zone's subnet has more free IPs", () => {
    const { decisions } = plan(zone4Node([BIG, OWN]), 0);
    expect(decisions).toEqual([{ id: "op-1", action: "create-eni", subnet: OWN, ips: 2 }]);
  });

  test("no subnet in the node's zone: no cloud call at all, even with pods waiting", () => {
    let s = zone4Node([BIG]);
    expect(plan(s, 0).decisions).toEqual([]);
    s = { ...s, waiting: { "net/c1/eth0": 0, "net/c2/eth0": 0 } };
    expect(plan(s, 0).decisions).toEqual([]);
  });

  test("an ENI held in another zone's subnet drains like a removed subnet's: pods kept, no new IP, deleted once empty", () => {
    const foreign = { id: "eni-far00001", subnet: BIG, ips: ips(1, 4) };
    // The ENI stays managed (its subnet is the policy's), so the agent keeps its link and pods.
    const eni = { id: foreign.id, subnetId: BIG, primary: false, tags: {} } as unknown as Eni;
    expect(isManaged(policy([BIG, OWN]), new Set())(eni)).toBe(true);
    expect(toInventory([eni], isManaged(policy([OWN]), new Set([foreign.id])))).toHaveLength(1);

    const cloud = new FakeCloud();
    let s = withPods(zone4Node([BIG, OWN], [foreign]), 4);
    const pods = structuredClone(s.pods);
    // Demand beyond the foreign ENI: new IPs come on a new ENI in the node's zone, none on it.
    let r = plan(s, 0);
    expect(r.decisions.map((d) => [d.action, "subnet" in d ? d.subnet : d.eni])).toEqual([["create-eni", OWN]]);
    s = cloud.settle(r.state, 0);
    expect(s.pods).toEqual(pods);
    expect(s.enis.find((e) => e.id === foreign.id)?.ips).toHaveLength(4);
    // Its pods go; their IPs are released on the timer and the empty ENI is deleted.
    for (const key of Object.keys(pods)) s = release(s, key, 0).state;
    const actions: string[] = [];
    for (let t = 0; t <= 10_000 && s.enis.some((e) => e.id === foreign.id); t += 1000) {
      r = plan(s, t);
      actions.push(...r.decisions.filter((d) => "eni" in d && d.eni === foreign.id).map((d) => d.action));
      s = cloud.settle(r.state, t);
    }
    // Only releases (how many calls is the engine's business) and then the delete: never a bind.
    expect(actions.at(-1)).toBe("delete-eni");
    expect(new Set(actions)).toEqual(new Set(["release", "delete-eni"]));
    expect(s.enis.map((e) => e.subnet)).toEqual([OWN]);
  });
});

describe("the CNI answers of a node with no subnet in its zone", () => {
  const drivers: PoolDriver[] = [];
  afterEach(async () => {
    for (const d of drivers.splice(0)) await d.stop();
  });

  function api(state: PoolState, refusal: string | null) {
    const calls: string[] = [];
    const events: string[] = [];
    const driver = new PoolDriver(state, {
      store: new NodeStore(":memory:"),
      executor: {
        execute: async (intent) => {
          calls.push(intent.decision.action);
          return { ok: false, error: { kind: "transient" } };
        },
      },
      log: silentLogger,
      rng: seededRng(1),
    });
    drivers.push(driver);
    driver.start();
    const cni = cniApi({
      driver,
      store: new NodeStore(":memory:"),
      dataPlane: {} as DataPlane,
      executor: { links: new Map() } as unknown as CloudExecutor,
      metrics: new AgentMetrics(),
      log: silentLogger,
      addTimeoutMs: 60_000,
      noSubnetInZone: () => refusal,
      onNoSubnetInZone: (m) => events.push(m),
    });
    return { cni, driver, calls, events };
  }

  const REFUSAL = noSubnetInZone(placement([BIG], byId, Z4), "node2", "zones", "vpc-zone0001") as string;
  const add = { network: "vpc", containerId: "c1", ifname: "eth0", netns: "/run/netns/p1" };

  test("ADD fails at once with the plugin's code 103 and the reason; nothing waits, nothing is called", async () => {
    const { cni, driver, calls, events } = api(zone4Node([BIG]), REFUSAL);
    const error = await cni
      .add({ ...add, podNamespace: "default", podName: "web" })
      .then(() => null)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CniError);
    expect((error as CniError).code).toBe(CniCode.NoSubnetInZone);
    expect((error as CniError).code).toBe(103);
    expect((error as CniError).message).toBe(`no IP for default/web: ${REFUSAL}`);
    expect(events).toEqual([REFUSAL]);
    await driver.settled();
    expect(driver.state.waiting).toEqual({});
    expect(calls).toEqual([]);
  });

  test("STATUS is not ready and says why", async () => {
    const { cni } = api(zone4Node([BIG]), REFUSAL);
    expect(await cni.status({ network: "vpc" })).toEqual({ ready: false, idleIps: 0, message: REFUSAL });
  });

  test("an idle IP still held (an ENI draining) serves the next pod: STATUS is ready", async () => {
    const held = zone4Node([BIG], [{ id: "eni-far00001", subnet: BIG, ips: ips(1, 2) }]);
    const { cni } = api(held, REFUSAL);
    expect(await cni.status({ network: "vpc" })).toEqual({ ready: true, idleIps: 2 });
  });
});
