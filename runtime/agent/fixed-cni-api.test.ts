// Fixed IP mode's CNI answers with a claim the test plays the controller for, an in-memory
// store and a data plane that records what it is asked (the real kernel side runs in
// test/e2e/fixed-agent.test.ts).
import { describe, expect, test } from "bun:test";
import type { VpcIPClaim } from "../../schema/fixed-ip-crds.ts";
import { CniCode, CniError } from "../cni/protocol.ts";
import type { DataPlane, EniLink, PodKey, PodSpec } from "../net/types.ts";
import { type FixedCniApiDeps, fixedCniApi } from "./fixed-cni-api.ts";
import type { NodeEniState } from "./fixed-claim.ts";
import { silentLogger } from "./log.ts";
import { AgentMetrics } from "./metrics.ts";
import { NodeStore } from "./store.ts";

const LINK: EniLink = { mac: "20:90:6f:00:00:01", name: "eth1", ifindex: 3, table: 2003 };
const BOUND = { phase: "Bound" as const, address: "10.0.1.7", eniId: "eni-aaaa", node: "node1" };
const add = {
  network: "vpccni",
  containerId: "c1",
  ifname: "eth0",
  netns: "/run/netns/p1",
  podNamespace: "default",
  podName: "web-0",
};

function world(opts: { claim?: () => VpcIPClaim | null; off?: () => string | null; eni?: NodeEniState } = {}) {
  const store = new NodeStore(":memory:");
  const wired: PodSpec[] = [];
  const unwired: { key: PodKey; ip?: string }[] = [];
  let clock = 0;
  let reads = 0;
  const dataPlane = {
    wirePod: async (pod: PodSpec) => {
      wired.push(pod);
      return { ...pod, hostVeth: "vpc0123456789ab", hostMac: "02:00:00:00:00:01", podMac: "02:00:00:00:00:02" };
    },
    unwirePod: async (key: PodKey, ip?: string) => {
      unwired.push({ key: { network: key.network, containerId: key.containerId, ifname: key.ifname }, ip });
    },
    checkPod: async () => [],
  } as unknown as DataPlane;
  const deps: FixedCniApiDeps = {
    node: "node1",
    store,
    dataPlane,
    metrics: new AgentMetrics(),
    log: silentLogger,
    addTimeoutMs: 2_000,
    claim: async () => {
      reads++;
      return opts.claim ? opts.claim() : { spec: {}, status: BOUND };
    },
    link: async (eniId) => {
      if (eniId !== "eni-aaaa") throw new Error(`no ENI ${eniId}`);
      return LINK;
    },
    table: (eniId) => (eniId === "eni-aaaa" ? LINK.table : undefined),
    nodeEni: async () => opts.eni ?? { ready: true, eniId: "eni-aaaa", quota: 10, message: "" },
    switchedOff: () => opts.off?.() ?? null,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
  };
  const cni = fixedCniApi(deps);
  return { cni, deps, store, wired, unwired, reads: () => reads, clock: () => clock };
}

const failure = (p: Promise<unknown>) => p.then(() => null).catch((e: unknown) => e as CniError);

