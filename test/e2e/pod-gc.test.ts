// Pods gone without a DEL, end to end on real parts and without Kubernetes (--no-kube): the real
// agent, the compiled plugin through cnitool, test-bed netns as pods. A pod whose netns the
// runtime removed (and whose DEL never came) gets its IP freed from the node alone, while
// the agent runs and across a restart; a live pod keeps its IP.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { EmulatedCluster, type EmulatedNode, waitFor } from "../../sandbox/emulated-cluster.ts";

const FREED = "freed the IP of a pod that is gone: its netns no longer exists";

describe("pod GC from netns paths, no API server", () => {
  let world: EmulatedCluster;
  let node: EmulatedNode;

  beforeAll(async () => {
    world = await EmulatedCluster.start({
      nodes: 1,
      spec: { prebind: { min: 2, max: 4 }, ipCooldown: "0s" },
      // grace = the plugin's timeout (add timeout + 5 s): 7 s here; a look every second
      agentArgs: ["--pod-gc-interval", "1s", "--add-timeout", "2s"],
    });
    node = world.nodes[0]!;
    await node.startAgent();
  }, 120_000);
  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  const held = async () => (await node.view()).pods.map((p) => p.ip).sort();

  test("a pod whose netns is gone without a DEL: its IP back in the pool within the grace period and two looks", async () => {
    const gone = await node.addPod("gone");
    const live = await node.addPod("live");
    expect(await held()).toEqual([gone.ip, live.ip].sort());
    const started = Date.now();
    await world.bed.removePod(gone.pod); // the sandbox went; its DEL never reached the agent
    await waitFor("the gone pod's IP to be freed", async () => !(await held()).includes(gone.ip), 30_000);
    expect(Date.now() - started).toBeGreaterThan(1_000); // not at the first look
    expect(await held()).toEqual([live.ip]);
    expect((await node.view()).summary.pods).toBe(1);
    const freed = node
      .agentLog()
      .split("\n")
      .filter((l) => l.includes(FREED))
      .map((l) => JSON.parse(l));
    expect(freed.map((f) => [f.pod, f.ip, f.netns])).toEqual([["default/gone", gone.ip, gone.pod.path]]);
    // the pod's host side is gone too: no route to its IP in the node namespace
    expect(await world.bed.ip(node.ns.ns, "-4", "route", "show", `${gone.ip}/32`)).toBe("");
  }, 60_000);

  test("a netns removed while the agent was down is freed after the restart; the live pod keeps its IP", async () => {
    const later = await node.addPod("later");
    const live = node.pods.get("live")!;
    await node.stopAgent();
    await world.bed.removePod(later.pod);
    await node.startAgent();
    await waitFor(
      "the IP of the pod gone meanwhile to be freed",
      async () => !(await held()).includes(later.ip),
      30_000,
    );
    expect(await held()).toEqual([live.ip]);
    expect(node.agentLog()).toContain(`"pod":"default/later"`);
  }, 60_000);
});
