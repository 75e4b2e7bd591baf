// Fixed IP mode end to end, every part real: two `vpccni controller` processes electing a leader
// on a Lease of a real kube-apiserver, the cloud emulator through the real SDK, a `vpccni agent`
// per netns node, pods wired by the compiled CNI binary through cnitool. A StatefulSet-style
// delete and re-create keeps the pod's address across nodes, and packets reach it there; the
// leader killed with -9 in the middle of assigning addresses loses and duplicates nothing: the
// standby takes over within 15 s, replays the journal, and every pod gets a distinct address
// that the cloud holds on the node's ENI.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LAYOUT } from "../../sandbox/emulated-cloud.ts";
import { EmulatedCluster, type EmulatedNode, waitFor } from "../../sandbox/emulated-cluster.ts";
import { useSharedCluster } from "../harness/shared-apiserver-kit.ts";
import { FixedControllers } from "../../sandbox/fixed-controllers.ts";

const RUN = Date.now().toString(36).slice(-5);
const NS = `fixed-ctl-${RUN}`;
const SUITE = { "vpccni-test/suite": `fixed-${RUN}` };
const WEBHOOK = `vpccni-eni-ip-${RUN}`;

describe("fixed IP mode: controllers, agents and the CNI plugin on real parts", () => {
  // registered before the shared cluster's own afterAll, so that it runs while the cluster is up
  afterAll(async () => {
    await kit.tearDown(world?.cluster?.admin);
    await world?.stop();
  }, 60_000);
  const cluster = useSharedCluster();
  let world: EmulatedCluster;
  const kit = new FixedControllers({ namespace: NS, webhook: WEBHOOK }, () => cluster().admin);
  const node = (i: number) => world.nodes[i] as EmulatedNode;
  const claim = (name: string) => kit.claim(name);
  const podName = (base: string) => `${base}-${RUN}`;
  const addPod = (n: EmulatedNode, name: string) => kit.addPod(n, name);
  const removePod = (n: EmulatedNode, name: string) => kit.removePod(n, name);
  const ping = async (from: EmulatedNode, pod: string, to: string) => {
    const src = from.pods.get(pod);
    if (!src) throw new Error(`no pod ${pod} on ${from.name}`);
    const r = await world.bed.exec(src.pod.ns, ["ping", "-n", "-q", "-c", "1", "-W", "2", to]);
    expect(r.code, `${src.ip} -> ${to}: ${r.stdout}${r.stderr}`).toBe(0);
  };

  beforeAll(async () => {
    await kit.setUp();
    world = await EmulatedCluster.start({
      nodes: 2,
      cluster: cluster(),
      nodePrefix: `fxm${RUN}-`,
      nodeLabels: SUITE,
      // one subnet: both node ENIs in it, so an address may move between them
      spec: {
        ipMode: "fixed",
        subnets: [LAYOUT.podSubnets[0]],
        fixedIp: { reclaim: "Never" },
        nodeSelector: SUITE,
      },
      // the ADD waits for the controller: long enough for a standby to take over
      agentArgs: ["--add-timeout", "40s"],
    });
    kit.world = world;
    kit.startController("ctl-a");
    await waitFor("ctl-a to lead", async () => (await kit.leader()) === "ctl-a", 30_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${kit.controllerLog("ctl-a")}`);
    });
    kit.startController("ctl-b");
    await Promise.all(world.nodes.map((n) => n.startAgent()));
    await waitFor(
      "both node ENIs bound",
      async () => (await Promise.all(world.nodes.map((n) => kit.nodeEniConfig(n)))).every((c) => c?.status?.eniId),
      60_000,
    );
  }, 180_000);

  test("a StatefulSet pod deleted and created again on another node keeps its address, and is reachable there", async () => {
    const web0 = podName("web-0");
    const web1 = podName("web-1");
    const first = await addPod(node(0), web0);
    const other = await addPod(node(1), web1);
    expect(first.ip).not.toBe(other.ip);
    expect((await claim(web0))?.status?.address).toBe(first.ip);
    await ping(node(1), web1, first.ip);
    await ping(node(0), web0, other.ip);
    // the pod goes (DEL, then the object), and comes back with the same name on node 2
    await removePod(node(0), web0);
    await waitFor("the claim kept", async () => (await claim(web0))?.status?.phase === "Kept");
    const again = await addPod(node(1), web0);
    expect(again.ip).toBe(first.ip);
    const moved = await claim(web0);
    expect([moved?.status?.phase, moved?.status?.node]).toEqual(["Bound", node(1).name]);
    // the cloud moved it: on node 2's ENI, no longer on node 1's
    expect((await node(1).cloud()).ips).toContain(first.ip);
    expect((await node(0).cloud()).ips).not.toContain(first.ip);
    // packets reach it on its new node, from a pod on the old one
    const probe = podName("probe-0");
    await addPod(node(0), probe);
    await ping(node(0), probe, first.ip);
  });

  test("kill -9 of the leader while it assigns: the standby takes over within 15 s, every pod gets a distinct address, nothing leaks", async () => {
    const before = await kit.leader();
    const standby = before === "ctl-a" ? "ctl-b" : "ctl-a";
    const names = Array.from({ length: 8 }, (_, i) => podName(`burst-${i}`));
    // the ADDs wait for their claims; the leader dies in the middle of serving them
    const adds = names.map((name, i) => addPod(node(i % 2), name));
    await waitFor(
      "the leader to have started on the burst",
      async () => (await Promise.all(names.map(claim))).some((c) => c?.status?.address !== undefined),
      30_000,
    );
    const killedAt = Date.now();
    await kit.stopController(before, "SIGKILL");
    await waitFor("the standby to lead", async () => (await kit.leader()) === standby, 20_000);
    const takeover = Date.now() - killedAt;
    expect(takeover).toBeLessThanOrEqual(15_000);
    const wired = await Promise.all(adds);
    const ips = wired.map((w) => w.ip);
    expect(new Set(ips).size).toBe(names.length);
    const claims = await Promise.all(names.map(claim));
    expect(claims.map((c) => c?.status?.address)).toEqual(ips);
    expect(claims.every((c) => c?.status?.phase === "Bound" && c.status.pending === undefined)).toBe(true);
    // the cloud: each address once, on the ENI of the node its pod runs on; no other ENI made
    const [cloud0, cloud1] = [await node(0).cloud(), await node(1).cloud()];
    for (const [i, ip] of ips.entries()) expect((i % 2 ? cloud1 : cloud0).ips).toContain(ip);
    const all = [...cloud0.ips, ...cloud1.ips];
    expect(all.length).toBe(new Set(all).size);
    expect([cloud0.enis.length, cloud1.enis.length]).toEqual([1, 1]);
    expect([...cloud0.unattachedTagged, ...cloud1.unattachedTagged]).toEqual([]);
    // a packet to one of them
    await ping(node(0), podName("burst-0"), ips[1] as string);
  });
});
