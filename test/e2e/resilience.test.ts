// The agent under the failures its peers' users report: a policy that lowers limits, a
// kill -9 in the middle of a burst, and a cloud that throttles and fails one call in five.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { policyYaml, waitFor, EmulatedCluster, type EmulatedNode } from "../../sandbox/emulated-cluster.ts";

/** Pool and cloud agree: same ENIs, as many bound IPs as the cloud lists, nothing leaked. */
async function expectNoLeak(node: EmulatedNode): Promise<void> {
  await waitFor(`${node.name} to settle`, async () => (await node.view()).summary.inflight === 0, 90_000);
  const [view, cloud] = [await node.view(), await node.cloud()];
  expect(view.enis.map((e) => e.id).sort()).toEqual(cloud.enis);
  expect(view.summary.bound).toBe(cloud.ips.length);
  expect(cloud.unattachedTagged).toEqual([]);
  const podIps = view.pods.map((p) => p.ip);
  expect(new Set(podIps).size).toBe(podIps.length);
  for (const ip of podIps) expect(cloud.ips).toContain(ip);
}

async function pingAll(world: EmulatedCluster, node: EmulatedNode): Promise<void> {
  const pods = [...node.pods.values()];
  const from = pods[0]!;
  for (const to of pods.slice(1)) {
    const r = await world.bed.exec(from.pod.ns, ["ping", "-n", "-q", "-c", "1", "-W", "2", to.ip]);
    expect(r.code, `${from.ip} -> ${to.ip}: ${r.stdout}${r.stderr}`).toBe(0);
  }
}

describe("node agent under failure", () => {
  let world: EmulatedCluster;
  beforeAll(async () => {
    world = await EmulatedCluster.start({
      nodes: 2,
      spec: { prebind: { min: 2, max: 4 }, releaseInterval: "10m", ipCooldown: "0s" },
    });
    await Promise.all(world.nodes.map((n) => n.startAgent()));
  }, 120_000);
  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  test("a policy that lowers the limits is applied live and surplus IPs go at once, not on the timer", async () => {
    const n2 = world.nodes[1]!;
    for (let i = 0; i < 12; i++) await n2.addPod(`w${i}`);
    await waitFor("the pool to settle", async () => (await n2.view()).summary.inflight === 0);
    for (let i = 0; i < 10; i++) await n2.delPod(`w${i}`);
    expect((await n2.view()).summary.bound).toBeGreaterThan(10);
    // releaseInterval is 10m: only the lowered limit can explain a release within this test.
    n2.writePolicy(
      policyYaml("e2e", {
        prebind: { min: 2, max: 4 },
        releaseInterval: "10m",
        ipCooldown: "0s",
        limits: { maxEnisPerNode: 1, ipsPerEni: 6 },
      }),
    );
    await waitFor(
      "bound to drop to the new maxBindable",
      async () => {
        const v = await n2.view();
        return v.summary.maxBindable === 6 && v.summary.bound <= 6 && v.summary.inflight === 0;
      },
      30_000,
    );
    await expectNoLeak(n2);
    await pingAll(world, n2);
  });

  test("kill -9 during a burst, then restart: no duplicate IP, no leaked IP or ENI, pods still reach each other", async () => {
    const n1 = world.nodes[0]!;
    const sandboxes = await Promise.all(Array.from({ length: 16 }, (_, i) => n1.newPodNamespace(`k${i}`)));
    const burst = sandboxes.map((ns, i) =>
      n1.addPod(`k${i}`, ns).then(
        () => true,
        () => false,
      ),
    );
    // Kill while the burst is in flight: after a few pods have their IP, before all do.
    await waitFor("a few pods to be wired", () => n1.pods.size >= 3, 30_000);
    expect(await n1.stopAgent("SIGKILL")).not.toBe(0);
    const done = await Promise.all(burst);
    await n1.startAgent();
    // Like a container runtime: DEL after a failed ADD (the agent may have wired the pod and
    // died before answering), then ADD again into the same sandbox.
    const failed = done.flatMap((ok, i) => (ok ? [] : [i]));
    expect(failed.length).toBe(16 - n1.pods.size);
    for (const i of failed) {
      await n1.del(`k${i}`, sandboxes[i]!);
      await n1.addPod(`k${i}`, sandboxes[i]!);
    }
    expect(n1.pods.size).toBe(16);
    const ips = [...n1.pods.values()].map((p) => p.ip);
    expect(new Set(ips).size).toBe(16);
    await expectNoLeak(n1);
    const view = await n1.view();
    expect(view.summary.pods).toBe(16);
    await pingAll(world, n1);
  }, 120_000);

  test("20% injected InternalError and throttling: the pool converges, every pod gets a unique IP", async () => {
    const n2 = world.nodes[1]!;
    n2.writePolicy(policyYaml("e2e", { prebind: { min: 2, max: 4 }, releaseInterval: "10m", ipCooldown: "0s" }));
    await waitFor("the limits to be lifted", async () => (await n2.view()).summary.maxBindable === 30);
    world.emulator.admin.setFaults({
      "*": { errorRate: 0.2, errorCode: "InternalError", errorPhase: "either", qps: 20 },
    });
    try {
      for (let i = 0; i < 14; i++) await n2.addPod(`f${i}`);
    } finally {
      world.emulator.admin.setFaults({});
    }
    // Failed calls leave the pool in back-off for a while; converged means the rules hold again.
    await waitFor(
      "the pool to converge to pods + min .. pods + max",
      async () => {
        const { summary: s } = await n2.view();
        return s.inflight === 0 && s.bound >= Math.min(s.pods + s.waiting + 2, 30) && s.bound <= s.pods + s.waiting + 4;
      },
      90_000,
    );
    await expectNoLeak(n2);
    await pingAll(world, n2);
  }, 120_000);
});