describe("fixed IP CNI answers", () => {
  test("ADD wires the claimed address with the ENI's table and records it; DEL unwires it by the record, twice is fine", async () => {
    const w = world();
    const r = await w.cni.add(add);
    expect(r).toMatchObject({ ip: "10.0.1.7", prefixLength: 32, eniMac: LINK.mac, routeTable: 2003 });
    expect(w.wired).toEqual([
      { network: "vpccni", containerId: "c1", ifname: "eth0", netns: add.netns, ip: "10.0.1.7", table: 2003 },
    ]);
    expect(w.store.fixedAttachment("vpccni/c1/eth0")).toMatchObject({
      ip: "10.0.1.7",
      eniId: "eni-aaaa",
      name: "web-0",
    });
    expect(await w.cni.del({ network: "vpccni", containerId: "c1", ifname: "eth0" })).toEqual({ released: "10.0.1.7" });
    expect(await w.cni.del({ network: "vpccni", containerId: "c1", ifname: "eth0" })).toEqual({});
    // The record's IP: the route and rules go by it (the from-pod rule whatever its table).
    expect(w.unwired.map((u) => u.ip)).toEqual(["10.0.1.7", undefined]);
    expect(w.store.fixedAttachments()).toEqual([]);
  });

  test("ADD waits for the controller: the claim is read every 250 ms until it is Bound here", async () => {
    let reads = 0;
    const w = world({
      claim: () => (++reads < 4 ? { spec: {}, status: { phase: "Pending" } } : { spec: {}, status: BOUND }),
    });
    expect((await w.cni.add(add)).ip).toBe("10.0.1.7");
    expect(w.reads()).toBe(4);
    expect(w.clock()).toBe(750);
  });

  test("a claim that never binds here: code 11 after the ADD timeout, naming the claim, the node it is bound to and the controller's word", async () => {
    const w = world({ claim: () => ({ spec: {}, status: { ...BOUND, node: "node2", message: "moving" } }) });
    const e = await failure(w.cni.add(add));
    expect(e).toBeInstanceOf(CniError);
    expect(e!.code).toBe(CniCode.TryAgainLater);
    expect(e!.message).toBe(
      "no fixed IP for pod default/web-0 on node node1 after 2s: VpcIPClaim default/web-0 is bound to node node2, not node1; the controller says: moving; the cluster controller assigns it, the runtime retries the ADD",
    );
    expect(w.clock()).toBeLessThanOrEqual(2_000);
    expect(w.wired).toEqual([]);
    expect(w.store.fixedAttachments()).toEqual([]);
  });

  test("the pod's uid from CNI_ARGS must be the claim's", async () => {
    const w = world({ claim: () => ({ spec: {}, status: { ...BOUND, podUID: "u-old" } }) });
    const e = await failure(w.cni.add({ ...add, podUid: "u-new" }));
    expect(e!.code).toBe(11);
    expect(e!.message).toContain("holds 10.0.1.7 for pod uid u-old, not this pod's u-new");
  });

  test("an ADD without the pod's name: code 4, no wait", async () => {
    const w = world();
    const e = await failure(w.cni.add({ ...add, podName: undefined }));
    expect(e!.code).toBe(CniCode.InvalidEnvironment);
    expect(w.reads()).toBe(0);
  });

  test("switched off: a new pod is refused with 104 at once; a wired one's repeated ADD still answers", async () => {
    let off: string | null = null;
    const w = world({ off: () => off });
    await w.cni.add(add);
    off = "vpccni is being switched off: policy p sets spec.enabled: false";
    const reads = w.reads();
    const e = await failure(w.cni.add({ ...add, containerId: "c2" }));
    expect(e!.code).toBe(104);
    expect(e!.message).toBe("no IP for default/web-0: vpccni is being switched off: policy p sets spec.enabled: false");
    expect(w.reads()).toBe(reads);
    expect((await w.cni.add(add)).ip).toBe("10.0.1.7");
    expect(await w.cni.status({ network: "vpccni" })).toEqual({ ready: false, idleIps: 0, message: off });
  });

  test("a new sandbox of the same pod takes the address from an earlier attachment whose DEL never came", async () => {
    const w = world();
    await w.cni.add(add);
    await w.cni.add({ ...add, containerId: "c2", netns: "/run/netns/p2" });
    expect(w.unwired.map((u) => [u.key.containerId, u.ip])).toEqual([["c1", "10.0.1.7"]]);
    expect(w.store.fixedAttachments().map((a) => a.key)).toEqual(["vpccni/c2/eth0"]);
  });

  test("CHECK compares with the record; GC unwires attachments the runtime no longer lists", async () => {
    const w = world();
    await w.cni.add(add);
    expect(await w.cni.check({ ...add, ip: "10.0.1.7" })).toEqual({ ok: true });
    expect((await failure(w.cni.check({ ...add, ip: "10.0.1.8" })))!.code).toBe(CniCode.CheckFailed);
    expect((await failure(w.cni.check({ ...add, containerId: "c9" })))!.code).toBe(CniCode.UnknownContainer);
    expect(await w.cni.gc({ network: "vpccni", validAttachments: [{ containerId: "c1", ifname: "eth0" }] })).toEqual({
      released: [],
    });
    expect(await w.cni.gc({ network: "vpccni", validAttachments: [] })).toEqual({
      released: [{ containerId: "c1", ifname: "eth0", ip: "10.0.1.7" }],
    });
    expect(w.store.fixedAttachments()).toEqual([]);
  });

  test("OWNER: an attachment it holds is vpccni's; another pod is what the opt-in says (mixed mode)", async () => {
    const w = world();
    const asked: string[] = [];
    const cni = fixedCniApi({
      ...w.deps,
      optIn: (req) => {
        asked.push(`${req.podNamespace}/${req.podName}`);
        return { owner: "delegate", reason: "not annotated" };
      },
    });
    await cni.add(add);
    const ref = { network: "vpccni", containerId: "c1", ifname: "eth0", podNamespace: "default", podName: "web-0" };
    expect(await cni.owner(ref)).toEqual({ owner: "vpccni", reason: "the agent holds this attachment" });
    expect(await cni.owner({ ...ref, containerId: "c2", podName: "other" })).toEqual({
      owner: "delegate",
      reason: "not annotated",
    });
    expect(asked).toEqual(["default/other"]);
  });

  test("STATUS: ready once the node's ENI is bound; else the controller's message", async () => {
    expect(await world().cni.status({ network: "vpccni" })).toEqual({ ready: true, idleIps: 0 });
    const waiting = world({ eni: { ready: false, quota: 0, message: "no subnet fits" } });
    expect(await waiting.cni.status({ network: "vpccni" })).toEqual({
      ready: false,
      idleIps: 0,
      message: "no subnet fits",
    });
  });
});