describe("a subnet removed from a live policy", () => {
  let world: EmulatedCluster;
  beforeAll(async () => {
    world = await EmulatedCluster.start({
      nodes: 1,
      spec: { prebind: { min: 2, max: 4 }, releaseInterval: "10m", ipCooldown: "0s" },
    });
    await world.nodes[0]!.startAgent();
  }, 120_000);
  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  test("keeps its pods wired and its ENIs managed; new ENIs go to the subnets still listed", async () => {
    const n1 = world.nodes[0]!;
    for (let i = 0; i < 3; i++) await n1.addPod(`s${i}`);
    const before = await n1.view();
    expect(before.enis.map((e) => e.subnet)).toEqual(["subnet-pods0001"]);
    n1.writePolicy(
      policyYaml("e2e", {
        subnets: ["subnet-pods0002"],
        prebind: { min: 2, max: 4 },
        releaseInterval: "10m",
        ipCooldown: "0s",
      }),
    );
    // More pods than the old ENI can hold: the pool must grow into the listed subnet only.
    for (let i = 3; i < 12; i++) await n1.addPod(`s${i}`);
    await waitFor("the pool to settle", async () => (await n1.view()).summary.inflight === 0, 90_000);
    const after = await n1.view();
    expect(after.enis.find((e) => e.id === before.enis[0]!.id)).toBeDefined();
    // How many new ENIs the growth takes is the pool's business; where they go is the rule.
    const added = after.enis.filter((e) => e.id !== before.enis[0]!.id).map((e) => e.subnet);
    expect(added.length).toBeGreaterThan(0);
    expect(new Set(added)).toEqual(new Set(["subnet-pods0002"]));
    // Through the repair loop and a restart (which re-reads the cloud), the first pods keep working.
    await Bun.sleep(6_000); // longer than the 5 s repair period: a wrong repair would have run
    await n1.stopAgent("SIGTERM");
    await n1.startAgent();
    await expectNoLeak(n1);
    await pingAll(world, n1);
    const [first] = [...n1.pods.values()];
    expect((await n1.view()).pods.map((p) => p.ip)).toContain(first!.ip);
  }, 180_000);
});
